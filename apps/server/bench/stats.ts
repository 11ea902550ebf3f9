/**
 * Read latency over a seeded database of 1,000,000 messages in 20,000 conversations (60 days,
 * 40% inbound, outbound spread over delivered/read/failed/pending with three failure reasons):
 * `stats.summary` (the domain function behind it) over 30 days by day, 2 days by hour and the whole
 * 60 days, and `conversation.list` (first page, a later page, a filter, a number search). Baseline,
 * same run, same database: a primary-key lookup of one message through drizzle.
 *
 * Seeding is set-based SQL (recursive CTEs) in one transaction, with every index in place — what a
 * database grown by Parley looks like, without its per-message event rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { openDb, type Db } from '../src/db/client';
import { messages } from '../src/db/tables';
import { listConversations } from '../src/domain/conversation';
import { statsSummary } from '../src/domain/stats';
import { fmtMs, measure, printTable, type Latency } from './figures';
import type { Benchmark } from './types';

const MESSAGES = 1_000_000;
const CONVERSATIONS = 20_000;
const DAY = 86_400_000;
const SPAN = 60 * DAY;
/** A summary should feel instant on a dashboard. */
const GOAL_P95_MS = 20;
/** The inbox's first page (issue 17: stays < 10 ms). */
const LIST_GOAL_P95_MS = 10;

export const statsBenchmark: Benchmark = {
  name: 'stats',
  description: `stats.summary and conversation.list p50/p95 over ${MESSAGES.toLocaleString('en')} messages in ${CONVERSATIONS.toLocaleString('en')} conversations vs a primary-key lookup`,
  run,
};

export function seed(db: Db, now: number): void {
  const start = now - SPAN;
  const step = SPAN / MESSAGES;
  db.$client.transaction(() => {
    db.$client
      .prepare(
        `with recursive seq(i) as (select 1 union all select i + 1 from seq where i < :n)
         insert into contacts (phone, name, created_at)
         select '+4477' || printf('%08d', i), case when i % 3 = 0 then 'Customer ' || i end, :start from seq`,
      )
      .run({ n: CONVERSATIONS, start });
    db.$client
      .prepare(
        `insert into conversations (contact_id, our_number, provider, status, unread_count, created_at)
         select id, '+447700900000', 'vonage', case when id % 5 = 0 then 'closed' else 'open' end, 0, :start from contacts`,
      )
      .run({ start });
    // i-th message: conversation i mod 20k, created evenly over 60 days, outcomes by i mod 100.
    db.$client
      .prepare(
        `with recursive seq(i) as (select 1 union all select i + 1 from seq where i < :n),
         m as (select i, (i % :conversations) + 1 as c, :start + cast(i * :step as integer) as at,
                      case when i % 5 < 2 then 'in' else 'out' end as dir, (i * 7) % 100 as k from seq)
         insert into messages (conversation_id, direction, "from", "to", text, encoding, segments, status, status_at, error_code, error_reason, created_at)
         select c, dir, '+447700900000', '+4477' || printf('%08d', c), 'Message number ' || i, 'gsm7', 1,
                case when dir = 'in' then 'received'
                     when k < 80 then 'delivered' when k < 84 then 'read'
                     when k < 88 then 'failed' when k < 90 then 'undeliverable' when k < 91 then 'rejected'
                     when k < 96 then 'submitted' when k < 98 then 'queued' else 'interrupted' end,
                at + 400 + (i * 7919) % 30000,
                case when dir = 'out' and k >= 84 and k < 91 then (case k % 3 when 0 then '1170' when 1 then '1240' else 'http_422' end) end,
                case when dir = 'out' and k >= 84 and k < 91 then (case k % 3 when 0 then 'Number is invalid or missing' when 1 then 'Recipient has opted out (STOP) at the carrier' else 'Vonage refused the message as invalid' end) end,
                at
           from m`,
      )
      .run({ n: MESSAGES, conversations: CONVERSATIONS, start, step });
    db.$client
      .prepare(
        `update conversations set
           last_message_at = (select max(created_at) from messages where conversation_id = conversations.id),
           last_message_preview = 'Message', last_message_direction = 'in'`,
      )
      .run();
  })();
}

