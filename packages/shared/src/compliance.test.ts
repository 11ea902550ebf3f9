import { describe, expect, it } from 'vitest';
import { addBusinessDays, isOptOutFlagOverdue } from './compliance';

describe('business days', () => {
  it('skips Saturdays and Sundays', () => {
    // Friday 2026-01-02 12:00 UTC + 10 business days = Friday 2026-01-16 12:00 UTC.
    expect(new Date(addBusinessDays(Date.UTC(2026, 0, 2, 12), 10)).toISOString()).toBe('2026-01-16T12:00:00.000Z');
    // Saturday + 1 = Monday; Monday + 5 = the next Monday.
    expect(new Date(addBusinessDays(Date.UTC(2026, 0, 3, 9), 1)).toISOString()).toBe('2026-01-05T09:00:00.000Z');
    expect(new Date(addBusinessDays(Date.UTC(2026, 0, 5, 9), 5)).toISOString()).toBe('2026-01-12T09:00:00.000Z');
  });

  it('a flag is overdue only after its due time', () => {
    const due = '2026-01-16T12:00:00.000Z';
    expect(isOptOutFlagOverdue({ possibleOptOutDueAt: due }, Date.parse(due) - 1)).toBe(false);
    expect(isOptOutFlagOverdue({ possibleOptOutDueAt: due }, Date.parse(due) + 1)).toBe(true);
    expect(isOptOutFlagOverdue({ possibleOptOutDueAt: null }, Date.parse(due) + 1)).toBe(false);
  });
});
