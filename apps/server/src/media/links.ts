/**
 * Signed, expiring links to an attachment (for providers fetching an outbound MMS): `/media/:id/signed?exp=…&sig=…`,
 * sig = HMAC-SHA256(secret, "<id>.<exp>") in base64url. Valid until `exp` (Unix seconds); nothing else opens it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

function sign(secret: string, id: number, exp: number): string {
  return createHmac('sha256', secret).update(`${id}.${exp}`).digest('base64url');
}

/** The path (no origin) of a link to attachment `id`, working for `ttlSeconds` from `now`. */
export function signedMediaPath(secret: string, id: number, ttlSeconds: number, now = Date.now()): string {
  const exp = Math.floor(now / 1000) + ttlSeconds;
  return `/media/${id}/signed?exp=${exp}&sig=${sign(secret, id, exp)}`;
}

/** null when the link is good; else why not (expired, bad signature). */
export function checkSignedLink(secret: string, id: number, exp: unknown, sig: unknown, now = Date.now()): string | null {
  if (typeof exp !== 'string' || !/^\d{1,12}$/.test(exp) || typeof sig !== 'string') return 'missing or malformed signature';
  const expected = Buffer.from(sign(secret, id, Number(exp)));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad signature';
  if (Number(exp) * 1000 < now) return 'link expired';
  return null;
}
