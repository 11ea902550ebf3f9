/**
 * `pnpm bench pg`: signed inbound webhooks on PostgreSQL. Parley (one instance, then three sharing
 * one database, the load spread evenly) against the PostgreSQL baseline measured in the same run:
 * bare node:http + one `pg` insert per request. Each target is its own process; the database is a
 * throwaway cluster of this machine's PostgreSQL (or PARLEY_TEST_PG_URL), as in the tests.
 *
 * Then webhook → subscriber latency across instances, open loop (bench/latency.ts's schedule and
 * measure): webhooks posted round-robin to instances B and C, the `event.stream` subscriber on A.
 * Baseline, same schedule: three bare processes that insert and NOTIFY the body in one statement,
 * each LISTENing and pushing what it hears to its `ws` clients (webhooks-target.ts, push-pg).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { sharedCluster, stopCluster } from '../src/testing/pg-cluster';
import { assertAnswered, bareSubscriber, report, runTarget, signSchedule } from './latency';
import { trpcSubscriber } from './live-client';
import { onceSource, runLoad, type LoadRequest, type LoadResult } from './load';
import { spawnTarget, type Target } from './target';
import type { Benchmark } from './types';
import { signedInbounds } from './webhooks';
import type { WebhooksTargetArgs } from './webhooks-target';

const TARGET_ENTRY = new URL('./webhooks-target.ts', import.meta.url);
const CONNECTIONS = 12;
const WARMUP_MS = 1_500;
const MEASURE_MS = 8_000;
const POOL = 30_000;
/** Open-loop rates of the latency-across-instances phase (LATENCY_PG_RATES): below what three instances take (see the throughput above). */
const LATENCY_RATES = (process.env.LATENCY_PG_RATES ?? '25,50').split(',').map(Number);
const BASE_LATENCY = 'pg insert+NOTIFY→ws ×3';
const PARLEY_LATENCY = 'Parley ×3';

export const pgBenchmark: Benchmark = {
  name: 'pg',
  description:
    'signed inbound webhooks per second on PostgreSQL: Parley ×1 and ×3 (one database) vs bare node:http + one pg insert; webhook → subscriber latency across instances vs insert + NOTIFY → ws',
  run,
};

