import pino from 'pino';
import { createCredentialWatch } from '../auth/credential-watch';
import { createApiRateLimiter } from '../auth/api-rate-limit';
import { createHashGate } from '../auth/hash-gate';
import { createLoginRateLimiter } from '../auth/rate-limit';
import { testConfig } from '../config';
import { createNumberRegistry } from '../numbers';
import { PresenceHub } from '../presence/hub';
import type { AppDeps } from '../trpc/context';
import type { TempDb } from './temp-db';

/** tRPC dependencies over a temp database, for router and transport tests that need no full server. */
export function testAppDeps(t: TempDb, wake: () => void = () => undefined): AppDeps {
  const config = testConfig({ databasePath: t.path });
  return {
    db: t.db,
    log: t.log,
    config,
    logger: pino({ level: 'silent' }),
    outbox: { wake },
    campaigns: { wake: () => undefined },
    numbers: createNumberRegistry([{ number: '+447700900000', provider: 'vonage', sandbox: true, isDefault: true }]),
    loginLimiter: createLoginRateLimiter(),
    credentials: createCredentialWatch({ intervalMs: 200 }),
    shutdown: new AbortController().signal,
    hashGate: createHashGate(config.passwordHash),
    apiLimiter: createApiRateLimiter(config.apiRateLimit),
    presence: new PresenceHub({ ttlMs: 30_000 }),
  };
}
