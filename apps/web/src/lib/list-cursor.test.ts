import { describe, expect, it } from 'vitest';
import { stepCursor } from './list-cursor';

const items = [{ id: 10 }, { id: 20 }, { id: 30 }];

describe('stepCursor', () => {
  it('starts at the top', () => {
    expect(stepCursor(items, null, 1)).toBe(0);
    expect(stepCursor(items, null, -1)).toBe(0);
  });
  it('moves one step and stops at either end', () => {
    expect(stepCursor(items, 10, 1)).toBe(1);
    expect(stepCursor(items, 20, -1)).toBe(0);
    expect(stepCursor(items, 30, 1)).toBe(2);
    expect(stepCursor(items, 10, -1)).toBe(0);
  });
  it('goes on from where a conversation that left the list was', () => {
    // 20 was at index 1 and was closed: 30 took its place.
    const left = [{ id: 10 }, { id: 30 }];
    expect(stepCursor(left, 20, 1, 1)).toBe(1);
    expect(stepCursor(left, 20, -1, 1)).toBe(0);
    // It was the last one.
    expect(stepCursor(left, 40, 1, 2)).toBe(1);
  });
  it('has nowhere to go in an empty list', () => {
    expect(stepCursor([], 10, 1, 0)).toBeNull();
  });
});