async function run(): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), 'parley-bench-pg-'));
  const targets: Target[] = [];
  try {
    const admin = process.env.PARLEY_TEST_PG_URL ?? (await sharedCluster(stateDir)).url;
    const database = async (name: string) => {
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.query(`create database ${name}`);
      await client.end();
      const u = new URL(admin);
      u.pathname = `/${name}`;
      return u.toString();
    };
    const secret = randomBytes(32).toString('hex');
    const signed = await signedInbounds(0, POOL, secret);

    const baseline = await spawnTarget(TARGET_ENTRY, {
      kind: 'baseline-pg',
      databaseUrl: await database('bench_baseline'),
    } satisfies WebhooksTargetArgs);
    targets.push(baseline);
    const base = await measure([baseline], signed.slice(0, 15_000));
    await baseline.stop();

    const one = await spawnTarget(TARGET_ENTRY, parleyArgs(await database('bench_parley1'), secret, stateDir));
    targets.push(one);
    const single = await measure([one], signed.slice(0, 15_000));
    await one.stop();

    const url3 = await database('bench_parley3');
    // One first (it migrates the empty database), then the other two.
    const first = await spawnTarget(TARGET_ENTRY, parleyArgs(url3, secret, stateDir));
    const rest = await Promise.all([1, 2].map(() => spawnTarget(TARGET_ENTRY, parleyArgs(url3, secret, stateDir))));
    const three = [first, ...rest];
    targets.push(...three);
    const spread = await measure(three, signed.slice(15_000));

    // Webhook → subscriber across instances: posted to B and C, heard on A.
    const signStarted = performance.now();
    const schedule = await signSchedule(LATENCY_RATES, secret);
    const signSeconds = (performance.now() - signStarted) / 1000;
    const pushUrl = await database('bench_push');
    const pushFirst = await spawnTarget(TARGET_ENTRY, { kind: 'push-pg', databaseUrl: pushUrl } satisfies WebhooksTargetArgs);
    const pushRest = await Promise.all([1, 2].map(() => spawnTarget(TARGET_ENTRY, { kind: 'push-pg', databaseUrl: pushUrl })));
    const pushes = [pushFirst, ...pushRest];
    targets.push(...pushes);
    const across = [
      ...(await runTarget(BASE_LATENCY, pushes.slice(1), schedule, (onEvent) => bareSubscriber(pushFirst, onEvent))),
      ...(await runTarget(PARLEY_LATENCY, three.slice(1), schedule, (onEvent) => trpcSubscriber(first, onEvent))),
    ];
    for (const t of [...pushes, ...three]) await t.stop();

    const line = (name: string, r: LoadResult) =>
      `  ${name.padEnd(34)} ${Math.round(r.okPerSecond).toLocaleString('en').padStart(6)} req/s   p50 ${r.latencyMs.p50.toFixed(1)} ms   p99 ${r.latencyMs.p99.toFixed(1)} ms`;
    console.log(line('baseline: node:http + 1 pg insert', base));
    console.log(line('Parley ×1 (PostgreSQL)', single));
    console.log(line(`Parley ×3, one database`, spread));
    console.log(
      `  ratio: Parley ×1 / baseline ${(single.okPerSecond / base.okPerSecond).toFixed(2)}×, ×3 / ×1 ${(spread.okPerSecond / single.okPerSecond).toFixed(2)}×`,
    );
    console.log('');
    console.log('  webhook → subscriber across instances (posted round-robin to B and C, subscriber on A):');
    report(across, signSeconds, { baseline: BASE_LATENCY, subject: PARLEY_LATENCY, judge: false });
    assertAnswered(across);
    for (const [name, r] of [
      ['baseline', base],
      ['Parley ×1', single],
      ['Parley ×3', spread],
    ] as const) {
      if (r.errors > 0 || r.nonOk.size > 0)
        throw new Error(`${name}: ${r.errors} errors, non-2xx ${JSON.stringify([...r.nonOk])} ${r.nonOkSamples.join(' | ')}`);
    }
  } finally {
    for (const t of targets) await t.stop().catch(() => undefined);
    if (!process.env.PARLEY_TEST_PG_URL) stopCluster(stateDir);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

function parleyArgs(databaseUrl: string, signatureSecret: string, dir: string): WebhooksTargetArgs {
  return { kind: 'parley-pg', databaseUrl, signatureSecret, mediaDir: join(dir, 'media') };
}

/** Warm-up then measured load, spread evenly over the targets (each its share of connections and of the signed requests). */
async function measure(targets: Target[], requests: LoadRequest[]): Promise<LoadResult> {
  const share = Math.floor(requests.length / targets.length);
  const sources = targets.map((_, i) => onceSource(requests.slice(i * share, (i + 1) * share)));
  const per = Math.max(1, Math.floor(CONNECTIONS / targets.length));
  const phase = (durationMs: number) =>
    Promise.all(
      targets.map((t, i) =>
        runLoad({
          url: t.url,
          method: 'POST',
          path: '/webhooks/inbound',
          connections: per,
          durationMs,
          source: sources[i] ?? onceSource([]),
        }),
      ),
    );
  await phase(WARMUP_MS);
  const results = await phase(MEASURE_MS);
  const all = results.flatMap((r) => [r]);
  const p = (q: 'p50' | 'p99') => Math.max(...all.map((r) => r.latencyMs[q]));
  return {
    completed: all.reduce((n, r) => n + r.completed, 0),
    ok: all.reduce((n, r) => n + r.ok, 0),
    nonOk: new Map(all.flatMap((r) => [...r.nonOk])),
    nonOkSamples: all.flatMap((r) => r.nonOkSamples),
    errors: all.reduce((n, r) => n + r.errors, 0),
    timeouts: all.reduce((n, r) => n + r.timeouts, 0),
    elapsedS: Math.max(...all.map((r) => r.elapsedS)),
    okPerSecond: all.reduce((n, r) => n + r.okPerSecond, 0),
    latencyMs: { p50: p('p50'), p99: p('p99'), max: Math.max(...all.map((r) => r.latencyMs.max)) },
    endedEarly: all.some((r) => r.endedEarly),
  };
}
