import { describe, expect, it } from 'vitest';
import { chartPoints, formatDuration, formatRate, periodInput } from './stats';

describe('stats formatting', () => {
  it.each([
    [null, '—'],
    [850, '850 ms'],
    [4_240, '4.2 s'],
    [42_000, '42 s'],
    [200_000, '3 min 20 s'],
    [180_000, '3 min'],
    [7_500_000, '2 h 5 min'],
  ])('formatDuration(%s) = %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('formats rates as percentages', () => {
    expect(formatRate(null)).toBe('—');
    expect(formatRate(1)).toBe('100%');
    expect(formatRate(0.975)).toBe('97.5%');
  });

  it('asks for hours over a day and days over a week or a month', () => {
    const now = Date.UTC(2025, 2, 10, 12);
    expect(periodInput('24h', now)).toEqual({ since: '2025-03-09T12:00:00.000Z', bucket: 'hour' });
    expect(periodInput('7d', now)).toEqual({ since: '2025-03-03T12:00:00.000Z', bucket: 'day' });
    expect(periodInput('30d', now).bucket).toBe('day');
  });

  it('computes each bucket’s delivery rate, leaving a gap where nothing settled', () => {
    const points = chartPoints(
      [
        { start: '2025-03-10T10:00:00.000Z', inbound: 2, outbound: 4, delivered: 3, failed: 1 },
        { start: '2025-03-10T11:00:00.000Z', inbound: 1, outbound: 0, delivered: 0, failed: 0 },
      ],
      'hour',
    );
    expect(points.map((p) => p.rate)).toEqual([75, null]);
    expect(points[0]?.outbound).toBe(4);
  });
});
