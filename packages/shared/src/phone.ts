/**
 * Phone numbers: E.164 with '+' everywhere inside Parley; Vonage's digits-only
 * form only at its edges. Validation uses libphonenumber-js's *possible-number*
 * rules (country code and length), never isValid(), which rejects the
 * fictional ranges used in tests and docs (+44 7700 900xxx, +1 415 555 01xx).
 */
import { parsePhoneNumberWithError, validatePhoneNumberLength, ParseError } from 'libphonenumber-js';
import type { CountryCode } from 'libphonenumber-js';
import { z } from 'zod';

export type NormalizePhoneResult = { ok: true; e164: string } | { ok: false; reason: string };

const REASONS: Record<string, string> = {
  NOT_A_NUMBER: 'Not a phone number',
  TOO_SHORT: 'Number is too short',
  TOO_LONG: 'Number is too long',
  INVALID_LENGTH: 'Number has the wrong length for its country',
  INVALID_COUNTRY: 'Unknown country code',
};

function reasonFor(code: string | undefined, international: boolean): string {
  if (code === 'INVALID_COUNTRY' && !international) return 'Missing country code (start with +)';
  return (code !== undefined ? REASONS[code] : undefined) ?? 'Not a phone number';
}

/** Rewrites '00…' to '+…', and a bare digit string with no default country to '+digits'. */
function prepare(input: string, defaultCountry: CountryCode | undefined): string {
  const compact = input.replace(/[\s().-]/g, '');
  if (/^00\d/.test(compact)) return `+${compact.slice(2)}`;
  if (defaultCountry === undefined && /^\d+$/.test(input.replace(/\s/g, ''))) return `+${compact}`;
  return input;
}

export function normalizePhone(input: string, defaultCountry?: CountryCode): NormalizePhoneResult {
  const trimmed = input.trim();
  if (trimmed === '') return { ok: false, reason: 'Phone number is empty' };
  const candidate = prepare(trimmed, defaultCountry);
  const international = candidate.startsWith('+');
  try {
    const parsed = parsePhoneNumberWithError(candidate, { defaultCountry, extract: false });
    if (parsed.ext !== undefined) return { ok: false, reason: 'Extensions are not supported' };
    if (!parsed.isPossible()) {
      return { ok: false, reason: reasonFor(validatePhoneNumberLength(candidate, { defaultCountry }), international) };
    }
    return { ok: true, e164: parsed.number };
  } catch (error) {
    if (error instanceof ParseError) return { ok: false, reason: reasonFor(error.message, international) };
    return { ok: false, reason: 'Not a phone number' };
  }
}

/** Normalizes to E.164 or throws an Error whose message is the reason. */
export function toE164(input: string): string {
  const result = normalizePhone(input);
  if (!result.ok) throw new Error(result.reason);
  return result.e164;
}

/**
 * A provider's digits form ('447700900001': Vonage, Plivo, Sinch) to E.164 ('+447700900001'). Lenient: it
 * never rejects an inbound sender. A value that already has '+' keeps it;
 * spaces are stripped; an alphanumeric sender id ('Vonage') is returned unchanged.
 */
export function fromProviderNumber(digits: string): string {
  const compact = digits.replace(/\s/g, '');
  if (!/^\+?\d+$/.test(compact)) return digits;
  return compact.startsWith('+') ? compact : `+${compact}`;
}

/** E.164 ('+447700900001') to the digits form providers use ('447700900001': Vonage, Sinch). */
export function toProviderNumber(e164: string): string {
  return e164.trim().replace(/^\+/, '');
}

/** A string that must be a possible phone number; outputs its E.164 form. */
export const e164Schema = /* @__PURE__ */ z.string().transform((input, ctx) => {
  const result = normalizePhone(input);
  if (!result.ok) {
    ctx.addIssue({ code: 'custom', message: result.reason, input });
    return z.NEVER;
  }
  return result.e164;
});
