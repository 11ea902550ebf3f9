import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { inboundPayload } from '../src/testing/harness';
import { signVonageWebhook } from '../src/providers/vonage/sign';
import { cyclingSource, onceSource, runLoad, type LoadRequest, type LoadResult, type RequestSource } from './load';
import { spawnTarget, type Target } from './target';
import type { Benchmark } from './types';
import type { WebhooksTargetArgs } from './webhooks-target';

const CONNECTIONS = 10;
const WARMUP_MS = 1_500;
const MEASURE_MS = 8_000;
const SENDERS = 200;
/** Signed requests made before the warm-up; more are signed for the measured run once the rate is known. */
const INITIAL_POOL = 4_000;
const MIN_MEASURED_POOL = 10_000;
/** Upper bound on signed requests for the measured run (signing costs ~0.1 ms each, in this process). */
const MAX_POOL = Number(process.env.BENCH_WEBHOOKS_MAX_POOL ?? 60_000);
const GOAL = 0.6;
/** Parley against the tutorials' Express handler (which stores and verifies nothing). */
const EXPRESS_GOAL = 1;
const TARGET_ENTRY = new URL('./webhooks-target.ts', import.meta.url);

export const webhooksBenchmark: Benchmark = {
  name: 'webhooks',
  description:
    "signed inbound webhooks per second: Parley POST /webhooks/inbound vs bare node:http + one SQLite insert, vs the tutorials' Express handler, and Parley without its FTS trigger",
  run,
};

export interface Measured {
  warmup: LoadResult;
  measured: LoadResult;
  stored: number;
}

