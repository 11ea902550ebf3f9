import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../db/client';
import { openTestDb, type TempDb } from '../testing/temp-db';
import { countAgents, findAgentForLogin } from '../domain/agents';
import { DEFAULT_ADMIN_EMAIL, ensureFirstAdmin } from './bootstrap';
import { verifyPassword } from './password';

let t: TempDb;
let db: Db;
const logger = pino({ level: 'silent' });
beforeEach(async () => {
  t = await openTestDb('parley-boot-');
  db = t.db;
});
afterEach(async () => await t.dispose());

describe('ensureFirstAdmin', () => {
  it('creates admin@parley.local with a generated password printed once, then does nothing', async () => {
    const printed: string[] = [];
    const print = (t: string) => printed.push(t);
    const none = { adminEmail: undefined, adminPassword: undefined };
    const first = await ensureFirstAdmin({ db, config: none, logger, print });
    if (!first.created || first.generatedPassword === null) throw new Error('expected a generated admin');
    expect(first.agent).toMatchObject({ email: DEFAULT_ADMIN_EMAIL, role: 'admin' });
    expect(printed).toHaveLength(1);
    expect(printed[0]).toContain(first.generatedPassword);
    const stored = await findAgentForLogin(db, DEFAULT_ADMIN_EMAIL);
    expect(stored && (await verifyPassword(first.generatedPassword, stored.passwordHash))).toBe(true);

    expect(await ensureFirstAdmin({ db, config: none, logger, print })).toEqual({ created: false });
    expect(printed).toHaveLength(1);
    expect(await countAgents(db)).toBe(1);
  });

  it('uses ADMIN_EMAIL / ADMIN_PASSWORD and prints nothing', async () => {
    const printed: string[] = [];
    const result = await ensureFirstAdmin({
      db,
      config: { adminEmail: 'Boss@Example.com', adminPassword: 'hunter2hunter2' },
      logger,
      print: (t) => printed.push(t),
    });
    expect(result).toMatchObject({ created: true, generatedPassword: null, agent: { email: 'boss@example.com' } });
    expect(printed).toEqual([]);
    const stored = await findAgentForLogin(db, 'boss@example.com');
    expect(stored && (await verifyPassword('hunter2hunter2', stored.passwordHash))).toBe(true);
  });
});
