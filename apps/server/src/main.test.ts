import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { WebSocket } from 'ws';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const serverDir = fileURLToPath(new URL('..', import.meta.url));

/** Starts `tsx src/main.ts` as `pnpm start` does; resolves with its URL once it logs that it listens. */
function startMain(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: serverDir,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const m = /"url":"(http:[^"]+)"/.exec(output);
      if (m?.[1]) resolve(m[1]);
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, url, exited, output: () => output };
}

describe('main (pnpm start)', () => {
  it('starts on the embedded defaults, answers /healthz, and shuts down cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-main-'));
    try {
      const p = startMain({ PORT: '0', DATABASE_URL: `file:${join(dir, 'parley.db')}` });
      const url = await p.url;
      const res = await fetch(`${url}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ok', db: 'ok' });
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
      expect(p.output()).toContain('shutting down');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start with a clear message per bad variable', async () => {
    const p = startMain({ PORT: 'abc', SMS_PROVIDER: 'vonage' });
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/PORT: must be a port number/);
    await p.url.catch(() => undefined);
  });

  // Known gap on Node 26 (run by .ci/node-suite only): the keep-alive probe below is never answered
  // there while draining — Node 26's closeIdleConnections() also closes it. Open: see the README.
  const node26 = Number(process.versions.node.split('.')[0]) >= 26;
  it.skipIf(node26)(
    'SIGTERM with an open HTTP stream and WebSocket: healthz 503 while draining, streams end after the grace, exit 0',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'parley-main-'));
      try {
        const p = startMain({
          PORT: '0',
          DATABASE_URL: `file:${join(dir, 'parley.db')}`,
          ADMIN_EMAIL: 'admin@parley.test',
          ADMIN_PASSWORD: 'parley-test-password',
          SHUTDOWN_GRACE_MS: '1500',
        });
        const url = await p.url;
        const login = await fetch(`${url}/trpc/auth.login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'admin@parley.test', password: 'parley-test-password' }),
        });
        const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';

        // An HTTP (SSE) subscription, as httpSubscriptionLink opens it.
        const sse = await fetch(`${url}/trpc/event.stream?input=${encodeURIComponent(JSON.stringify({ lastEventId: null }))}`, {
          headers: { cookie, accept: 'text/event-stream' },
        });
        expect(sse.status).toBe(200);
        const reader = sse.body?.getReader();
        if (!reader) throw new Error('no body');
        const sseDone = (async () => {
          for (;;) if ((await reader.read()).done) return Date.now();
        })();

        // A WebSocket subscription.
        const ws = new WebSocket(`${url.replace('http', 'ws')}/trpc`, { headers: { cookie, origin: url } });
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
        const started = new Promise<void>((resolve) => ws.on('message', (d: Buffer) => d.toString().includes('"started"') && resolve()));
        ws.send(JSON.stringify({ id: 1, method: 'subscription', params: { path: 'event.stream', input: { lastEventId: null } } }));
        await started;
        const wsClosed = new Promise<number>((resolve) => ws.once('close', () => resolve(Date.now())));

        // A connection a load balancer keeps open, to ask /healthz while draining.
        const { port } = new URL(url);
        const probe = connect(Number(port), '127.0.0.1');
        await new Promise<void>((resolve) => probe.once('connect', () => resolve()));

        const sigterm = Date.now();
        p.child.kill('SIGTERM');
        await until(() => p.output().includes('shutting down'));
        const answer = new Promise<string>((resolve) => {
          let got = '';
          probe.on('data', (d: Buffer) => {
            got += d.toString();
            if (got.includes('\r\n\r\n') && got.includes('}')) resolve(got);
          });
        });
        probe.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
        const health = await answer;
        expect(health).toMatch(/^HTTP\/1.1 503/);
        expect(health).toContain('"status":"draining"');
        // No new connections meanwhile.
        await expect(fetch(`${url}/healthz`)).rejects.toThrow();

        const code = await p.exited;
        expect(code).toBe(0);
        const ends = [await sseDone, await wsClosed];
        for (const at of ends) {
          // Not before the grace (streams keep flowing while draining), well before the old 10 s limit.
          expect(at - sigterm).toBeGreaterThanOrEqual(1400);
          expect(at - sigterm).toBeLessThan(8000);
        }
        expect(p.output()).toContain('outbox stopped, database closed');
        expect(p.output()).not.toContain('shutdown took over');
        probe.destroy();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
