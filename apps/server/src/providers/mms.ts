/**
 * Which sends can be MMS. All three providers carry MMS only on North American numbers (Vonage and
 * Plivo: US/Canada long codes, toll-free and short codes; Sinch's SMS API: US, Canada, Australia, Puerto Rico),
 * both ends. Checked before a message is queued, so an agent learns at once, not from a failed send.
 */
import type { ProviderName } from '@parley/shared';
import type { MediaAuth } from '../media/fetcher';

const NANP = /^\+1\d{10}$/;
const AU = /^\+61\d{9}$/;

function mmsRegion(provider: ProviderName, number: string): boolean {
  return NANP.test(number) || (provider === 'sinch' && AU.test(number));
}

/** Why this provider cannot send an MMS from `from` to `to` (null: it can). */
export function mmsRefusal(provider: ProviderName, from: string, to: string): string | null {
  const where = provider === 'sinch' ? 'US, Canadian or Australian' : 'US or Canadian';
  if (!mmsRegion(provider, from)) return `${from} cannot send MMS: ${provider} sends MMS only from ${where} numbers`;
  if (!mmsRegion(provider, to)) return `${to} cannot receive MMS from ${provider}: MMS goes only to ${where} numbers`;
  return null;
}

/** Download credentials for URLs on one of `origins` only (anything else gets no credentials). */
export function mediaAuthFor(
  origins: readonly string[] | ((url: URL) => boolean),
  headers: () => Promise<Record<string, string>> | Record<string, string>,
): MediaAuth {
  const matches = typeof origins === 'function' ? origins : (url: URL) => origins.includes(url.origin);
  return (url) => (matches(url) ? headers() : {});
}
