import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './testing/harness';

/** The whole loop on a real createServer: login → token → send (plain JSON, as curl) → sandbox → statuses. */
let s: TestServer;
let token: string;
beforeAll(async () => {
  s = await startTestServer();
  const login = await fetch(`${s.url}/trpc/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'admin@parley.test', password: 'parley-test-password' }),
  });
  expect(login.status).toBe(200);
  const cookie = login.headers.get('set-cookie')?.split(';')[0] ?? '';
  const created = await fetch(`${s.url}/trpc/apiToken.create`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie },
    body: JSON.stringify({ name: 'ops script' }),
  });
  const body = (await created.json()) as { result: { data: { token: string } } };
  token = body.result.data.token;
  expect(token).toMatch(/^pk_/);
});
afterAll(async () => {
  await s.dispose();
});

const call = (path: string, input: unknown) =>
  fetch(`${s.url}/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(input),
  });

async function waitFor<T>(fn: () => T | undefined | Promise<T | undefined>, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('operator API on a real server (sandbox provider)', () => {
  it('curl-style message.send goes queued → submitted → delivered, each step an event', async () => {
    const res = await call('message.send', { to: '+447700900001', text: 'hi from curl' });
    expect(res.status).toBe(200);
    const { result } = (await res.json()) as { result: { data: { id: number; status: string } } };
    expect(result.data.status).toBe('queued');
    const statuses = await waitFor(async () => {
      const seen = (await s.events.readAfter(0, 10_000)).flatMap((e) =>
        // Status transitions only (a later receipt may just add the price: same status, no transition).
        e.type === 'message.status' && e.payload.message.id === result.data.id && e.payload.previousStatus !== e.payload.message.status
          ? [e.payload.message.status]
          : [],
      );
      return seen.includes('delivered') ? seen : undefined;
    });
    expect(statuses).toEqual(['submitted', 'delivered']);
  });

  it('a sandbox failure number ends rejected with its reason', async () => {
    const res = await call('message.send', { to: '+447700900666', text: 'this one fails' });
    const { result } = (await res.json()) as { result: { data: { id: number } } };
    const final = await waitFor(async () => {
      const got = (await s.events.readAfter(0, 10_000)).find(
        (e) => e.type === 'message.status' && e.payload.message.id === result.data.id && e.payload.message.status === 'rejected',
      );
      return got?.type === 'message.status' ? got.payload.message : undefined;
    });
    expect(final.errorCode).toBe('1170');
    expect(final.errorReason).toBe('Number is invalid or missing');
  });

  it('refuses an opted-out contact with a 4xx that says so, and nothing is queued', async () => {
    expect((await call('sandbox.simulateInbound', { from: '+447700900999', text: 'STOP' })).status).toBe(200);
    const res = await call('message.send', { to: '+447700900999', text: 'still there?' });
    expect(res.status).toBe(412);
    const body = (await res.json()) as { error: { message: string; data: { appCode: string } } };
    expect(body.error.message).toMatch(/opted out/);
    expect(body.error.data.appCode).toBe('OPTED_OUT');
  });

  it('answers 401 without credentials, and /metrics and /healthz report the outbox', async () => {
    const res = await fetch(`${s.url}/trpc/conversation.list`);
    expect(res.status).toBe(401);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/parley_webhooks_total\{path="\/webhooks\/status",outcome="applied"\} \d+/);
    expect(metrics).toMatch(/parley_outbox_depth \d+/);
    expect(metrics).toMatch(/parley_provider_send_seconds_count\{provider="vonage",outcome="ok"\} \d+/);
    expect(metrics).toMatch(/process_cpu_user_seconds_total/);
    const health = (await (await fetch(`${s.url}/healthz`)).json()) as { outbox: { state: string; depth: number } };
    expect(health.outbox.state).toBe('running');
  });

  it('examples/send.ts (createTRPCClient<AppRouter> + API token) sends and follows the status live', async () => {
    const script = fileURLToPath(new URL('../examples/send.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, '+447700900002', 'typed hello', '--wait'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { PATH: process.env.PATH ?? '', PARLEY_URL: s.url, PARLEY_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(out).toContain('status: delivered');
    expect(code).toBe(0);
    expect(out).toMatch(/"to":"\+447700900002"/);
  });
});