async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-stats-'));
  try {
    const db = openDb(join(dir, 'bench.db'));
    const now = Date.now();
    const seedStarted = performance.now();
    seed(db, now);
    const seedMs = performance.now() - seedStarted;
    const count = (db.$client.prepare('select count(*) as n from messages').get() as { n: number }).n;
    if (count !== MESSAGES) throw new Error(`seeded ${count} messages, expected ${MESSAGES}`);

    const iso = (ms: number) => new Date(ms).toISOString();
    const month = await statsSummary({ db, now });
    let id = 0;
    const cases: [string, () => unknown, number][] = [
      [
        'baseline: message by primary key',
        async () =>
          (
            await db
              .select()
              .from(messages)
              .where(eq(messages.id, (id = (id * 7919 + 1) % MESSAGES) + 1))
          )[0],
        2_000,
      ],
      ['stats.summary() — 30 days by day', async () => await statsSummary({ db, now }), 20],
      ['stats.summary — 2 days by hour', async () => await statsSummary({ db, since: iso(now - 2 * DAY), until: iso(now) }), 20],
      ['stats.summary — all 60 days by day', async () => await statsSummary({ db, since: iso(now - SPAN), until: iso(now) }), 10],
      ['conversation.list — first page', async () => await listConversations({ db, agentId: 1 }), 200],
    ];
    const second = (await listConversations({ db, agentId: 1 })).nextCursor;
    const deep = await (async () => {
      let cursor = second;
      for (let i = 0; i < 20; i++) cursor = (await listConversations({ db, agentId: 1, cursor })).nextCursor;
      return cursor;
    })();
    cases.push(
      ['conversation.list — page 22 (cursor)', async () => await listConversations({ db, agentId: 1, cursor: deep }), 200],
      ['conversation.list — open', async () => await listConversations({ db, agentId: 1, filter: 'open' }), 200],
      ['conversation.list — search "7700 0001"', async () => await listConversations({ db, agentId: 1, search: '7700 0001' }), 20],
    );
    const results: [string, Latency][] = [];
    for (const [name, fn, runs] of cases) results.push([name, await measure(fn, runs)]);
    db.$client.close();

    printTable([
      ['', 'runs', 'p50 ms', 'p95 ms', 'max ms'],
      ...results.map(([name, r]) => [name, String(r.runs), fmtMs(r.p50Ms), fmtMs(r.p95Ms), fmtMs(r.maxMs)]),
    ]);
    console.log(
      `  seeded ${MESSAGES.toLocaleString('en')} messages, ${CONVERSATIONS.toLocaleString('en')} conversations in ${(seedMs / 1000).toFixed(1)} s (one transaction, every index in place)`,
    );
    console.log(
      `  30-day summary covers ${(month.inbound + month.outbound).toLocaleString('en')} messages: delivery rate ${((month.deliveryRate ?? 0) * 100).toFixed(1)}%, median to delivered ${month.medianTimeToDeliveredMs ?? '–'} ms, ${month.failuresByReason.length} failure reasons`,
    );
    const baselineP95 = results[0]?.[1].p95Ms ?? Number.NaN;
    // The goal (issue 17) is the default summary: 30 days by day.
    const month30 = results.find(([n]) => n.startsWith('stats.summary() — 30 days'))?.[1].p95Ms ?? Number.POSITIVE_INFINITY;
    console.log(
      `  stats.summary 30 days by day p95 ${fmtMs(month30)} ms (${(month30 / GOAL_P95_MS).toFixed(2)}× the goal, ${(month30 / baselineP95).toFixed(0)}× the primary-key lookup): ${month30 < GOAL_P95_MS ? 'met' : 'MISSED'} (goal < ${GOAL_P95_MS} ms)`,
    );
    const firstPage = results.find(([n]) => n === 'conversation.list — first page')?.[1].p95Ms ?? Number.POSITIVE_INFINITY;
    console.log(
      `  conversation.list first page p95 ${fmtMs(firstPage)} ms at ${MESSAGES.toLocaleString('en')} messages (${(firstPage / LIST_GOAL_P95_MS).toFixed(2)}× the goal, ${(firstPage / baselineP95).toFixed(0)}× the primary-key lookup): ${firstPage < LIST_GOAL_P95_MS ? 'met' : 'MISSED'} (goal < ${LIST_GOAL_P95_MS} ms)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
