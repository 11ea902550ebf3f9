/**
 * The full-text index's write cost per inbound message, precisely (bench/webhooks.ts reads the same
 * cost as throughput over HTTP and judges it against the webhook budget): `receiveInbound` (what
 * POST /webhooks/inbound commits) on a fresh database with the FTS insert trigger and with it dropped,
 * alternated, ROUNDS rounds each, in this one process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../src/db/client';
import { receiveInbound } from '../src/domain/receive';
import { EventLog } from '../src/events/log';
import { printTable } from './figures';
import type { Benchmark } from './types';

/** The full-text index's insert trigger (migration 0005): the one webhooks pay for. */
export const FTS_INSERT_TRIGGER = 'messages_fts_ai';
const INBOUND = 5_000;
const ROUNDS = 3;
const SENDERS = 2_000;

export const ftsBenchmark: Benchmark = {
  name: 'fts',
  description: `write cost of the messages FTS index: ${INBOUND} inbound texts stored (receiveInbound) with vs without its insert trigger, ${ROUNDS} rounds each`,
  run,
};

async function once(withFts: boolean): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-fts-'));
  const db = openDb(join(dir, 'b.db'));
  const log = new EventLog(db);
  try {
    const found = db.$client.prepare(`select 1 from sqlite_master where type = 'trigger' and name = ?`).get(FTS_INSERT_TRIGGER);
    if (!found) throw new Error(`no trigger ${FTS_INSERT_TRIGGER}: bench/fts.ts needs updating`);
    if (!withFts) db.$client.exec(`drop trigger ${FTS_INSERT_TRIGGER}`);
    const t = performance.now();
    for (let i = 0; i < INBOUND; i++) {
      await receiveInbound({
        log,
        inbound: {
          messageUuid: `in-${i}`,
          from: `+4477009${String(i % SENDERS).padStart(5, '0')}`,
          to: '+447700900000',
          text: `Hello, this is message ${i} about my order ${i * 7}: has it shipped yet? It was due on Tuesday.`,
          timestamp: new Date().toISOString(),
          numMessages: 1,
          price: null,
          currency: null,
        },
      });
    }
    const us = ((performance.now() - t) * 1000) / INBOUND;
    const indexed = (db.$client.prepare(`select count(*) as n from messages_fts where messages_fts match 'order'`).get() as { n: number })
      .n;
    if (withFts && indexed !== INBOUND) throw new Error(`the FTS index holds ${indexed} of ${INBOUND} messages`);
    return us;
  } finally {
    await log.close();
    db.$client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(): Promise<void> {
  const on: number[] = [];
  const off: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    off.push(await once(false));
    on.push(await once(true));
    await new Promise((resolve) => setImmediate(resolve));
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? Number.NaN;
  const range = (v: number[]) => `${Math.min(...v).toFixed(0)}–${Math.max(...v).toFixed(0)}`;
  const cost = median(on) - median(off);
  printTable([
    ['work', 'without FTS trigger', 'with FTS trigger', 'cost (medians)'],
    ['store one inbound text (µs)', range(off), range(on), `+${cost.toFixed(0)} µs (${((cost / median(off)) * 100).toFixed(0)} %)`],
  ]);
  console.log('  the goal (the index stays within the webhook budget) is judged over HTTP by the webhooks bench');
}
