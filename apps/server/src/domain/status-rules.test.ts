import { describe, expect, it } from 'vitest';
import { canTransition, isFinalStatus } from './status-rules';

describe('canTransition', () => {
  it.each([
    ['queued', 'submitted', true],
    ['queued', 'delivered', true],
    ['queued', 'rejected', true],
    ['interrupted', 'submitted', true],
    ['interrupted', 'delivered', true],
    ['submitted', 'delivered', true],
    ['submitted', 'undeliverable', true],
    ['delivered', 'read', true],
    ['submitted', 'submitted', false],
    ['delivered', 'submitted', false],
    ['delivered', 'undeliverable', false],
    ['read', 'delivered', false],
    ['rejected', 'delivered', false],
    ['rejected', 'submitted', false],
    ['undeliverable', 'rejected', false],
    ['failed', 'delivered', false],
    ['submitted', 'queued', false],
    ['submitted', 'interrupted', false],
    ['submitted', 'something-new', false],
  ])('%s → %s: %s', (from, to, expected) => {
    expect(canTransition(from, to)).toBe(expected);
  });

  it('treats delivered, read and failures as final', () => {
    expect(['delivered', 'read', 'rejected', 'undeliverable', 'failed'].every(isFinalStatus)).toBe(true);
    expect(['queued', 'submitted', 'interrupted'].some(isFinalStatus)).toBe(false);
  });
});
