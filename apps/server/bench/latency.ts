/**
 * Webhook → subscriber latency at a steady load: signed inbound webhooks are posted open-loop at a
 * fixed rate, and an in-process subscriber on the event log (`events.subscribe`, what the live
 * stream is built on) times each `message.created` from the moment its request was sent. The
 * baseline is the HTTP round trip of `GET /healthz` at the same rate, on the same server.
 *
 * Client, server and subscriber share this process and its event loop (as a browser's stream would
 * not), so every figure includes the client's own fetch overhead; compare the rows, not absolutes.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { testConfig } from '../src/config';
import { createServer } from '../src/server';
import type { ParleyServer } from '../src/server';
import { inboundPayload } from '../src/testing/harness';
import { signVonageWebhook } from '../src/providers/vonage/sign';
import type { Benchmark } from './types';

const RATE = 200;
const WARMUP_MS = 500;
const MEASURE_MS = 5_000;
const SENDERS = 100;
/** How long to wait for the last events and responses after the last request is sent. */
const SETTLE_MS = 3_000;

export const latencyBenchmark: Benchmark = {
  name: 'latency',
  description: `webhook → subscriber latency at ${RATE} signed inbound webhooks/s (in-process events.subscribe), vs GET /healthz round trip`,
  run,
};

interface Signed {
  uuid: string;
  body: string;
  authorization: string;
}

interface PhaseResult {
  sent: number;
  ok: number;
  nonOk: Map<number, number>;
  errors: number;
  /** Response received (body read) − request sent, per request, ms. */
  rttMs: number[];
  /** Sent → last response, per second. */
  completedPerSecond: number;
  /** Requests sent per second (first → last send). */
  sentPerSecond: number;
  /** Worst lateness of a send against its schedule (the load generator falling behind), ms. */
  maxLagMs: number;
  /** CPU this process (client + server) used per request, ms, and as a share of one core. */
  cpuMsPerRequest: number;
  cpuShare: number;
  /** How late the event loop ran timers during the phase (blocked by sync work: SQLite, crypto, GC), ms. */
  loopDelay: { p99Ms: number; maxMs: number };
}

interface WebhookResult extends PhaseResult {
  /** message.created seen by the subscriber − request sent, per message, ms. */
  eventMs: number[];
  /** Events seen before their request's response had arrived. */
  eventBeforeResponse: number;
  missingEvents: number;
  duplicateEvents: number;
}

