import { randomBytes, scrypt } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../config';
import { findAgentForLogin, insertAgent } from '../domain/agents';
import { AppError } from '../errors';
import { startTestServer, type TestServer } from '../testing/harness';
import { createHashGate } from './hash-gate';
import { PASSWORD_COST, TEST_PASSWORD_COST, hashCost, hashPassword, verifyPassword } from './password';
import { TEST_ADMIN } from '../config';

const ADMIN = TEST_ADMIN;
let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.dispose()));
  servers = [];
});
async function start(overrides: Partial<Config> = {}): Promise<TestServer> {
  const s = await startTestServer(overrides);
  servers.push(s);
  return s;
}
const login = (s: TestServer, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${s.url}/trpc/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('sign-in under attack, over real HTTP', () => {
  it('a batch of 20 auth.login calls (19 wrong, then the right one) is refused whole: no password is checked', async () => {
    const s = await start();
    const calls = [...Array.from({ length: 19 }, () => ({ ...ADMIN, password: 'wrong-password' })), ADMIN];
    const input = Object.fromEntries(calls.map((c, i) => [String(i), c]));
    const res = await fetch(`${s.url}/trpc/${Array(20).fill('auth.login').join(',')}?batch=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(input),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/auth.login cannot be batched/);
    // Even a batch of two with another procedure.
    const two = await fetch(`${s.url}/trpc/auth.me,auth.login?batch=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ 1: ADMIN }),
    });
    expect(two.status).toBe(400);
    // Nothing was counted: five wrong passwords are still allowed, then the limit.
    for (let i = 0; i < 5; i++) expect((await login(s, { ...ADMIN, password: 'wrong' })).status).toBe(401);
    expect((await login(s, ADMIN)).status).toBe(429);
  });

  it('20 logins at once (19 wrong and the right one): at most 5 reach the password check', async () => {
    const s = await start();
    const bodies = [...Array.from({ length: 19 }, () => ({ ...ADMIN, password: 'wrong-password' })), ADMIN];
    const statuses = await Promise.all(bodies.map(async (b) => (await login(s, b)).status));
    const checked = statuses.filter((st) => st !== 429);
    expect(checked.length).toBeLessThanOrEqual(5);
    expect(statuses.filter((st) => st === 429).length).toBeGreaterThanOrEqual(15);
    expect(new Set(statuses)).toEqual(new Set(statuses.filter((st) => [200, 401, 429].includes(st))));
  });

  it('a right password gives its attempt back: an agent who signs in often is never locked out', async () => {
    const s = await start();
    for (let i = 0; i < 12; i++) expect((await login(s, ADMIN)).status).toBe(200);
  });

  it('password hashes run a bounded number at a time: beyond the queue, 429 with Retry-After', async () => {
    // The real cost (a few hundred ms a hash), one at a time, nobody waiting: parallel sign-ins overlap it.
    const s = await start({ passwordCost: PASSWORD_COST, passwordHash: { concurrency: 1, queue: 0 } });
    const results = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const res = await login(
          s,
          { email: `nobody${i}@x.test`, password: 'whatever-password' },
          { 'x-forwarded-for': `203.0.113.${i + 1}` },
        );
        return {
          status: res.status,
          retryAfter: res.headers.get('retry-after'),
          body: (await res.json()) as { error: { message: string } },
        };
      }),
    );
    const busy = results.filter((r) => r.status === 429);
    expect(busy.length).toBeGreaterThanOrEqual(1);
    for (const r of busy) {
      expect(r.body.error.message).toMatch(/Too many sign-ins at once/);
      expect(r.retryAfter).toBe('1');
    }
    expect(results.filter((r) => r.status !== 429).every((r) => r.status === 401)).toBe(true);
    // A refused (never checked) attempt does not count against the client: it may try again.
    const again = busy[0] ? await login(s, ADMIN, { 'x-forwarded-for': '203.0.113.1' }) : null;
    expect(again?.status).toBe(200);
  });

  it('an old-cost hash (N=2^14) is upgraded to N=2^17 at the next successful login, and still signs in', async () => {
    const s = await start({ passwordCost: PASSWORD_COST });
    // Made the way the previous version of Parley made hashes.
    const salt = randomBytes(16);
    const key = await new Promise<Buffer>((resolve, reject) =>
      scrypt('old-password', salt, 64, { N: 16_384, r: 8, p: 1 }, (err, k) => (err ? reject(err) : resolve(k))),
    );
    const old = ['scrypt', 16_384, 8, 1, salt.toString('base64url'), key.toString('base64url')].join('$');
    await insertAgent(s.db, { email: 'old@x.test', name: 'Old', passwordHash: old, role: 'agent' });

    expect((await login(s, { email: 'old@x.test', password: 'wrong-password' })).status).toBe(401);
    expect((await findAgentForLogin(s.db, 'old@x.test'))?.passwordHash).toBe(old);
    expect((await login(s, { email: 'old@x.test', password: 'old-password' })).status).toBe(200);
    const upgraded = (await findAgentForLogin(s.db, 'old@x.test'))?.passwordHash ?? '';
    expect(upgraded).not.toBe(old);
    expect(hashCost(upgraded)).toEqual({ N: 131_072, r: 8, p: 1 });
    expect(await verifyPassword('old-password', upgraded)).toBe(true);
    expect((await login(s, { email: 'old@x.test', password: 'old-password' })).status).toBe(200);
    expect((await findAgentForLogin(s.db, 'old@x.test'))?.passwordHash).toBe(upgraded);
    // The first admin, created at this start, was hashed at the strong cost too.
    expect(hashCost((await findAgentForLogin(s.db, ADMIN.email))?.passwordHash ?? '')).toEqual(PASSWORD_COST);
  });

  it('with the test cost configured, a test-cost hash is not rehashed (the cost compared is the configured one)', async () => {
    const s = await start();
    const hash = await hashPassword('cheap-password', TEST_PASSWORD_COST);
    await insertAgent(s.db, { email: 'cheap@x.test', name: 'Cheap', passwordHash: hash, role: 'agent' });
    expect((await login(s, { email: 'cheap@x.test', password: 'cheap-password' })).status).toBe(200);
    expect((await findAgentForLogin(s.db, 'cheap@x.test'))?.passwordHash).toBe(hash);
  });
});

describe('hash gate', () => {
  it('runs at most `concurrency` at once, queues up to `queue`, refuses beyond at once', async () => {
    const gate = createHashGate({ concurrency: 2, queue: 1 });
    const releases: Array<() => void> = [];
    const held = () => new Promise<void>((resolve) => releases.push(resolve));
    const a = gate.run(held);
    const b = gate.run(held);
    const c = gate.run(held);
    expect(gate.stats()).toEqual({ running: 2, waiting: 1 });
    const refused = await gate.run(held).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('TOO_MANY_REQUESTS');
    releases.shift()?.();
    await a;
    await new Promise((r) => setImmediate(r));
    expect(gate.stats()).toEqual({ running: 2, waiting: 0 });
    while (releases.length > 0) releases.shift()?.();
    await Promise.all([b, c]);
    expect(gate.stats()).toEqual({ running: 0, waiting: 0 });
  });
});
