import { createHash, timingSafeEqual, webcrypto } from 'node:crypto';
import { errors, jwtVerify } from 'jose';

export type SignatureResult = { ok: true; claims: Record<string, unknown> } | { ok: false; status: 401 | 503; reason: string };

export interface SignatureVerifier {
  verify(authorization: string | undefined, rawBody: Buffer, now?: number): Promise<SignatureResult>;
}

const MAX_FUTURE_SKEW_S = 300;

/**
 * Vonage signed webhooks: `Authorization: Bearer <JWT>`, HS256 with the signature secret, and a
 * `payload_hash` claim = hex SHA-256 of the raw body. Pinned to HS256 (alg none / HS512 refused);
 * payload_hash compared in constant time; `iat` at most 5 min ahead and at most `maxAgeSeconds` old.
 * No header at all → 503, so Vonage retries the rare unsigned callback signed.
 */
export function createSignatureVerifier(opts: { secret: string; maxAgeSeconds: number }): SignatureVerifier {
  // Imported as a WebCrypto key once: given a KeyObject, jose converts it on every verify.
  let cryptoKey: Promise<webcrypto.CryptoKey> | undefined;
  const keyOf = (): Promise<webcrypto.CryptoKey> =>
    (cryptoKey ??= webcrypto.subtle.importKey('raw', Buffer.from(opts.secret, 'utf8'), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'verify',
    ]));
  return {
    async verify(authorization, rawBody, now = Date.now()) {
      if (authorization === undefined || authorization.trim() === '')
        return { ok: false, status: 503, reason: 'unsigned callback (no Authorization header); retry it signed' };
      const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
      if (!match?.[1]) return { ok: false, status: 401, reason: 'Authorization is not a Bearer token' };
      let claims: Record<string, unknown>;
      try {
        ({ payload: claims } = await jwtVerify(match[1], await keyOf(), { algorithms: ['HS256'] }));
      } catch (err) {
        return { ok: false, status: 401, reason: `bad signature: ${describeJoseError(err)}` };
      }
      const iat = claims.iat;
      if (typeof iat !== 'number') return { ok: false, status: 401, reason: 'token has no iat' };
      const nowS = Math.floor(now / 1000);
      if (iat > nowS + MAX_FUTURE_SKEW_S) return { ok: false, status: 401, reason: 'iat is in the future' };
      if (iat < nowS - opts.maxAgeSeconds) return { ok: false, status: 401, reason: 'iat is too old' };
      const claimed = claims.payload_hash;
      if (typeof claimed !== 'string') return { ok: false, status: 401, reason: 'token has no payload_hash' };
      const actual = createHash('sha256').update(rawBody).digest();
      const given = /^[0-9a-f]{64}$/i.test(claimed) ? Buffer.from(claimed, 'hex') : Buffer.alloc(0);
      if (given.length !== actual.length || !timingSafeEqual(given, actual))
        return { ok: false, status: 401, reason: 'payload_hash does not match the body' };
      return { ok: true, claims };
    },
  };
}

function describeJoseError(err: unknown): string {
  if (err instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed (HS256 only)';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature does not verify with the secret';
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JOSEError) return err.code;
  return 'malformed token';
}
