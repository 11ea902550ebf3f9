import { createHash, createSecretKey, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';

/**
 * Signs a webhook body the way Vonage does: HS256 JWT with iat, jti, iss "Vonage" and
 * payload_hash = hex SHA-256 of the exact body. The sandbox signs its own callbacks with it,
 * and tests use it to play Vonage.
 */
export async function signVonageWebhook(
  body: string,
  secret: string,
  opts: { iat?: number; alg?: string; payloadHash?: string; applicationId?: string } = {},
): Promise<string> {
  const payloadHash = opts.payloadHash ?? createHash('sha256').update(body).digest('hex');
  const jwt = await new SignJWT({
    payload_hash: payloadHash,
    api_key: 'sandbox',
    application_id: opts.applicationId ?? 'parley-sandbox',
  })
    .setProtectedHeader({ alg: opts.alg ?? 'HS256', typ: 'JWT' })
    .setIssuedAt(opts.iat ?? Math.floor(Date.now() / 1000))
    .setJti(randomUUID())
    .setIssuer('Vonage')
    .sign(createSecretKey(Buffer.from(secret, 'utf8')));
  return `Bearer ${jwt}`;
}
