/**
 * Webhook → subscriber latency, open loop (issue 17: p99 ≤ 25 ms at 1,000 webhooks/s, every event
 * once). The server under test runs in its own process (bench/target.ts); this process is the load
 * generator and the subscriber:
 *
 * - requests are sent on a fixed schedule (request i is due at t0 + i/rate) whatever happened to the
 *   earlier ones, over keep-alive node:http sockets (at most MAX_SOCKETS; a request waiting for a
 *   socket waits on the clock);
 * - every latency is measured from the request's *scheduled* time, so a stalled server or a late
 *   generator shows up in the figures instead of thinning the load (no coordinated omission);
 * - the subscriber is a real client: tRPC's wsLink over `ws`, signed in with a session cookie,
 *   subscribed to `event.stream`, matching each inbound `message.created` to its webhook by uuid.
 *
 * Baseline, same run, same requests and schedule: bare node:http that does one prepared
 * better-sqlite3 insert per request, answers 200 and pushes the body as is over a bare `ws` socket
 * (webhooks-target.ts, kind "push") — what HTTP, one durable write and a socket cost on this machine.
 *
 * LATENCY_SECONDS (default 5) sets the measured seconds per rate, LATENCY_RATES (default 200,500,1000)
 * the rates; each rate has a 1 s warm-up on the same schedule first.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Agent } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WebSocket as WsWebSocket } from 'ws';
import { signVonageWebhook } from '../src/providers/vonage/sign';
import { inboundPayload } from '../src/testing/harness';
import { fmtMs, percentile, printTable } from './figures';
import { keepAliveAgent, post, procCpuMs, trpcSubscriber, type OnEvent, type Signed, type Subscriber } from './live-client';
import { spawnTarget, type Target } from './target';
import type { Benchmark } from './types';
import type { WebhooksTargetArgs } from './webhooks-target';

const RATES = parseList(process.env.LATENCY_RATES, [200, 500, 1000]);
const MEASURE_MS = Number(process.env.LATENCY_SECONDS ?? 5) * 1000;
const WARMUP_MS = 1_000;
const GOAL_RATE = 1000;
const GOAL_P99_MS = 25;
const SENDERS = 100;
/** Keep-alive sockets the generator may open (a provider retrying at this rate would open as many). */
const MAX_SOCKETS = 256;
/** After the last send, how long to wait for outstanding responses and events before calling them lost. */
const DRAIN_MS = 60_000;
const TARGET_ENTRY = new URL('./webhooks-target.ts', import.meta.url);
/** The first few request errors of the run, for the failure message. */
const errorSamples: string[] = [];

export const latencyBenchmark: Benchmark = {
  name: 'latency',
  description: `webhook → event.stream subscriber latency, open loop at ${RATES.join(', ')}/s (server in its own process, tRPC over WebSocket) vs node:http + insert + bare ws push`,
  run,
};

export interface RateResult {
  /** Which server (a name of the caller's; the report pairs a subject with its baseline by rate). */
  target: string;
  rate: number;
  sent: number;
  ok: number;
  nonOk: Map<number, number>;
  errors: number;
  /** Requests sent per second over the measured window (first → last send). */
  sentPerSecond: number;
  /** Responses per second over the measured window (first send → last response). */
  donePerSecond: number;
  /** Event seen − scheduled, per measured request seen, ms (ascending). */
  eventMs: number[];
  /** Response − scheduled, ms (ascending). */
  ackMs: number[];
  /** Actual send − scheduled (the generator's own lateness, incl. waiting for a socket), ms. */
  sendLagMs: number[];
  seen: number;
  duplicates: number;
  /** Stream ids going backwards (Parley's tracked event ids must only increase). */
  streamOutOfOrder: number;
  /** Events that arrived after the event of a request scheduled later (not an error: requests run concurrently). */
  behindLater: number;
  /** CPU the server process used over the measured window, as a share of one core. */
  serverCpu: number;
  /** This process's event-loop delay p99 over the phase (the client's own share of the figures). */
  clientLoopP99Ms: number;
}

