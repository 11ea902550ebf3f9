/**
 * `pnpm bench receipts`: signed delivery receipts per second on SQLite. Parley's POST
 * /webhooks/status, each receipt the `delivered` report of one of SEED messages a campaign left
 * `submitted` (found by provider uuid, its history row written, the message moved forward,
 * `message.updated` appended), against the baseline measured in the same run: bare node:http + one
 * prepared update of the same rows by uuid. Each receipt goes to Parley once, and every 2xx must
 * have moved its message (counted in the database after the run); the baseline, which outruns any
 * pool worth signing, is sent them round and round and counts its updates.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { statusPayload } from '../src/testing/harness';
import { signVonageWebhook } from '../src/providers/vonage/sign';
import { cyclingSource, onceSource, type LoadRequest } from './load';
import { spawnTarget } from './target';
import type { Benchmark } from './types';
import { check, measure, printResults, withDb } from './webhooks';
import type { WebhooksTargetArgs } from './webhooks-target';

/** Seeded messages, one receipt each: more than Parley takes in its warm-up and measured run. */
const SEED = Number(process.env.BENCH_RECEIPTS_SEED ?? 40_000);
const GOAL = 0.6;
const TARGET_ENTRY = new URL('./webhooks-target.ts', import.meta.url);

export const receiptsBenchmark: Benchmark = {
  name: 'receipts',
  description: 'signed delivery receipts per second: Parley POST /webhooks/status vs bare node:http + one SQLite update by uuid',
  run,
};

/** The provider uuid of the i-th seeded outbound message (webhooks-target.ts seeds them). */
export function receiptUuid(i: number): string {
  return `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
}

async function run(): Promise<void> {
  if (!Number.isInteger(SEED) || SEED < 1000) throw new Error('BENCH_RECEIPTS_SEED must be an integer ≥ 1000');
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-receipts-'));
  try {
    const secret = randomBytes(32).toString('hex');
    const parleyArgs: WebhooksTargetArgs = {
      kind: 'parley',
      databasePath: join(dir, 'parley', 'parley.db'),
      signatureSecret: secret,
      seedOutbound: SEED,
    };
    const baselineArgs: WebhooksTargetArgs = {
      kind: 'baseline-receipts',
      databasePath: join(dir, 'baseline', 'baseline.db'),
      seedOutbound: SEED,
    };
    const parleyStarting = spawnTarget(TARGET_ENTRY, parleyArgs);
    parleyStarting.catch(() => undefined);
    const signStarted = performance.now();
    const receipts = await signedReceipts(SEED, secret).catch(async (err: unknown) => {
      await parleyStarting.then(
        (t) => t.stop(),
        () => undefined,
      );
      throw err;
    });
    const signSeconds = (performance.now() - signStarted) / 1000;

    const parleySource = onceSource(receipts);
    const parley = await measure(
      await parleyStarting,
      parleySource,
      { betweenPhases: async () => undefined, count: () => delivered(parleyArgs.databasePath) },
      '/webhooks/status',
    );
    const baseline = await measure(
      await spawnTarget(TARGET_ENTRY, baselineArgs),
      cyclingSource(receipts),
      { betweenPhases: async () => undefined, count: () => updates(baselineArgs.databasePath) },
      '/webhooks/status',
    );
    const problems = [...check('parley', parley), ...check('baseline', baseline)];
    console.log(`  ${SEED} messages seeded, one signed delivered receipt each (${signSeconds.toFixed(1)} s to sign)`);
    printResults([
      ['parley', parley],
      ['baseline', baseline],
    ]);
    const history = withDb(
      parleyArgs.databasePath,
      (db) => (db.prepare("select count(*) as n from message_status_history where status = 'delivered'").get() as { n: number }).n,
    );
    console.log(`  parley's history: ${history} delivered reports for ${parley.stored} messages moved`);
    if (history !== parley.stored) problems.push(`parley: ${history} history rows for ${parley.stored} messages delivered`);
    if (parley.measured.endedEarly) console.log('  note: Parley used every receipt before the run ended (raise BENCH_RECEIPTS_SEED)');
    const ratio = parley.measured.okPerSecond / baseline.measured.okPerSecond;
    console.log(`  ratio parley/baseline: ${ratio.toFixed(2)}×  goal ≥ ${GOAL}×  ${ratio >= GOAL ? 'met' : 'MISSED'}`);
    if (problems.length > 0) throw new Error(`receipts bench failed:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One `delivered` status per seeded message, each with its own JWT, in seed order. */
async function signedReceipts(n: number, secret: string): Promise<LoadRequest[]> {
  const out: LoadRequest[] = [];
  const BATCH = 500;
  for (let start = 0; start < n; start += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, n - start) }, async (_, j) => {
      const body = JSON.stringify(
        statusPayload({ message_uuid: receiptUuid(start + j), status: 'delivered', usage: { price: '0.0333', currency: 'EUR' } }),
      );
      return {
        headers: { 'content-type': 'application/json', authorization: await signVonageWebhook(body, secret) },
        body: Buffer.from(body),
      };
    });
    for (const r of await Promise.all(batch)) out.push(r);
  }
  return out;
}

function delivered(path: string): number {
  return withDb(path, (db) => (db.prepare("select count(*) as n from messages where status = 'delivered'").get() as { n: number }).n);
}

function updates(path: string): number {
  return withDb(path, (db) => (db.prepare('select sum(updates) as n from outbound').get() as { n: number }).n);
}
