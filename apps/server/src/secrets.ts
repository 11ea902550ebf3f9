import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from './config';

/**
 * The webhook signature secret. Vonage: from the environment (config refuses to start without it).
 * Sandbox without one: generated once and kept beside the database (mode 0600), so the sandbox signs
 * its own webhooks and the real verifier checks them.
 */
export function resolveSignatureSecret(config: Config): string {
  if (config.vonage.signatureSecret) return config.vonage.signatureSecret;
  if (config.provider === 'vonage') throw new Error('VONAGE_SIGNATURE_SECRET is required with SMS_PROVIDER=vonage');
  if (config.databasePath === ':memory:') return randomBytes(32).toString('hex');
  const file = `${config.databasePath}.signature-secret`;
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length > 0) return kept;
  }
  const secret = randomBytes(32).toString('hex');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