async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-latency-'));
  // Sandbox provider, no outbox worker; the signature secret is generated beside the database.
  const server = await createServer(testConfig({ databasePath: join(dir, 'parley.db'), logLevel: 'silent' }), { worker: false });
  try {
    const perPhase = Math.ceil((RATE * MEASURE_MS) / 1000);
    const perWarmup = Math.ceil((RATE * WARMUP_MS) / 1000);
    const signStarted = performance.now();
    const warmupWebhooks = await signInbounds(perWarmup, server.signatureSecret, 'warm');
    const webhooks = await signInbounds(perPhase, server.signatureSecret, 'bench');
    const signSeconds = (performance.now() - signStarted) / 1000;

    await healthzPhase(server, WARMUP_MS);
    const healthz = await healthzPhase(server, MEASURE_MS);
    await webhookPhase(server, warmupWebhooks);
    const hooks = await webhookPhase(server, webhooks);

    report(healthz, hooks, signSeconds);
    const problems = [...check('GET /healthz', healthz), ...check('POST /webhooks/inbound', hooks)];
    if (hooks.missingEvents > 0) problems.push(`${hooks.missingEvents} message.created events never reached the subscriber`);
    if (hooks.duplicateEvents > 0) problems.push(`${hooks.duplicateEvents} message.created events seen twice`);
    if (problems.length > 0) throw new Error(`latency bench failed:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Distinct inbound payloads (fresh uuid each), signed ahead so signing stays out of the timings. */
async function signInbounds(n: number, secret: string, tag: string): Promise<Signed[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const uuid = randomUUID();
      const body = JSON.stringify(
        inboundPayload({
          message_uuid: uuid,
          from: `4477009${String(30_000 + (i % SENDERS)).padStart(5, '0')}`,
          text: `Latency ${tag} ${i}: when does my parcel arrive?`,
        }),
      );
      return { uuid, body, authorization: await signVonageWebhook(body, secret) };
    }),
  );
}

/**
 * Sends `count` requests open-loop at RATE: request i is due at start + i/RATE, whatever happened to
 * the earlier ones (a slow response does not delay the next send). `send(i)` resolves with the status.
 */
async function openLoop(count: number, send: (i: number, sentAt: number) => Promise<number>): Promise<PhaseResult> {
  const rttMs: number[] = [];
  const nonOk = new Map<number, number>();
  let ok = 0;
  let errors = 0;
  let maxLagMs = 0;
  let firstSend = Number.NaN;
  let lastSend = Number.NaN;
  let lastResponse = Number.NaN;
  const pending: Promise<void>[] = [];
  const intervalMs = 1000 / RATE;
  const cpuBefore = process.cpuUsage();
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const start = performance.now();
  for (let i = 0; i < count;) {
    const now = performance.now();
    // Send everything now due (a late timer catches up rather than lowering the rate).
    while (i < count && start + i * intervalMs <= now) {
      const sentAt = performance.now();
      maxLagMs = Math.max(maxLagMs, sentAt - (start + i * intervalMs));
      if (Number.isNaN(firstSend)) firstSend = sentAt;
      lastSend = sentAt;
      pending.push(
        send(i, sentAt).then(
          (status) => {
            const done = performance.now();
            lastResponse = Number.isNaN(lastResponse) ? done : Math.max(lastResponse, done);
            rttMs.push(done - sentAt);
            if (status >= 200 && status < 300) ok += 1;
            else nonOk.set(status, (nonOk.get(status) ?? 0) + 1);
          },
          () => {
            errors += 1;
          },
        ),
      );
      i += 1;
    }
    if (i < count) await sleep(Math.max(0, start + i * intervalMs - performance.now()));
  }
  await withTimeout(Promise.all(pending), SETTLE_MS + 10_000, 'responses');
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  loop.disable();
  return {
    sent: count,
    ok,
    nonOk,
    errors,
    rttMs,
    completedPerSecond: ((ok + sumValues(nonOk)) * 1000) / Math.max(1, lastResponse - firstSend),
    sentPerSecond: ((count - 1) * 1000) / Math.max(1, lastSend - firstSend),
    maxLagMs,
    cpuMsPerRequest: cpuMs / count,
    cpuShare: cpuMs / (performance.now() - start),
    loopDelay: { p99Ms: loop.percentile(99) / 1e6, maxMs: loop.max / 1e6 },
  };
}

function healthzPhase(server: ParleyServer, durationMs: number): Promise<PhaseResult> {
  const url = `${server.url}/healthz`;
  return openLoop(Math.ceil((RATE * durationMs) / 1000), async () => {
    const res = await fetch(url);
    await res.arrayBuffer();
    return res.status;
  });
}

async function webhookPhase(server: ParleyServer, requests: readonly Signed[]): Promise<WebhookResult> {
  const url = `${server.url}/webhooks/inbound`;
  const sentAt = new Map<string, number>();
  const respondedAt = new Map<string, number>();
  const seenAt = new Map<string, number>();
  let duplicateEvents = 0;

  // Subscribe before the first send: the generator registers its listener on the first next().
  const controller = new AbortController();
  const subscriberBefore = server.events.stats.subscribers;
  const subscription = (async () => {
    for await (const event of server.events.subscribe(null, controller.signal)) {
      if (event.type !== 'message.created' || event.payload.message.direction !== 'in') continue;
      const seen = performance.now();
      const uuid = event.payload.message.providerMessageId;
      if (uuid === null || !sentAt.has(uuid)) continue;
      if (seenAt.has(uuid)) duplicateEvents += 1;
      else seenAt.set(uuid, seen);
    }
  })();
  await Promise.resolve();
  if (server.events.stats.subscribers !== subscriberBefore + 1) throw new Error('the in-process subscriber did not start');

  try {
    const phase = await openLoop(requests.length, async (i, at) => {
      const req = requests[i];
      if (!req) throw new Error(`no signed request #${i}`);
      sentAt.set(req.uuid, at);
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: req.authorization },
        body: req.body,
      });
      await res.arrayBuffer();
      respondedAt.set(req.uuid, performance.now());
      return res.status;
    });
    const deadline = performance.now() + SETTLE_MS;
    while (seenAt.size < requests.length && performance.now() < deadline) await sleep(10);

    const eventMs: number[] = [];
    let eventBeforeResponse = 0;
    for (const [uuid, seen] of seenAt) {
      const sent = sentAt.get(uuid);
      if (sent === undefined) continue;
      eventMs.push(seen - sent);
      const responded = respondedAt.get(uuid);
      if (responded === undefined || seen < responded) eventBeforeResponse += 1;
    }
    return { ...phase, eventMs, eventBeforeResponse, missingEvents: requests.length - seenAt.size, duplicateEvents };
  } finally {
    controller.abort();
    await subscription.catch(() => undefined);
  }
}

