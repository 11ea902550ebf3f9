import pino from 'pino';
import { createLoginRateLimiter } from '../auth/rate-limit';
import { testConfig } from '../config';
import { createNumberRegistry } from '../numbers';
import { PresenceHub } from '../presence/hub';
import type { AppDeps } from '../trpc/context';
import type { TempDb } from './temp-db';

/** tRPC dependencies over a temp database, for router and transport tests that need no full server. */
export function testAppDeps(t: TempDb, wake: () => void = () => undefined): AppDeps {
  return {
    db: t.db,
    log: t.log,
    config: testConfig({ databasePath: t.path }),
    logger: pino({ level: 'silent' }),
    outbox: { wake },
    campaigns: { wake: () => undefined },
    numbers: createNumberRegistry([{ number: '+447700900000', provider: 'vonage', sandbox: true, isDefault: true }]),
    loginLimiter: createLoginRateLimiter(),
    presence: new PresenceHub({ ttlMs: 30_000 }),
  };
}
