import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../db/client';
import { openTestDb, type TempDb } from '../testing/temp-db';
import { agents, apiTokens, sessions } from '../db/tables';
import { insertAgent } from '../domain/agents';
import { TEST_PASSWORD_COST, hashPassword } from './password';
import { createLoginRateLimiter } from './rate-limit';
import {
  SESSION_COOKIE,
  agentForSessionHash,
  cookieSecure,
  createSession,
  endSession,
  loginWithPassword,
  readCookie,
  serializeCookie,
} from './session';
import { authenticateApiToken, createApiToken, listApiTokensFor, revokeApiToken, sha256Hex } from './tokens';

let t: TempDb;
let db: Db;
beforeEach(async () => {
  t = await openTestDb('parley-session-');
  db = t.db;
});
afterEach(async () => await t.dispose());

const agent = async (email = 'a@x.test', role: 'admin' | 'agent' = 'agent', passwordHash = 'x') =>
  await insertAgent(db, { email, name: email, passwordHash, role });

describe('sessions', () => {
  it('stores only the hash; expires; ends; stops at a disabled agent', async () => {
    const a = await agent();
    const s = await createSession(db, a.id);
    expect((await db.select().from(sessions)).map((r) => r.tokenHash)).toEqual([sha256Hex(s.token)]);
    expect((await agentForSessionHash(db, s.tokenHash))?.id).toBe(a.id);

    await db.update(sessions).set({ expiresAt: Date.now() - 1 });
    expect(await agentForSessionHash(db, s.tokenHash)).toBeNull();

    const t = await createSession(db, a.id);
    await db.update(agents).set({ disabledAt: Date.now() }).where(eq(agents.id, a.id));
    expect(await agentForSessionHash(db, t.tokenHash)).toBeNull();
    await db.update(agents).set({ disabledAt: null }).where(eq(agents.id, a.id));
    expect((await agentForSessionHash(db, t.tokenHash))?.id).toBe(a.id);
    await endSession(db, t.tokenHash);
    expect(await agentForSessionHash(db, t.tokenHash)).toBeNull();
  });

  it('logs in with the right password; wrong password and unknown email fail alike', async () => {
    const a = await agent('a@x.test', 'agent', await hashPassword('right-password', TEST_PASSWORD_COST));
    const limiter = createLoginRateLimiter();
    const ok = await loginWithPassword({ db, limiter, cost: TEST_PASSWORD_COST, email: ' A@X.test', password: 'right-password', ip: null });
    expect(ok.agent.id).toBe(a.id);
    await expect(
      loginWithPassword({ db, limiter, cost: TEST_PASSWORD_COST, email: 'a@x.test', password: 'nope', ip: null }),
    ).rejects.toThrow('Wrong email or password');
    await expect(
      loginWithPassword({ db, limiter, cost: TEST_PASSWORD_COST, email: 'b@x.test', password: 'nope', ip: null }),
    ).rejects.toThrow('Wrong email or password');
  });
});

describe('cookies', () => {
  it('serializes HttpOnly SameSite=Lax Path=/ cookies, Secure only for https', () => {
    const c = serializeCookie(SESSION_COOKIE, 'abc', { secure: false, maxAgeSeconds: 60 });
    expect(c).toBe('parley_session=abc; Path=/; Max-Age=60; HttpOnly; SameSite=Lax');
    expect(serializeCookie(SESSION_COOKIE, '', { secure: true, maxAgeSeconds: 0 })).toMatch(/Max-Age=0; .*Expires=.*; Secure$/);
    expect(cookieSecure({ publicUrl: 'https://parley.example.com' })).toBe(true);
    expect(cookieSecure({ publicUrl: 'http://localhost:3000' })).toBe(false);
    expect(cookieSecure({ publicUrl: undefined })).toBe(false);
  });

  it('reads one cookie from a header', () => {
    expect(readCookie('a=1; parley_session=tok%2Den; b=2', SESSION_COOKIE)).toBe('tok-en');
    expect(readCookie('a=1', SESSION_COOKIE)).toBeUndefined();
    expect(readCookie(undefined, SESSION_COOKIE)).toBeUndefined();
  });
});

describe('API tokens', () => {
  it('are pk_ + 43 base64url chars, stored hashed, work until revoked', async () => {
    const a = await agent();
    const created = await createApiToken({ db, agentId: a.id, name: ' script ' });
    expect(created.token).toMatch(/^pk_[\w-]{43}$/);
    expect(created.name).toBe('script');
    expect(created.prefix).toBe(created.token.slice(0, 9));
    const row = (await db.select().from(apiTokens))[0];
    expect(row?.tokenHash).toBe(sha256Hex(created.token));
    expect(JSON.stringify(row)).not.toContain(created.token);

    expect((await authenticateApiToken(db, created.token))?.id).toBe(a.id);
    expect((await db.select().from(apiTokens))[0]?.lastUsedAt).not.toBeNull();
    expect(await authenticateApiToken(db, 'pk_wrong')).toBeNull();
    expect(await authenticateApiToken(db, created.token.slice(3))).toBeNull();

    await revokeApiToken({ db, agent: a, id: created.id });
    expect(await authenticateApiToken(db, created.token)).toBeNull();
  });

  it('an agent lists and revokes only their own; an admin all', async () => {
    const a = await agent('a@x.test');
    const b = await agent('b@x.test');
    const admin = await agent('root@x.test', 'admin');
    const ta = await createApiToken({ db, agentId: a.id, name: 'a' });
    await createApiToken({ db, agentId: b.id, name: 'b' });
    expect((await listApiTokensFor({ db, agent: a })).map((t) => t.name)).toEqual(['a']);
    expect((await listApiTokensFor({ db, agent: admin })).map((t) => t.name).sort()).toEqual(['a', 'b']);
    await expect(revokeApiToken({ db, agent: b, id: ta.id })).rejects.toThrow(/not found/);
    expect((await revokeApiToken({ db, agent: admin, id: ta.id })).revokedAt).not.toBeNull();
  });
});
