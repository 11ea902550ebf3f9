/**
 * `pnpm bench abuse`: does an unauthenticated flood hurt legitimate traffic? Parley runs in its own
 * process (bench/webhooks-target.ts, default limits); this process sends 200 signed inbound webhooks
 * a second, paced, and times each; a third process (bench/abuse-flood.ts) floods beside them with
 * unsigned and forged webhooks, 1 MB bodies and WebSocket subscribers that never read. Printed: the
 * legitimate p50/p99 and Parley's RSS before and during the flood, what the flood got back, and how
 * much the refusal log (webhook_log) grew.
 */
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'node:http';
import Database from 'better-sqlite3';
import { eq } from 'drizzle-orm';
import { openDb } from '../src/db/client';
import { agents } from '../src/db/tables';
import { createApiToken } from '../src/auth/tokens';
import { inboundPayload } from '../src/testing/harness';
import { signVonageWebhook } from '../src/providers/vonage/sign';
import { spawnTarget, type Target } from './target';
import type { Benchmark } from './types';
import type { FloodArgs, FloodReport } from './abuse-flood';
import type { WebhooksTargetArgs } from './webhooks-target';

const RATE = 200;
const WARMUP_MS = 2_000;
const PHASE_MS = Number(process.env.BENCH_ABUSE_PHASE_MS ?? 10_000);
const FLOOD: Omit<FloodArgs, 'url' | 'token'> = { loops: 4, readers: { authenticated: 3, anonymous: 50 } };
const TARGET_ENTRY = new URL('./webhooks-target.ts', import.meta.url);
/** Legitimate requests that failed in transport, by error code. */
const transportErrors = new Map<string, number>();
const FLOOD_ENTRY = new URL('./abuse-flood.ts', import.meta.url);

export const abuseBenchmark: Benchmark = {
  name: 'abuse',
  description: `${RATE} signed webhooks/s with and without an unauthenticated flood beside them (refused and oversized webhooks, non-reading WebSocket subscribers)`,
  run,
};

interface Phase {
  latencies: number[];
  failed: Map<number, number>;
  rssMb: number[];
}

