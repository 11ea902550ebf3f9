/**
 * How long `contact.erase` holds the write lock on a grown database: 20,000 inbound texts from 2,000
 * contacts (their events too) plus 200,000 older events, then one contact (10 messages) erased, five
 * times: the transaction (which scans event payloads and the webhook log for the number) with its
 * WAL checkpoint, then a second checkpoint (what is left to copy: nothing). Baseline, same database: one inbound text stored.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../src/db/client';
import { EventLog } from '../src/events/log';
import { SYSTEM_ACTOR } from '../src/domain/audit';
import { checkpoint, eraseContact } from '../src/domain/erasure';
import { receiveInbound } from '../src/domain/receive';
import { printTable } from './figures';
import type { Benchmark } from './types';

const CONTACTS = 2_000;
const PER_CONTACT = 10;
const OLD_EVENTS = 200_000;
const ERASURES = 5;

export const erasureBenchmark: Benchmark = {
  name: 'erasure',
  description: `contact.erase on ${(CONTACTS * PER_CONTACT).toLocaleString('en')} messages and ${OLD_EVENTS.toLocaleString('en')}+ events: transaction and checkpoint time`,
  run,
};

const phoneOf = (c: number) => `+4477009${String(c).padStart(5, '0')}`;

async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-erase-'));
  const db = openDb(join(dir, 'b.db'));
  const log = new EventLog(db);
  try {
    db.$client
      .prepare(
        `with recursive n(i) as (select 1 union all select i + 1 from n where i < ?) insert into events (type, payload, created_at) select 'bench', '{"text":"' || printf('%080d', i) || '"}', 0 from n`,
      )
      .run(OLD_EVENTS);
    const inbound = async (c: number, i: number) =>
      await receiveInbound({
        log,
        inbound: {
          messageUuid: `in-${c}-${i}`,
          from: phoneOf(c),
          to: '+447700900000',
          text: `Message ${i} from contact ${c}`,
          timestamp: new Date().toISOString(),
          numMessages: 1,
          price: null,
          currency: null,
        },
      });
    for (let i = 0; i < PER_CONTACT; i++) for (let c = 0; c < CONTACTS; c++) await inbound(c, i);
    await checkpoint(db);
    let t = performance.now();
    for (let i = 0; i < 200; i++) await inbound(CONTACTS + 1, i);
    const storeUs = ((performance.now() - t) * 1000) / 200;

    const ids = db.$client.prepare('select id from contacts order by id limit ?').pluck().all(ERASURES) as number[];
    const tx: number[] = [];
    const cp: number[] = [];
    for (const id of ids) {
      const started = performance.now();
      await eraseContact({ log, id, actor: SYSTEM_ACTOR });
      const total = performance.now() - started;
      t = performance.now();
      await checkpoint(db);
      const again = performance.now() - t;
      tx.push(total);
      cp.push(again);
    }
    const fmt = (v: number[]) => `${Math.min(...v).toFixed(1)}–${Math.max(...v).toFixed(1)} ms`;
    printTable([
      ['', 'time'],
      ['erase one contact (transaction + WAL checkpoint)', fmt(tx)],
      ['a checkpoint right after (nothing left to copy)', fmt(cp)],
      ['baseline: store one inbound text', `${storeUs.toFixed(0)} µs`],
    ]);
  } finally {
    await log.close();
    db.$client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
