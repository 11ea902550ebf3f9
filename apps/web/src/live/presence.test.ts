import { describe, expect, it } from 'vitest';
import { presenceLabel } from './presence';

const entry = (agentId: number, name: string, typing = false) => ({ agentId, name, conversationId: 1, typing });

describe('presenceLabel', () => {
  it('says who views and who replies, typing first', () => {
    expect(presenceLabel([])).toBeNull();
    expect(presenceLabel([entry(1, 'Ann')])).toBe('Ann is viewing');
    expect(presenceLabel([entry(1, 'Ann'), entry(2, 'Bob')])).toBe('Ann and Bob are viewing');
    expect(presenceLabel([entry(1, 'Ann'), entry(2, 'Bob', true)])).toBe('Bob is replying…');
    expect(presenceLabel([entry(1, 'Ann', true), entry(2, 'Bob', true), entry(3, 'Cy', true), entry(4, 'Di', true)])).toBe(
      'Ann, Bob and 2 more are replying…',
    );
  });
});
