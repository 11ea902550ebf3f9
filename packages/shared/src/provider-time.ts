const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)? ?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * Parses the timestamp shapes providers send (Vonage, Sinch; Plivo's zone-less form) ('2020-01-01T14:00:00.000Z',
 * '2020-01-01 14:00:00+00:00', with or without millis, 'Z' or an offset; no
 * zone means UTC) to ISO-8601 UTC with millis, or null if unrecognised.
 */
export function parseProviderTimestamp(s: string): string | null {
  const m = TIMESTAMP.exec(s.trim());
  if (m === null) return null;
  const [, y, mo, d, h, mi, sec = '0', frac = '', zone = 'Z'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(sec);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;

  let offsetMinutes = 0;
  if (zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const offH = Number(digits.slice(0, 2));
    const offM = Number(digits.slice(2) || '0');
    if (offH > 23 || offM > 59) return null;
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (offH * 60 + offM);
  }

  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null; // e.g. 31 February
  date.setUTCHours(hour, minute, second, Number(frac.padEnd(3, '0').slice(0, 3)));
  return new Date(date.getTime() - offsetMinutes * 60_000).toISOString();
}
