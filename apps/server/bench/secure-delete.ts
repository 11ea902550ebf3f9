/**
 * The write cost of `PRAGMA secure_delete = ON` (db/client.ts turns it on for every connection so an
 * erased contact's bytes are zeroed): the same work on a fresh database with it on and with it off,
 * alternated, three rounds each. Work: inbound texts stored (receiveInbound: inserts only), outbox
 * cycles (queue → claim → accepted: an insert and a delete of the outbox row, message updates) and
 * event-log compaction (bulk deletes) — the paths that delete or overwrite.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../src/db/client';
import { EventLog } from '../src/events/log';
import { receiveInbound } from '../src/domain/receive';
import { claimNextSend, recordSendAccepted } from '../src/domain/outbox';
import { queueMessage } from '../src/domain/send';
import { printTable } from './figures';
import type { Benchmark } from './types';

const INBOUND = 5_000;
const CYCLES = 3_000;
const EVENTS = 100_000;
const ROUNDS = 3;

export const secureDeleteBenchmark: Benchmark = {
  name: 'secure-delete',
  description: `write cost of PRAGMA secure_delete: ${INBOUND} inbound texts, ${CYCLES} outbox cycles, compacting ${EVENTS.toLocaleString('en')} events — on vs off`,
  run,
};

interface Round {
  inboundUs: number;
  cycleUs: number;
  compactMs: number;
}

async function once(secure: boolean): Promise<Round> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-sd-'));
  const db = openDb(join(dir, 'b.db'));
  db.$client.pragma(`secure_delete = ${secure ? 'ON' : 'OFF'}`);
  const log = new EventLog(db);
  try {
    let t = performance.now();
    for (let i = 0; i < INBOUND; i++) {
      await receiveInbound({
        log,
        inbound: {
          messageUuid: `in-${i}`,
          from: `+4477009${String(i % 10_000).padStart(5, '0')}`,
          to: '+447700900000',
          text: `Hello, this is message ${i} about my order ${i * 7}`,
          timestamp: new Date().toISOString(),
          numMessages: 1,
          price: null,
          currency: null,
        },
      });
    }
    const inboundUs = ((performance.now() - t) * 1000) / INBOUND;
    t = performance.now();
    for (let i = 0; i < CYCLES; i++) {
      await queueMessage({
        log,
        ourNumber: '+447700900000',
        to: `+4477008${String(i % 10_000).padStart(5, '0')}`,
        text: `Reply ${i}: your parcel is on its way`,
        agentId: null,
      });
      const claimed = await claimNextSend({ log });
      if (!claimed || claimed === 'skipped') throw new Error('nothing claimed');
      await recordSendAccepted({ log, messageId: claimed.messageId, providerMessageId: `p-${i}` });
    }
    const cycleUs = ((performance.now() - t) * 1000) / CYCLES;
    db.$client
      .prepare(
        `with recursive n(i) as (select 1 union all select i + 1 from n where i < ?) insert into events (type, payload, created_at) select 'bench', '{"text":"' || printf('%080d', i) || '"}', 0 from n`,
      )
      .run(EVENTS);
    t = performance.now();
    await log.compact({ keepCount: 1, maxAgeMs: 0, now: Date.now() });
    const compactMs = performance.now() - t;
    return { inboundUs, cycleUs, compactMs };
  } finally {
    await log.close();
    db.$client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(): Promise<void> {
  const on: Round[] = [];
  const off: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    off.push(await once(false));
    on.push(await once(true));
  }
  const range = (rs: Round[], k: keyof Round, digits: number) => {
    const v = rs.map((x) => x[k]);
    return `${Math.min(...v).toFixed(digits)}–${Math.max(...v).toFixed(digits)}`;
  };
  const median = (rs: Round[], k: keyof Round) => [...rs.map((x) => x[k])].sort((a, b) => a - b)[Math.floor(rs.length / 2)] ?? 0;
  const ratio = (k: keyof Round) => `${((median(on, k) / median(off, k) - 1) * 100).toFixed(0)} %`;
  printTable([
    ['work', 'secure_delete OFF', 'secure_delete ON', 'cost (medians)'],
    ['store one inbound text (µs)', range(off, 'inboundUs', 0), range(on, 'inboundUs', 0), ratio('inboundUs')],
    ['one outbox cycle: queue, claim, accepted (µs)', range(off, 'cycleUs', 0), range(on, 'cycleUs', 0), ratio('cycleUs')],
    [`compact ${EVENTS.toLocaleString('en')} events (ms)`, range(off, 'compactMs', 0), range(on, 'compactMs', 0), ratio('compactMs')],
  ]);
}