async function run(): Promise<void> {
  if (!Number.isInteger(MAX_POOL) || MAX_POOL < INITIAL_POOL)
    throw new Error(`BENCH_WEBHOOKS_MAX_POOL must be an integer ≥ ${INITIAL_POOL}`);
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  try {
    const secret = randomBytes(32).toString('hex');
    const parleyArgs: WebhooksTargetArgs = { kind: 'parley', databasePath: join(dir, 'parley', 'parley.db'), signatureSecret: secret };
    const baselineArgs: WebhooksTargetArgs = { kind: 'baseline', databasePath: join(dir, 'baseline', 'baseline.db') };

    const signing = { seconds: 0 };
    const pool: LoadRequest[] = [];
    const sign = async (n: number) => {
      const t = performance.now();
      for (const r of await signedInbounds(pool.length, n, secret)) pool.push(r);
      signing.seconds += (performance.now() - t) / 1000;
    };

    // Parley boots in its own process while this one signs enough for the warm-up.
    const parleyStarting = spawnTarget(TARGET_ENTRY, parleyArgs);
    parleyStarting.catch(() => undefined);
    try {
      await sign(INITIAL_POOL);
    } catch (err) {
      await parleyStarting.then(
        (t) => t.stop(),
        () => undefined,
      );
      throw err;
    }
    const parleySource = onceSource(pool);
    const parley = await measure(await parleyStarting, parleySource, {
      // Each request goes to Parley once: sign enough for the measured run at 3× the (still cold) warm-up rate.
      betweenPhases: (warmup) => {
        const want = Math.max(MIN_MEASURED_POOL, Math.ceil(warmup.okPerSecond * (MEASURE_MS / 1000) * 3));
        return sign(Math.max(0, Math.min(want, MAX_POOL) - parleySource.remaining()));
      },
      count: () => countRows(parleyArgs.databasePath, 'messages'),
    });
    // The baseline never dedupes, so it may see a request twice: the same bodies and headers, cycled.
    const baseline = await measure(await spawnTarget(TARGET_ENTRY, baselineArgs), cyclingSource(pool), {
      betweenPhases: async () => undefined,
      count: () => countRows(baselineArgs.databasePath, 'inbound'),
    });
    // Stores nothing: every 2xx counts as "stored".
    let answered = 0;
    const expressHandler = await measure(
      await spawnTarget(TARGET_ENTRY, { kind: 'express' } satisfies WebhooksTargetArgs),
      cyclingSource(pool),
      {
        betweenPhases: async () => undefined,
        count: () => answered,
        measured: (m) => (answered = m.warmup.ok + m.measured.ok),
      },
    );
    // The same Parley without the full-text index's insert trigger, on a fresh database (so the same
    // signed requests are new to it): what the search index costs each webhook.
    const noFtsArgs: WebhooksTargetArgs = { ...parleyArgs, databasePath: join(dir, 'parley-nofts', 'parley.db'), withoutFts: true };
    const noFts = await measure(await spawnTarget(TARGET_ENTRY, noFtsArgs), onceSource(pool), {
      betweenPhases: async () => undefined,
      count: () => countRows(noFtsArgs.databasePath, 'messages'),
    });
    console.log(`  ${pool.length} distinct signed requests from ${SENDERS} senders (${fmt(signing.seconds, 1)} s to sign)`);

    const problems = [
      ...check('parley', parley),
      ...check('baseline', baseline),
      ...check('express', expressHandler),
      ...check('parley without FTS', noFts),
    ];
    const { contacts, conversations } = parleyShape(parleyArgs.databasePath);
    report(parley, baseline, expressHandler, noFts, { contacts, conversations, poolEndedEarly: parley.measured.endedEarly });
    if (problems.length > 0) {
      if (parley.stored !== parley.warmup.ok + parley.measured.ok)
        console.log(`  webhook_log outcomes: ${webhookLogOutcomes(parleyArgs.databasePath)}`);
      throw new Error(`webhooks bench failed:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Warm up, measure, stop the target, then count what it stored. */
export async function measure(
  target: Target,
  source: RequestSource,
  hooks: {
    betweenPhases(warmup: LoadResult): Promise<void>;
    count(): number;
    measured?: (m: { warmup: LoadResult; measured: LoadResult }) => void;
  },
  path = '/webhooks/inbound',
): Promise<Measured> {
  try {
    const opts = { url: target.url, method: 'POST', path, connections: CONNECTIONS, source } as const;
    const warmup = await runLoad({ ...opts, durationMs: WARMUP_MS });
    await hooks.betweenPhases(warmup);
    const measured = await runLoad({ ...opts, durationMs: MEASURE_MS });
    await target.stop();
    hooks.measured?.({ warmup, measured });
    return { warmup, measured, stored: hooks.count() };
  } catch (err) {
    await target.stop().catch(() => undefined);
    throw err;
  }
}

/** Distinct inbound payloads (fresh message_uuid each, senders reused), each with its own JWT. */
export async function signedInbounds(from: number, n: number, secret: string): Promise<LoadRequest[]> {
  const out: LoadRequest[] = [];
  const BATCH = 500;
  for (let start = from; start < from + n; start += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, from + n - start) }, async (_, j) => {
      const i = start + j;
      const body = JSON.stringify(
        inboundPayload({
          message_uuid: randomUUID(),
          from: `4477009${String(10_000 + (i % SENDERS)).padStart(5, '0')}`,
          text: `Bench message ${i}: is my order on its way?`,
        }),
      );
      const authorization = await signVonageWebhook(body, secret);
      return { headers: { 'content-type': 'application/json', authorization }, body: Buffer.from(body) };
    });
    for (const r of await Promise.all(batch)) out.push(r);
  }
  return out;
}

export function check(name: string, m: Measured): string[] {
  const problems: string[] = [];
  for (const [phase, r] of [
    ['warm-up', m.warmup],
    ['measured', m.measured],
  ] as const) {
    if (r.nonOk.size > 0) problems.push(`${name} ${phase}: non-2xx ${describeNonOk(r)}`);
    if (r.errors > 0) problems.push(`${name} ${phase}: ${r.errors} connection errors (${r.timeouts} timeouts)`);
  }
  const ok = m.warmup.ok + m.measured.ok;
  if (m.stored !== ok) problems.push(`${name}: ${m.stored} rows stored but ${ok} 2xx responses`);
  return problems;
}

function describeNonOk(r: LoadResult): string {
  const counts = [...r.nonOk].map(([status, n]) => `${n}× ${status}`).join(', ');
  return `${counts}; e.g. ${r.nonOkSamples.join(' | ')}`;
}

function report(
  parley: Measured,
  baseline: Measured,
  expressHandler: Measured,
  noFts: Measured,
  extra: { contacts: number; conversations: number; poolEndedEarly: boolean },
): void {
  printResults([
    ['parley', parley],
    ['baseline', baseline],
    ['express', expressHandler],
    ['parley, no FTS trigger', noFts],
  ]);

  const ratio = parley.measured.okPerSecond / baseline.measured.okPerSecond;
  const verdict = ratio >= GOAL ? 'met' : 'MISSED';
  console.log(
    `  (${CONNECTIONS} connections; ${WARMUP_MS / 1000} s warm-up, then ${MEASURE_MS / 1000} s measured; stored = rows after warm-up + measured)`,
  );
  console.log(
    `  warm-up: parley ${fmt(parley.warmup.okPerSecond, 0)} req/s, baseline ${fmt(baseline.warmup.okPerSecond, 0)} req/s; parley stored ${extra.contacts} contacts, ${extra.conversations} conversations`,
  );
  if (extra.poolEndedEarly)
    console.log(`  note: Parley used every signed request before ${MEASURE_MS / 1000} s were up (raise BENCH_WEBHOOKS_MAX_POOL)`);
  console.log(`  ratio parley/baseline: ${fmt(ratio, 2)}×  goal ≥ ${GOAL}×  ${verdict}`);
  const vsExpress = parley.measured.okPerSecond / expressHandler.measured.okPerSecond;
  console.log(
    `  ratio parley/express handler: ${fmt(vsExpress, 2)}×  goal ≥ ${EXPRESS_GOAL}×  ${vsExpress >= EXPRESS_GOAL ? 'met' : 'MISSED'}`,
  );
  // The search index's write cost, read as throughput: Parley with its FTS trigger against the same
  // Parley without it, and whether Parley with it stays within the webhook budget (≥ GOAL× bare).
  const withFts = parley.measured.okPerSecond;
  const withoutFts = noFts.measured.okPerSecond;
  const ftsShare = 1 - withFts / withoutFts;
  const usPerWebhook = (1e6 / withFts - 1e6 / withoutFts).toFixed(0);
  console.log(
    `  search index write cost: ${fmt(withFts, 0)} req/s with the FTS trigger, ${fmt(withoutFts, 0)} without (${fmt(ftsShare * 100, 1)} % of throughput, ≈${usPerWebhook} µs per webhook); ` +
      `with it ${fmt(ratio, 2)}× bare (without ${fmt(withoutFts / baseline.measured.okPerSecond, 2)}×): ${ratio >= GOAL ? 'met' : 'MISSED'} (goal: with the index, ≥ ${GOAL}× bare)`,
  );
}

/** The figures of each measured target, a row each (`stored`: rows found after the run, which must equal the 2xx answers). */
export function printResults(results: readonly (readonly [string, Measured])[]): void {
  const rows = [
    ['', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'requests', 'seconds', 'non-2xx', 'errors', 'stored'],
    ...results.map(([name, m]) => {
      const r = m.measured;
      const nonOk = [...r.nonOk.values()].reduce((a, b) => a + b, 0);
      const storedOk = m.stored === m.warmup.ok + m.measured.ok;
      return [
        name,
        fmt(r.okPerSecond, 0),
        fmt(r.latencyMs.p50, 2),
        fmt(r.latencyMs.p99, 2),
        fmt(r.latencyMs.max, 1),
        String(r.completed),
        fmt(r.elapsedS, 2),
        String(nonOk),
        String(r.errors),
        `${m.stored} ${storedOk ? '= 2xx' : '≠ 2xx!'}`,
      ];
    }),
  ];
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length))) ?? [];
  for (const row of rows)
    console.log(`  ${row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ')}`);
}

function fmt(n: number, digits: number): string {
  return n.toFixed(digits);
}

export function withDb<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function countRows(path: string, table: 'messages' | 'inbound'): number {
  return withDb(path, (db) => (db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n);
}

function parleyShape(path: string): { contacts: number; conversations: number } {
  return withDb(path, (db) => ({
    contacts: (db.prepare('select count(*) as n from contacts').get() as { n: number }).n,
    conversations: (db.prepare('select count(*) as n from conversations').get() as { n: number }).n,
  }));
}

function webhookLogOutcomes(path: string): string {
  const rows = withDb(
    path,
    (db) => db.prepare('select outcome, count(*) as n from webhook_log group by outcome').all() as { outcome: string; n: number }[],
  );
  return rows.length === 0 ? 'none' : rows.map((r) => `${r.n}× ${r.outcome}`).join(', ');
}