function check(name: string, r: PhaseResult): string[] {
  const problems: string[] = [];
  if (r.nonOk.size > 0) problems.push(`${name}: non-2xx ${[...r.nonOk].map(([s, n]) => `${n}× ${s}`).join(', ')}`);
  if (r.errors > 0) problems.push(`${name}: ${r.errors} request errors`);
  return problems;
}

function report(healthz: PhaseResult, hooks: WebhookResult, signSeconds: number): void {
  const row = (name: string, samples: readonly number[], r: PhaseResult) => {
    const sorted = [...samples].sort((a, b) => a - b);
    return [
      name,
      String(sorted.length),
      r.sentPerSecond.toFixed(1),
      r.completedPerSecond.toFixed(1),
      fmtMs(percentile(sorted, 0.5)),
      fmtMs(percentile(sorted, 0.95)),
      fmtMs(percentile(sorted, 0.99)),
      fmtMs(sorted[sorted.length - 1] ?? Number.NaN),
      r.cpuMsPerRequest.toFixed(2),
      `${(r.cpuShare * 100).toFixed(0)}%`,
    ];
  };
  const rows = [
    ['', 'samples', 'sent/s', 'done/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'cpu ms/req', 'cpu'],
    row('GET /healthz round trip (baseline)', healthz.rttMs, healthz),
    row('POST /webhooks/inbound round trip', hooks.rttMs, hooks),
    row('webhook sent → message.created at subscriber', hooks.eventMs, hooks),
  ];
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  for (const r of rows)
    console.log(`  ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ')}`);

  const sortedEvent = [...hooks.eventMs].sort((a, b) => a - b);
  const sortedHealth = [...healthz.rttMs].sort((a, b) => a - b);
  const [one, five] = loadavg();
  console.log(
    `  open loop at ${RATE}/s for ${MEASURE_MS / 1000} s each (after ${WARMUP_MS / 1000} s warm-up); fetch (undici, keep-alive) in the server's own process; ` +
      `worst send lateness ${fmtMs(Math.max(healthz.maxLagMs, hooks.maxLagMs))} ms`,
  );
  console.log(
    '  cpu = this whole process (client fetch + Parley + subscriber) over the phase; cpu ms/req × rate = share of the one JS thread',
  );
  console.log(
    `  event-loop delay p99/max: healthz ${fmtMs(healthz.loopDelay.p99Ms)}/${fmtMs(healthz.loopDelay.maxMs)} ms, ` +
      `webhooks ${fmtMs(hooks.loopDelay.p99Ms)}/${fmtMs(hooks.loopDelay.maxMs)} ms (sync work that every request behind it waits for)`,
  );
  console.log(
    `  events: ${hooks.eventMs.length}/${hooks.sent} delivered, ${hooks.duplicateEvents} duplicates, ${hooks.eventBeforeResponse} seen before their HTTP response; ` +
      `p50 over the healthz baseline: +${fmtMs(percentile(sortedEvent, 0.5) - percentile(sortedHealth, 0.5))} ms`,
  );
  console.log(
    `  ${hooks.sent + Math.ceil((RATE * WARMUP_MS) / 1000)} webhooks signed ahead in ${signSeconds.toFixed(2)} s; load average ${one?.toFixed(2) ?? '?'} / ${five?.toFixed(2) ?? '?'} on ${availableParallelism()} cpus`,
  );
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? Number.NaN;
}

function fmtMs(ms: number): string {
  return ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

function sumValues(m: ReadonlyMap<unknown, number>): number {
  let total = 0;
  for (const v of m.values()) total += v;
  return total;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
