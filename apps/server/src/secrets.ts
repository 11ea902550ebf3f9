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
  if (config.provider !== 'sandbox' && config.vonage.enabled)
    throw new Error('VONAGE_SIGNATURE_SECRET is required when Vonage is configured');
  // Sandbox, or live without Vonage: a secret nobody else knows (Vonage webhooks are then refused).
  return keptSecret(config, 'signature-secret');
}

/** A random secret generated once and kept beside the database (mode 0600); fresh per process for :memory:. */
export function keptSecret(config: Config, name: string): string {
  if (config.databasePath === ':memory:') return randomBytes(32).toString('hex');
  const file = `${config.databasePath}.${name}`;
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length > 0) return kept;
  }
  const secret = randomBytes(32).toString('hex');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
