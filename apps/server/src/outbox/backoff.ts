import type { ProviderFailure } from '../providers/types';

export interface BackoffOptions {
  /** First retry waits up to this long (default 1 s). */
  baseMs?: number;
  /** No retry waits longer than this, Retry-After aside (default 5 min). */
  capMs?: number;
  /** [0, 1) source; injectable for tests. */
  random?: () => number;
}

export const DEFAULT_BACKOFF = { baseMs: 1_000, capMs: 5 * 60_000 } as const;

/**
 * Delay before retry number `attempt` (1 = first retry): exponential with full jitter,
 * uniform in [0, min(cap, base·2^(attempt-1))). A provider's Retry-After wins when it is longer.
 */
export function retryDelayMs(attempt: number, opts: BackoffOptions = {}, retryAfterMs?: number): number {
  const base = opts.baseMs ?? DEFAULT_BACKOFF.baseMs;
  const cap = opts.capMs ?? DEFAULT_BACKOFF.capMs;
  const random = opts.random ?? Math.random;
  const ceiling = Math.min(cap, base * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.floor(random() * ceiling);
  return Math.max(jittered, retryAfterMs ?? 0);
}

/**
 * What a failed send means for the message:
 * - `retry`: the provider did not take it, or said to try again (429, 5xx, Vonage 1000, connection
 *   refused / DNS — nothing reached the provider);
 * - `unknown`: the request may have reached the provider (a timeout, or the connection dropped after
 *   the request was written). Vonage does not deduplicate, so resending could text the contact twice:
 *   the message becomes `interrupted` and a later status webhook (found by client_ref) settles it;
 *   A 2xx without a message id (`invalid_response`) is treated the same way;
 * - `fail`: it never will succeed (4xx, invalid number, credentials…).
 */
export type FailureVerdict = 'retry' | 'unknown' | 'fail';

/** Error codes (Node / undici / node-fetch) that mean the connection was never made. */
const NOT_SENT =
  /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EADDRNOTAVAIL|UND_ERR_CONNECT_TIMEOUT|CERT_[A-Z_]+|ERR_TLS_CERT_[A-Z_]+)\b|\bconnect ETIMEDOUT\b/;

export function classifyFailure(failure: ProviderFailure): FailureVerdict {
  // Accepted (2xx) without an id: it was sent; the status webhook settles it through client_ref.
  if (failure.code === 'invalid_response') return 'unknown';
  if (failure.code === 'network') {
    // Forward-compatible: a provider that knows whether the request left may say so explicitly.
    if (failure.requestSent === false) return 'retry';
    if (failure.requestSent === true) return 'unknown';
    // providers/vonage.ts keeps the transport error's message in `detail` for connection failures
    // ("… reason: connect ECONNREFUSED 127.0.0.1:9"); a timeout has no detail, a reset says
    // "socket hang up" / ECONNRESET. Only a failure to connect proves nothing was sent.
    return failure.detail !== undefined && NOT_SENT.test(failure.detail) ? 'retry' : 'unknown';
  }
  return failure.retryable ? 'retry' : 'fail';
}

/** Error detail for the message row: the provider's detail plus any invalid parameters. */
export function failureDetail(failure: ProviderFailure): string | null {
  const params = failure.invalidParameters?.map((p) => `${p.name}: ${p.reason}`).join('; ');
  const parts = [failure.detail, params ? `invalid parameters: ${params}` : undefined].filter(
    (p): p is string => p !== undefined && p !== '',
  );
  return parts.length > 0 ? parts.join(' — ') : null;
}