async function run(): Promise<void> {
  if (!Number.isFinite(MEASURE_MS) || MEASURE_MS < 1000) throw new Error('LATENCY_SECONDS must be a number ≥ 1');
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-latency-'));
  try {
    const secret = randomBytes(32).toString('hex');
    const signStarted = performance.now();
    // One distinct signed request per scheduled slot, the same list for both targets.
    const perRate = await signSchedule(RATES, secret);
    const signSeconds = (performance.now() - signStarted) / 1000;

    const results: RateResult[] = [];
    const baseline = await spawnTarget(TARGET_ENTRY, {
      kind: 'push',
      databasePath: join(dir, 'push', 'push.db'),
    } satisfies WebhooksTargetArgs);
    try {
      results.push(...(await runTarget('baseline', [baseline], perRate, (onEvent) => bareSubscriber(baseline, onEvent))));
    } finally {
      await baseline.stop();
    }
    const parley = await spawnTarget(TARGET_ENTRY, {
      kind: 'parley',
      databasePath: join(dir, 'parley', 'parley.db'),
      signatureSecret: secret,
    } satisfies WebhooksTargetArgs);
    try {
      results.push(...(await runTarget('parley', [parley], perRate, (onEvent) => trpcSubscriber(parley, onEvent))));
    } finally {
      await parley.stop();
    }

    report(results, signSeconds);
    assertAnswered(results);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Throws when a request of any phase was refused or unanswered. */
export function assertAnswered(results: readonly RateResult[]): void {
  const problems = results.flatMap((r) => {
    const p: string[] = [];
    const name = `${r.target} ${r.rate}/s`;
    if (r.nonOk.size > 0) p.push(`${name}: non-2xx ${[...r.nonOk].map(([s, n]) => `${n}× ${s}`).join(', ')}`);
    if (r.errors > 0) p.push(`${name}: ${r.errors} request errors (e.g. ${errorSamples.join(' | ') || 'unanswered'})`);
    return p;
  });
  if (problems.length > 0) throw new Error(`latency bench failed:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}

/**
 * Every rate of `perRate` in turn against `targets` (requests round-robin over them, one subscriber
 * from `subscribe` for all phases). The caller starts and stops the targets.
 */
export async function runTarget(
  name: RateResult['target'],
  targets: readonly Target[],
  perRate: ReadonlyMap<number, readonly Signed[]>,
  subscribe: (onEvent: OnEvent) => Promise<Subscriber>,
): Promise<RateResult[]> {
  const agent = keepAliveAgent(MAX_SOCKETS);
  // Filled per phase: uuid → index in the phase's schedule.
  let index = new Map<string, number>();
  let seenAt: (number | undefined)[] = [];
  let duplicates = 0;
  let streamOutOfOrder = 0;
  let behindLater = 0;
  let lastStreamId = -1;
  let maxSeenIndex = -1;
  const onEvent: OnEvent = (uuid, streamId) => {
    const now = performance.now();
    if (streamId !== null) {
      if (streamId <= lastStreamId) streamOutOfOrder += 1;
      lastStreamId = Math.max(lastStreamId, streamId);
    }
    const i = index.get(uuid);
    if (i === undefined) return;
    if (seenAt[i] !== undefined) {
      duplicates += 1;
      return;
    }
    seenAt[i] = now;
    if (i < maxSeenIndex) behindLater += 1;
    maxSeenIndex = Math.max(maxSeenIndex, i);
  };
  const results: RateResult[] = [];
  let subscriber: Subscriber | undefined;
  try {
    subscriber = await subscribe(onEvent);
    for (const [rate, requests] of perRate) {
      index = new Map(requests.map((r, i) => [r.uuid, i]));
      seenAt = new Array<number | undefined>(requests.length);
      duplicates = 0;
      streamOutOfOrder = 0;
      behindLater = 0;
      maxSeenIndex = -1;
      results.push(await phase(name, targets, agent, rate, requests, () => ({ seenAt, duplicates, streamOutOfOrder, behindLater })));
      await sleep(500);
    }
    if (subscriber.interruptions() > 0)
      console.log(`  note: the ${name} subscriber's stream was interrupted ${subscriber.interruptions()}×`);
    return results;
  } finally {
    await subscriber?.close().catch(() => undefined);
    agent.destroy();
  }
}

async function phase(
  name: RateResult['target'],
  targets: readonly Target[],
  agent: Agent,
  rate: number,
  requests: readonly Signed[],
  events: () => { seenAt: readonly (number | undefined)[]; duplicates: number; streamOutOfOrder: number; behindLater: number },
): Promise<RateResult> {
  const urls = targets.map((t) => new URL(t.url));
  const cpuMs = () => targets.reduce((sum, t) => sum + procCpuMs(t.pid), 0);
  const n = requests.length;
  const warm = Math.ceil((rate * WARMUP_MS) / 1000);
  const scheduled = new Float64Array(n);
  const sentAt = new Float64Array(n);
  const respondedAt = new Float64Array(n);
  const status = new Int32Array(n);
  let responses = 0;
  const interval = 1000 / rate;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  let cpuAtMeasure = 0;
  let cpuAtMeasureWall = 0;

  const start = performance.now() + 20;
  for (let i = 0; i < n;) {
    const now = performance.now();
    // Everything now due goes out now: a late timer catches up instead of lowering the rate.
    while (i < n && start + i * interval <= now) {
      if (i === warm) {
        loop.enable();
        cpuAtMeasure = cpuMs();
        cpuAtMeasureWall = performance.now();
      }
      const req = requests[i];
      if (!req) throw new Error(`no signed request #${i}`);
      const k = i;
      scheduled[k] = start + k * interval;
      post(agent, urls[k % urls.length] as URL, req, () => (sentAt[k] = performance.now())).then(
        (code) => {
          respondedAt[k] = performance.now();
          status[k] = code;
          responses += 1;
        },
        (err: unknown) => {
          if (errorSamples.length < 3) errorSamples.push(err instanceof Error ? err.message : String(err));
          respondedAt[k] = performance.now();
          status[k] = -1;
          responses += 1;
        },
      );
      i += 1;
    }
    if (i < n) await sleep(Math.max(0, start + i * interval - performance.now()));
  }
  const lastScheduled = start + (n - 1) * interval;
  const deadline = performance.now() + DRAIN_MS;
  const allSeen = () => events().seenAt.filter((t) => t !== undefined).length >= n;
  while ((responses < n || !allSeen()) && performance.now() < deadline) await sleep(5);
  // The server's CPU up to the last response (its work for the measured requests), per wall second.
  const lastResponse = Math.max(...Array.from(respondedAt.subarray(warm)));
  const serverCpu = (cpuMs() - cpuAtMeasure) / Math.max(1, performance.now() - cpuAtMeasureWall);
  loop.disable();
  // Late duplicates would still arrive now.
  await sleep(200);

  const ev = events();
  const eventMs: number[] = [];
  const ackMs: number[] = [];
  const sendLagMs: number[] = [];
  const nonOk = new Map<number, number>();
  let ok = 0;
  let errors = 0;
  let seen = 0;
  for (let i = warm; i < n; i++) {
    const s = scheduled[i] ?? 0;
    const seenTime = ev.seenAt[i];
    if (seenTime !== undefined) {
      seen += 1;
      eventMs.push(seenTime - s);
    }
    const code = status[i] ?? 0;
    if (code === -1) errors += 1;
    else if (code >= 200 && code < 300) ok += 1;
    else if (code !== 0) nonOk.set(code, (nonOk.get(code) ?? 0) + 1);
    if ((respondedAt[i] ?? 0) > 0) ackMs.push((respondedAt[i] ?? 0) - s);
    if ((sentAt[i] ?? 0) > 0) sendLagMs.push((sentAt[i] ?? 0) - s);
  }
  const unanswered = n - warm - ackMs.length;
  if (unanswered > 0) errors += unanswered;
  const measured = n - warm;
  const firstMeasured = scheduled[warm] ?? start;
  const sentTimes = Array.from(sentAt.subarray(warm)).filter((t) => t > 0);
  const sortNum = (a: number, b: number) => a - b;
  return {
    target: name,
    rate,
    sent: measured,
    ok,
    nonOk,
    errors,
    sentPerSecond: ((sentTimes.length - 1) * 1000) / Math.max(1, Math.max(...sentTimes) - Math.min(...sentTimes)),
    donePerSecond: (ackMs.length * 1000) / Math.max(1, Math.max(lastResponse, lastScheduled) - firstMeasured),
    eventMs: eventMs.sort(sortNum),
    ackMs: ackMs.sort(sortNum),
    sendLagMs: sendLagMs.sort(sortNum),
    seen,
    duplicates: ev.duplicates,
    streamOutOfOrder: ev.streamOutOfOrder,
    behindLater: ev.behindLater,
    serverCpu,
    clientLoopP99Ms: loop.percentile(99) / 1e6,
  };
}

/** One distinct signed request per scheduled slot (warm-up and measured) of every rate, in rate order. */
export async function signSchedule(rates: readonly number[], secret: string): Promise<Map<number, Signed[]>> {
  const perRate = new Map<number, Signed[]>();
  for (const rate of rates) perRate.set(rate, await signInbounds(Math.ceil((rate * (WARMUP_MS + MEASURE_MS)) / 1000), secret, rate));
  return perRate;
}

/** Distinct inbound payloads (fresh uuid each), signed ahead so signing stays out of the timings. */
async function signInbounds(n: number, secret: string, rate: number): Promise<Signed[]> {
  const out: Signed[] = [];
  for (let from = 0; from < n; from += 500) {
    const batch = Array.from({ length: Math.min(500, n - from) }, async (_, j) => {
      const i = from + j;
      const uuid = randomUUID();
      const body = JSON.stringify(
        inboundPayload({
          message_uuid: uuid,
          from: `4477009${String(30_000 + (i % SENDERS)).padStart(5, '0')}`,
          text: `Latency ${rate}/s #${i}: when does my parcel arrive?`,
        }),
      );
      return { uuid, path: '/webhooks/inbound' as const, body: Buffer.from(body), authorization: await signVonageWebhook(body, secret) };
    });
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

/** The baseline's subscriber: a bare `ws` client; each message is a webhook body. */
export async function bareSubscriber(target: Target, onEvent: OnEvent): Promise<Subscriber> {
  const socket = new WsWebSocket(`${target.url.replace('http', 'ws')}/push`);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let interruptions = 0;
  socket.on('error', () => (interruptions += 1));
  socket.on('message', (data: Buffer) => {
    const body = JSON.parse(data.toString('utf8')) as { message_uuid?: unknown };
    if (typeof body.message_uuid === 'string') onEvent(body.message_uuid, null);
  });
  return {
    interruptions: () => interruptions,
    close: () =>
      new Promise<void>((resolve) => {
        if (socket.readyState === WsWebSocket.CLOSED) return resolve();
        socket.once('close', () => resolve());
        socket.close();
      }),
  };
}

/** Names in a report: the baseline's rows and the subject's (judged against the goal only when `judge`). */
export interface ReportNames {
  baseline: string;
  subject: string;
  judge: boolean;
}

export function report(
  results: readonly RateResult[],
  signSeconds: number,
  names: ReportNames = { baseline: 'baseline', subject: 'parley', judge: true },
): void {
  printTable([
    [
      '',
      'rate/s',
      'sent/s',
      'done/s',
      'seen/sent',
      'dupes',
      'out of order',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'max ms',
      'ack p99 ms',
      'lag max ms',
      'server cpu',
    ],
    ...results.map((r) => [
      r.target,
      String(r.rate),
      r.sentPerSecond.toFixed(0),
      r.donePerSecond.toFixed(0),
      `${r.seen}/${r.sent}`,
      String(r.duplicates),
      r.target === names.baseline ? '–' : String(r.streamOutOfOrder),
      fmtMs(percentile(r.eventMs, 0.5)),
      fmtMs(percentile(r.eventMs, 0.9)),
      fmtMs(percentile(r.eventMs, 0.99)),
      fmtMs(r.eventMs.at(-1) ?? Number.NaN),
      fmtMs(percentile(r.ackMs, 0.99)),
      fmtMs(r.sendLagMs.at(-1) ?? Number.NaN),
      `${(r.serverCpu * 100).toFixed(0)}%`,
    ]),
  ]);
  const [one, five] = loadavg();
  console.log(
    `  open loop: ${WARMUP_MS / 1000} s warm-up then ${MEASURE_MS / 1000} s measured per rate, latency from each request's scheduled time to its message event at the subscriber;`,
  );
  console.log(
    `  ack = HTTP response − scheduled; lag = send − scheduled (generator lateness, incl. waiting for one of ${MAX_SOCKETS} sockets); out of order = stream ids going back;`,
  );
  console.log(
    `  server cpu = the target process over the measured window (one core = 100%); client event-loop p99 ${results.map((r) => `${r.target} ${r.rate}/s ${fmtMs(r.clientLoopP99Ms)}`).join(', ')} ms`,
  );
  const behind = results.map((r) => `${r.target} ${r.rate}/s ${r.behindLater}`).join(', ');
  console.log(`  events that arrived after a later-sent webhook's (concurrent requests, not an error): ${behind}`);
  console.log(
    `  ${results.reduce((a, r) => a + r.sent, 0)} measured webhooks per target, ${signSeconds.toFixed(1)} s to sign ahead; load average ${one?.toFixed(2) ?? '?'} / ${five?.toFixed(2) ?? '?'} on ${availableParallelism()} cpus (shared machine)`,
  );
  for (const r of results.filter((x) => x.target === names.subject)) {
    const base = results.find((b) => b.target === names.baseline && b.rate === r.rate);
    const p99 = percentile(r.eventMs, 0.99);
    const basep99 = base ? percentile(base.eventMs, 0.99) : Number.NaN;
    const once = r.seen === r.sent && r.duplicates === 0 && r.streamOutOfOrder === 0;
    const goal = names.judge ? `${(p99 / GOAL_P99_MS).toFixed(2)}× the goal, ` : '';
    const line = `p99 ${fmtMs(p99)} ms (${goal}${(p99 / basep99).toFixed(1)}× the baseline's ${fmtMs(basep99)} ms), events ${r.seen}/${r.sent} once, ${r.duplicates} duplicates, ${r.streamOutOfOrder} out of order`;
    if (r.rate === GOAL_RATE && names.judge)
      console.log(
        `  webhook → subscriber at ${r.rate}/s (open loop): ${line}: ${p99 <= GOAL_P99_MS && once ? 'met' : 'MISSED'} (goal p99 ≤ ${GOAL_P99_MS} ms, every event once)`,
      );
    else console.log(`  at ${r.rate}/s: ${line}`);
  }
  if (names.judge && !RATES.includes(GOAL_RATE))
    console.log(`  webhook → subscriber goal is judged at ${GOAL_RATE}/s, not in LATENCY_RATES: not judged`);
}

function parseList(spec: string | undefined, fallback: number[]): number[] {
  if (spec === undefined || spec.trim() === '') return fallback;
  const list = spec.split(',').map((s) => Number(s.trim()));
  if (list.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`LATENCY_RATES=${spec}: positive integers, comma-separated`);
  return list;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