async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-abuse-'));
  const databasePath = join(dir, 'parley.db');
  const secret = randomBytes(32).toString('hex');
  const total = Math.ceil((RATE * (WARMUP_MS + 2 * PHASE_MS)) / 1000) + RATE;
  const pool = await signed(total, secret);
  const target = await spawnTarget(TARGET_ENTRY, { kind: 'parley', databasePath, signatureSecret: secret } satisfies WebhooksTargetArgs);
  let flood: ReturnType<typeof fork> | undefined;
  try {
    const token = await mintToken(databasePath);
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    let next = 0;
    const take = () => {
      const r = pool[next++];
      if (!r) throw new Error('signed pool exhausted');
      return r;
    };

    await paced(target, agent, take, WARMUP_MS);
    const before = logSize(databasePath);
    const calm = await paced(target, agent, take, PHASE_MS);

    flood = fork(fileURLToPath(FLOOD_ENTRY), [JSON.stringify({ url: target.url, token, ...FLOOD } satisfies FloodArgs)], {
      execArgv: process.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const floodReport = new Promise<FloodReport>((resolve) => flood?.on('message', (m) => resolve(m as FloodReport)));
    await new Promise((r) => setTimeout(r, 500));
    const during = await paced(target, agent, take, PHASE_MS);
    flood.send({ type: 'stop' });
    const report = await floodReport;
    const after = logSize(databasePath);
    const health = await fetchJson(target.url, '/healthz');
    agent.destroy();

    print(calm, during, report, before, after, health);
    const lost = [...calm.failed, ...during.failed].reduce((n, [, c]) => n + c, 0);
    const codes = [...transportErrors].map(([c, n]) => `${n}× ${c}`).join(', ');
    if (lost > 0)
      throw new Error(
        `${lost} legitimate webhooks were not answered 200 (${describe(calm.failed)} before; ${describe(during.failed)} during${codes ? `; transport errors: ${codes}` : ''})`,
      );
  } finally {
    flood?.kill();
    await target.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Signed inbound requests, each distinct (fresh message_uuid), from 200 senders. */
async function signed(n: number, secret: string): Promise<{ body: Buffer; authorization: string }[]> {
  const out: { body: Buffer; authorization: string }[] = [];
  for (let i = 0; i < n; i++) {
    const body = JSON.stringify(
      inboundPayload({
        message_uuid: randomUUID(),
        from: `4477009${String(10_000 + (i % 200)).padStart(5, '0')}`,
        text: `abuse bench ${i}`,
      }),
    );
    out.push({ body: Buffer.from(body), authorization: await signVonageWebhook(body, secret) });
  }
  return out;
}

/** An API token for the first admin (the authenticated slow consumers use it). */
async function mintToken(databasePath: string): Promise<string> {
  const db = openDb(databasePath);
  try {
    const admin = (await db.select({ id: agents.id }).from(agents).where(eq(agents.role, 'admin')))[0];
    if (!admin) throw new Error('no admin in the bench database');
    return (await createApiToken({ db, agentId: admin.id, name: 'abuse bench' })).token;
  } finally {
    db.$client.close();
  }
}

/** RATE requests a second for `ms`, paced by the clock; every latency kept; RSS sampled twice a second. */
async function paced(target: Target, agent: Agent, take: () => { body: Buffer; authorization: string }, ms: number): Promise<Phase> {
  const phase: Phase = { latencies: [], failed: new Map(), rssMb: [] };
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  const sampler = setInterval(() => {
    void rssMb(target.url).then((mb) => {
      if (mb !== null) phase.rssMb.push(mb);
    });
  }, 500);
  while (performance.now() - started < ms) {
    const due = Math.floor(((performance.now() - started) / 1000) * RATE);
    while (sent < due) {
      sent += 1;
      const r = take();
      const t0 = performance.now();
      const p = post(target.url, agent, r).then((status) => {
        if (status === 200) phase.latencies.push(performance.now() - t0);
        else phase.failed.set(status, (phase.failed.get(status) ?? 0) + 1);
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  await Promise.all(inFlight);
  clearInterval(sampler);
  return phase;
}

/** Status code, or 0 for a transport error. A reset on a reused keep-alive socket (the server closed it idle) is retried once, as Node's docs advise. */
function post(base: string, agent: Agent, r: { body: Buffer; authorization: string }, retried = false): Promise<number> {
  return new Promise((resolve) => {
    const url = new URL('/webhooks/inbound', base);
    const req = request(
      {
        agent,
        method: 'POST',
        hostname: url.hostname,
        port: url.port,
        path: url.pathname,
        headers: { 'content-type': 'application/json', authorization: r.authorization, 'content-length': String(r.body.length) },
        timeout: 30_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (!retried && req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) resolve(post(base, agent, r, true));
      else {
        transportErrors.set(err.code ?? err.message, (transportErrors.get(err.code ?? err.message) ?? 0) + 1);
        resolve(0);
      }
    });
    req.end(r.body);
  });
}

async function fetchJson(base: string, path: string): Promise<Record<string, unknown>> {
  try {
    const res = await fetch(new URL(path, base), { signal: AbortSignal.timeout(10_000) });
    return { httpStatus: res.status, ...((await res.json()) as Record<string, unknown>) };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

async function rssMb(base: string): Promise<number | null> {
  try {
    const text = await (await fetch(new URL('/metrics', base), { signal: AbortSignal.timeout(5_000) })).text();
    const m = /^process_resident_memory_bytes (\d+(?:\.\d+)?)/m.exec(text);
    return m ? Number(m[1]) / 1024 / 1024 : null;
  } catch {
    return null;
  }
}

function logSize(databasePath: string): { rows: number; bytes: number; fileBytes: number } {
  const db = new Database(databasePath, { readonly: true, fileMustExist: true });
  try {
    const r = db
      .prepare(
        'select count(*) as rows, coalesce(sum(length(cast(raw_body as blob)) + length(cast(headers as blob))), 0) as bytes from webhook_log',
      )
      .get() as {
      rows: number;
      bytes: number;
    };
    const size = (p: string) => {
      try {
        return statSync(p).size;
      } catch {
        return 0;
      }
    };
    return { ...r, fileBytes: size(databasePath) + size(`${databasePath}-wal`) };
  } finally {
    db.close();
  }
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function describe(m: Map<number, number>): string {
  return m.size === 0 ? 'none' : [...m].map(([s, n]) => `${n}× ${s === 0 ? 'error' : s}`).join(', ');
}

function print(
  calm: Phase,
  during: Phase,
  flood: FloodReport,
  before: ReturnType<typeof logSize>,
  after: ReturnType<typeof logSize>,
  health: Record<string, unknown>,
): void {
  const row = (name: string, p: Phase) => {
    const s = [...p.latencies].sort((a, b) => a - b);
    const rss = p.rssMb.length > 0 ? `${Math.min(...p.rssMb).toFixed(0)}-${Math.max(...p.rssMb).toFixed(0)}` : '?';
    return [
      name,
      String(s.length),
      (s.length / (PHASE_MS / 1000)).toFixed(0),
      pct(s, 50).toFixed(1),
      pct(s, 99).toFixed(1),
      (s.at(-1) ?? Number.NaN).toFixed(1),
      rss,
      describe(p.failed),
    ];
  };
  const rows = [
    ['legitimate', '200s', 'per s', 'p50 ms', 'p99 ms', 'max ms', 'RSS MB', 'not 200'],
    row('before flood', calm),
    row('during flood', during),
  ];
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  for (const r of rows)
    console.log(`  ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ')}`);
  const answered = Object.entries(flood.byStatus)
    .map(([s, n]) => `${n}× ${s}`)
    .join(', ');
  console.log(
    `  flood (${PHASE_MS / 1000} s, ${FLOOD.loops} loops × 4 kinds): ${answered || 'nothing answered'}; ${flood.errors} connection errors; ${(flood.sentBytes / 1024 / 1024).toFixed(0)} MB sent`,
  );
  console.log(
    `  non-reading WebSockets: ${FLOOD.readers.authenticated} with a token + ${FLOOD.readers.anonymous} without; ${flood.sockets.opened} opened, ${flood.sockets.closedByServer} closed by the server, ${flood.sockets.failed} errors`,
  );
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;
  console.log(
    `  refusal log: ${before.rows} → ${after.rows} rows (+${after.rows - before.rows}), ${kb(before.bytes)} → ${kb(after.bytes)} (+${kb(after.bytes - before.bytes)}); database + WAL ${kb(before.fileBytes)} → ${kb(after.fileBytes)}`,
  );
  const log = health.webhookLog as { dropped?: number; pruned?: number } | undefined;
  console.log(
    `  /healthz after: ${String(health.httpStatus ?? health.error)}; refusals counted but not stored (per-source rate): ${log?.dropped ?? '?'}, pruned: ${log?.pruned ?? '?'}`,
  );
}
