import { describe, it, expect } from 'vitest';
import { e164Schema, fromProviderNumber, normalizePhone, toE164, toProviderNumber } from './phone';

describe('normalizePhone: accepted forms', () => {
  it.each([
    ['+447700900001', undefined, '+447700900001'],
    ['+44 7700 900001', undefined, '+447700900001'],
    ['  +44 7700-900001  ', undefined, '+447700900001'],
    ['+44 (0) 7700 900001', undefined, '+447700900001'],
    ['447700900001', undefined, '+447700900001'],
    ['44 7700 900001', undefined, '+447700900001'],
    ['00447700900001', undefined, '+447700900001'],
    ['00 44 7700 900001', undefined, '+447700900001'],
    ['00447700900001', 'GB', '+447700900001'],
    ['07700 900001', 'GB', '+447700900001'],
    ['+14155550101', undefined, '+14155550101'],
    ['14155550101', undefined, '+14155550101'],
    ['(415) 555-0101', 'US', '+14155550101'],
    ['415.555.0101', 'US', '+14155550101'],
    ['+1 (415) 555-0101', 'GB', '+14155550101'],
    ['+33 6 12 34 56 78', undefined, '+33612345678'],
    ['+49 30 123456', undefined, '+4930123456'],
    ['+86 138 0013 8000', undefined, '+8613800138000'],
  ] as const)('%j (default %s) → %s', (input, country, e164) => {
    expect(normalizePhone(input, country)).toEqual({ ok: true, e164 });
  });

  it('accepts the fictional test ranges that isValid() would reject', () => {
    for (let n = 0; n <= 999; n += 111) {
      const e164 = `+447700900${String(n).padStart(3, '0')}`;
      expect(normalizePhone(e164)).toEqual({ ok: true, e164 });
    }
    for (let n = 100; n <= 199; n += 11) {
      const e164 = `+1415555${String(n).padStart(4, '0')}`;
      expect(normalizePhone(e164)).toEqual({ ok: true, e164 });
    }
  });
});

describe('normalizePhone: rejected input', () => {
  it.each([
    ['', 'Phone number is empty'],
    ['   ', 'Phone number is empty'],
    ['hello', 'Not a phone number'],
    ['+', 'Not a phone number'],
    ['call +44 7700 900001 now', 'Not a phone number'],
    ['+44 7700 90000x', 'Not a phone number'],
    ['+999 123456789', 'Unknown country code'],
    ['+1', 'Number is too short'],
    ['+12', 'Number is too short'],
    ['+44770090', 'Number is too short'],
    ['+4477009000011', 'Number is too long'],
    ['+123456789012345678901', 'Number is too long'],
    ['(415) 555-0101', 'Missing country code (start with +)'],
    ['+44 7700 900001 ext. 5', 'Extensions are not supported'],
  ])('%j → %s', (input, reason) => {
    expect(normalizePhone(input)).toEqual({ ok: false, reason });
  });

  it('rejects a national number that is too short for the default country', () => {
    expect(normalizePhone('555 0101', 'US')).toEqual({ ok: false, reason: expect.stringMatching(/short|length/) });
  });

  it('always gives a short human-readable reason', () => {
    for (const input of ['abc', '+0', '12', '+44', '+999999999999999999', '+44 7700 900001 900001', '++44']) {
      const result = normalizePhone(input);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason).toMatch(/^[A-Z][a-z ()+]+$/);
    }
  });
});

describe('toE164', () => {
  it('returns the E.164 form', () => {
    expect(toE164('+44 7700 900001')).toBe('+447700900001');
    expect(toE164('447700900001')).toBe('+447700900001');
  });

  it('throws an Error with the reason', () => {
    expect(() => toE164('garbage')).toThrow(new Error('Not a phone number'));
    expect(() => toE164('+44770090')).toThrow('Number is too short');
  });
});

describe('fromProviderNumber', () => {
  it.each([
    ['447700900001', '+447700900001'],
    ['+447700900001', '+447700900001'],
    ['44 7700 900001', '+447700900001'],
    ['14155550101', '+14155550101'],
    ['12', '+12'], // lenient: never rejects an inbound sender
    ['999123456789', '+999123456789'],
    ['Vonage', 'Vonage'],
    ['ACME', 'ACME'],
    ['ACME Ltd', 'ACME Ltd'],
    ['Shop24', 'Shop24'],
    ['', ''],
  ])('%j → %j', (input, output) => {
    expect(fromProviderNumber(input)).toBe(output);
  });
});

describe('toProviderNumber', () => {
  it('strips the +', () => {
    expect(toProviderNumber('+447700900001')).toBe('447700900001');
    expect(toProviderNumber('+14155550101')).toBe('14155550101');
  });

  it('leaves digits and alphanumeric senders alone', () => {
    expect(toProviderNumber('447700900001')).toBe('447700900001');
    expect(toProviderNumber('Parley')).toBe('Parley');
  });

  it('round-trips with fromProviderNumber', () => {
    expect(fromProviderNumber(toProviderNumber('+447700900001'))).toBe('+447700900001');
  });
});

describe('e164Schema', () => {
  it('outputs E.164', () => {
    expect(e164Schema.parse('+44 7700 900001')).toBe('+447700900001');
    expect(e164Schema.parse('00447700900001')).toBe('+447700900001');
  });

  it('fails with the reason as the issue message', () => {
    const result = e164Schema.safeParse('+44770090');
    expect(result.success).toBe(false);
    expect(result.error?.issues).toHaveLength(1);
    expect(result.error?.issues[0]?.message).toBe('Number is too short');
  });

  it('rejects non-strings', () => {
    expect(e164Schema.safeParse(447700900001).success).toBe(false);
    expect(e164Schema.safeParse(undefined).success).toBe(false);
  });

  it('reports the path inside an object', () => {
    const result = e164Schema.array().safeParse(['+447700900001', 'nope']);
    expect(result.error?.issues[0]).toMatchObject({ path: [1], message: 'Not a phone number' });
  });
});
