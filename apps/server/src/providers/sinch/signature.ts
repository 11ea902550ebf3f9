/**
 * Sinch SMS callback signing (HMAC, switched on per service plan by the account manager):
 *   signed    = rawBody + "." + nonce + "." + timestamp        (timestamp: Unix seconds)
 *   signature = base64(HMAC-SHA256(key = the secret's UTF-8 bytes, signed))
 * in `x-sinch-webhook-signature`, with `-algorithm` ("HmacSHA256"), `-nonce` and `-timestamp`.
 * The key is the secret string itself, not base64-decoded (unlike Sinch's Voice/Verification signing).
 * See apps/server/test/fixtures/sinch/README.md for what the official SDKs leave out; this verifier does all of it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { NonceStore } from '../../webhooks/nonces';

export const SINCH_SIGNATURE_HEADER = 'x-sinch-webhook-signature';
export const SINCH_ALGORITHM_HEADER = 'x-sinch-webhook-signature-algorithm';
export const SINCH_NONCE_HEADER = 'x-sinch-webhook-signature-nonce';
export const SINCH_TIMESTAMP_HEADER = 'x-sinch-webhook-signature-timestamp';
export const SINCH_ALGORITHM = 'HmacSHA256';
export const SINCH_NONCE_PROVIDER = 'sinch';

/** A type alias, not an interface, so it fits `Record<string, string>` (fetch headers, IncomingHttpHeaders). */
export type SinchSignatureHeaders = {
  [SINCH_SIGNATURE_HEADER]: string;
  [SINCH_ALGORITHM_HEADER]: string;
  [SINCH_NONCE_HEADER]: string;
  [SINCH_TIMESTAMP_HEADER]: string;
};

export type SinchSignatureResult = { ok: true; nonce: string } | { ok: false; status: 401; reason: string };

/** A signature may be at most this far ahead of our clock (clock skew). */
export const MAX_FUTURE_SKEW_S = 5 * 60;
/**
 * A signature may be this old. Whether Sinch re-signs each retry with a fresh timestamp is
 * unconfirmed; if it does not, a retry carries the first attempt's timestamp, and Sinch's last retry
 * comes 81 920 s (~22 h 45 min) after the first failure. A ±5 min window would then refuse (with a
 * 401 Sinch never retries) every report delayed by an outage of ours. So: up to 23 h. It must stay
 * below the nonce store's memory (NONCE_TTL_MS, 24 h; a test holds it there), so that any request inside the window whose nonce was
 * already used is still recognised as a replay.
 */
export const MAX_AGE_S = 23 * 60 * 60;

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A 26-character ULID-like id (10 chars of time, 16 random; Crockford base32), as Sinch's batch ids and nonces. */
export function ulidLike(now = Date.now()): string {
  let time = '';
  let t = Math.floor(now);
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD.charAt(t % 32) + time;
    t = Math.floor(t / 32);
  }
  const random = Array.from(randomBytes(16), (b) => CROCKFORD.charAt(b % 32)).join('');
  return time + random;
}

function mac(rawBody: Buffer | string, nonce: string, timestamp: string, secret: string): Buffer {
  return createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody)
    .update(`.${nonce}.${timestamp}`, 'utf8')
    .digest();
}

/** The four headers Sinch would send with `rawBody` (the sandbox and tests play Sinch with it). */
export function signSinchWebhook(opts: {
  rawBody: Buffer | string;
  secret: string;
  nonce?: string;
  /** Unix seconds; default now. */
  timestamp?: number;
}): SinchSignatureHeaders {
  const nonce = opts.nonce ?? ulidLike();
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  return {
    [SINCH_SIGNATURE_HEADER]: mac(opts.rawBody, nonce, timestamp, opts.secret).toString('base64'),
    [SINCH_ALGORITHM_HEADER]: SINCH_ALGORITHM,
    [SINCH_NONCE_HEADER]: nonce,
    [SINCH_TIMESTAMP_HEADER]: timestamp,
  };
}

const refuse = (reason: string): SinchSignatureResult => ({ ok: false, status: 401, reason });

function single(headers: IncomingHttpHeaders, name: string): string | undefined | 'multiple' {
  const value = headers[name];
  if (Array.isArray(value)) return value.length === 1 ? value[0] : 'multiple';
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * Verifies a signed Sinch callback over the exact raw body bytes. All four headers are required
 * (once a secret is configured an unsigned callback is refused: no silent downgrade), the algorithm
 * must be exactly "HmacSHA256" (the sender does not get to choose the MAC), the MAC is compared in
 * constant time, the timestamp must lie within [now - 23 h, now + 5 min], and the nonce is claimed
 * only after the MAC verifies (so a forger cannot burn nonces); a nonce seen before is a replay.
 */
export async function verifySinchSignature(opts: {
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  secret: string;
  nonces: NonceStore;
  /** Epoch ms; default Date.now(). */
  now?: number;
  /**
   * false: a nonce seen before is still refused, but this one is not recorded: the caller claims it
   * in the transaction that stores what the request carried (so a retry after a failure is not a "replay").
   */
  claim?: boolean;
}): Promise<SinchSignatureResult> {
  const now = opts.now ?? Date.now();
  const values: string[] = [];
  for (const name of [SINCH_SIGNATURE_HEADER, SINCH_ALGORITHM_HEADER, SINCH_NONCE_HEADER, SINCH_TIMESTAMP_HEADER]) {
    const value = single(opts.headers, name);
    if (value === undefined) return refuse(`unsigned callback: missing ${name}`);
    if (value === 'multiple') return refuse(`${name} given more than once`);
    values.push(value);
  }
  const [signature = '', algorithm = '', nonce = '', timestamp = ''] = values;
  if (algorithm !== SINCH_ALGORITHM) return refuse(`unsupported signature algorithm (expected ${SINCH_ALGORITHM})`);
  if (!/^\d{1,12}$/.test(timestamp)) return refuse('signature timestamp is not Unix seconds');
  if (nonce.length > 128) return refuse('signature nonce is too long');

  const expected = mac(opts.rawBody, nonce, timestamp, opts.secret);
  const given = /^[A-Za-z0-9+/]+={0,2}$/.test(signature) ? Buffer.from(signature, 'base64') : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return refuse('signature does not match the body (wrong secret, or the body was changed)');
  }

  const nowS = Math.floor(now / 1000);
  const ts = Number(timestamp);
  if (ts > nowS + MAX_FUTURE_SKEW_S) return refuse('signature timestamp is in the future');
  if (ts < nowS - MAX_AGE_S) return refuse('signature timestamp is too old');
  const replay =
    opts.claim === false
      ? await opts.nonces.seen(SINCH_NONCE_PROVIDER, nonce, now)
      : !(await opts.nonces.claim(SINCH_NONCE_PROVIDER, nonce, now));
  if (replay) return refuse('replayed callback (nonce already used)');
  return { ok: true, nonce };
}
