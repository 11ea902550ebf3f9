import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createApiToken } from '../auth/tokens';
import type { SmsProvider } from '../providers/types';
import { signSinchWebhook } from '../providers/sinch/signature';
import { inboundPayload, startTestServer, type TestServer } from '../testing/harness';

const serverDir = fileURLToPath(new URL('../..', import.meta.url));

let parley: TestServer | undefined;
afterEach(async () => {
  await parley?.dispose();
  parley = undefined;
});

/** Another process takes SQLite's write lock (BEGIN IMMEDIATE) and holds it for `ms`; resolves once it holds it. */
async function holdWriteLock(path: string, ms: number): Promise<{ released: Promise<number> }> {
  const script = `
    import Database from 'better-sqlite3';
    const db = new Database(process.argv[1]);
    db.exec('BEGIN IMMEDIATE');
    console.log('locked');
    setTimeout(() => { db.exec('COMMIT'); db.close(); console.log('released'); }, Number(process.argv[2]));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, path, String(ms)], {
    cwd: serverDir,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  let releasedAt = 0;
  const released = new Promise<number>((resolve) => child.on('exit', () => resolve(releasedAt)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('released') && releasedAt === 0) releasedAt = Date.now();
      if (out.includes('locked')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`lock holder exited ${code}`)));
  });
  return { released };
}

const send = (s: TestServer, token: string, text: string) =>
  fetch(`${s.url}/trpc/message.send`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ to: '+447700900001', text }),
  });

/**
 * Asks /healthz every 100 ms until `stop` settles; returns the longest an answer took, counting the
 * pause between probes too (server and test share one event loop: a freeze shows up as a late probe).
 */
async function probeHealth(s: TestServer, stop: Promise<unknown>) {
  let done = false;
  void stop.finally(() => (done = true));
  let slowest = 0;
  const statuses = new Set<number>();
  while (!done) {
    const started = performance.now();
    const res = await fetch(`${s.url}/healthz`);
    statuses.add(res.status);
    await res.body?.cancel();
    await new Promise((r) => setTimeout(r, 100));
    slowest = Math.max(slowest, performance.now() - started - 100);
  }
  return { slowest, statuses };
}

describe('another process holding SQLite’s write lock', () => {
  it('does not freeze the server: healthz answers quickly, message.send succeeds after the release, webhooks get 503', async () => {
    const s = (parley = await startTestServer({ live: { dbBusyRetryMs: 8000 } }));
    const token = (await createApiToken({ db: s.db, agentId: 1, name: 'busy' })).token;
    const lock = await holdWriteLock(s.config.databasePath, 3000);

    const webhook = await s.postWebhook('/webhooks/inbound', inboundPayload({ text: 'during the lock' }));
    const sending = send(s, token, 'during the lock');
    // A sign-in writes outside a read transaction (SQLite's busy handler waits there): it froze the process.
    const signingIn = fetch(`${s.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@parley.test', password: 'parley-test-password' }),
    });
    const health = await probeHealth(s, Promise.all([sending, signingIn]));
    const res = await sending;
    const login = await signingIn;
    const releasedAt = await lock.released;
    expect(login.status).toBe(200);
    // The loop stayed free: each healthz within a short busy_timeout's reach (was ~5 s frozen). Its
    // write probe may report the locked database (503 with the reason) — an answer, not a freeze.
    expect([...health.statuses].every((status) => status === 200 || status === 503)).toBe(true);
    expect(health.slowest).toBeLessThan(1000);
    // Retried asynchronously until the lock went: stored once.
    expect(res.status).toBe(200);
    expect(Date.now()).toBeGreaterThanOrEqual(releasedAt);
    const sent = s.db.$client.prepare("select count(*) as n from messages where text = 'during the lock' and direction = 'out'").get() as {
      n: number;
    };
    expect(sent.n).toBe(1);
    // The provider is asked to retry, never told 500.
    expect(webhook.status).toBe(503);
    expect(webhook.headers.get('retry-after')).toBe('5');
  });

  it('a Sinch callback during the lock is answered 503 with Retry-After (Sinch retries), never 500', async () => {
    const secret = 'parley-test-sinch-busy-secret';
    const s = (parley = await startTestServer({ sinch: { webhookSecret: secret } as never }));
    const body = JSON.stringify({
      id: '01BUSYLOCK00000000000000001',
      type: 'mo_text',
      from: '14155550199',
      to: (s.config.sinch.numbers[0] ?? '').replace('+', ''),
      body: 'during the lock',
      received_at: new Date().toISOString(),
    });
    const lock = await holdWriteLock(s.config.databasePath, 2000);
    const res = await fetch(`${s.url}/webhooks/sinch/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signSinchWebhook({ rawBody: body, secret }) },
      body,
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    await lock.released;
    // The retry after the lock is accepted (the nonce rolled back with the data) and stored once.
    const retry = await fetch(`${s.url}/webhooks/sinch/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signSinchWebhook({ rawBody: body, secret }) },
      body,
    });
    expect(retry.status).toBe(200);
    const n = (s.db.$client.prepare("select count(*) as n from messages where text = 'during the lock'").get() as { n: number }).n;
    expect(n).toBe(1);
  });

  it('answers 503 (appCode DB_BUSY) when the lock outlasts DB_BUSY_RETRY_MS, never 500', async () => {
    const s = (parley = await startTestServer({ live: { dbBusyRetryMs: 1000 } }));
    const token = (await createApiToken({ db: s.db, agentId: 1, name: 'busy' })).token;
    const lock = await holdWriteLock(s.config.databasePath, 5000);
    const started = Date.now();
    const res = await send(s, token, 'too long');
    const elapsed = Date.now() - started;
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { message: string; data: { appCode: string; code: string } } };
    expect(body.error.data.appCode).toBe('DB_BUSY');
    expect(body.error.data.code).toBe('SERVICE_UNAVAILABLE');
    expect(body.error.message).toMatch(/database is busy/);
    expect(elapsed).toBeLessThan(4000);
    await lock.released;
    // Nothing half-written: the send did not happen.
    const n = (s.db.$client.prepare("select count(*) as n from messages where text = 'too long'").get() as { n: number }).n;
    expect(n).toBe(0);
  });

  it('the outbox records a provider’s answer that arrives while the database is locked (retried, not lost)', async () => {
    let answer!: () => void;
    let asked!: () => void;
    const askedP = new Promise<void>((r) => (asked = r));
    const provider: SmsProvider = {
      name: 'held',
      send: () => {
        asked();
        return new Promise((resolve) => (answer = () => resolve({ providerMessageId: 'held-1' })));
      },
    };
    const s = (parley = await startTestServer({}, undefined, { providers: { vonage: provider } }));
    const token = (await createApiToken({ db: s.db, agentId: 1, name: 'busy' })).token;
    expect((await send(s, token, 'answered during the lock')).status).toBe(200);
    await askedP;
    const lock = await holdWriteLock(s.config.databasePath, 1500);
    answer();
    await lock.released;
    const row = () =>
      s.db.$client.prepare("select status, provider_message_uuid as id from messages where text = 'answered during the lock'").get() as {
        status: string;
        id: string | null;
      };
    await until(() => row().id === 'held-1');
    expect(row().status).toBe('submitted');
  });
});

async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
