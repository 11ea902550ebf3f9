/**
 * Retention over a real server: 20,000 messages older than retentionDays are deleted in batches by
 * the job a restart runs (it never ran: overdue), while signed inbound webhooks keep arriving; their
 * answer times are measured against the same load before the job.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect } from 'vitest';
import { jobRuns } from '../db/tables';
import { inboundPayload, startTestServer, type TestServer } from '../testing/harness';
import { trpcCall } from '../testing/trpc-http';
import { RETENTION_BATCH } from '../domain/retention';
import { RETENTION_JOB, type RetentionResult } from './retention';
import { TEST_ADMIN } from '../config';
import { itSqlite } from '../testing/temp-db';

const ADMIN = TEST_ADMIN;
const DAY = 86_400_000;
const OLD = 20_000;
const CONVERSATIONS = 200;

let dir = '';
const open: TestServer[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Old history straight into the database: conversations, messages (the FTS trigger indexes them), status rows, outbox rows. */
function seed(s: TestServer): void {
  const db = s.db.$client;
  const now = Date.now();
  const old = now - 60 * DAY;
  db.transaction(() => {
    const contact = db.prepare('insert into contacts (phone, created_at) values (?, ?)');
    const conversation = db.prepare(
      "insert into conversations (contact_id, our_number, provider, status, last_message_at, last_message_preview, last_message_direction, unread_count, created_at) values (?, '+447700900000', 'vonage', 'open', ?, ?, 'in', 1, ?)",
    );
    const message = db.prepare(
      'insert into messages (conversation_id, direction, provider_message_uuid, client_ref, "from", "to", text, encoding, segments, status, status_at, created_at) values (?, ?, ?, ?, ?, \'+447700900000\', ?, \'gsm7\', 1, ?, ?, ?)',
    );
    const history = db.prepare(
      "insert into message_status_history (message_id, provider_message_uuid, status, provider_timestamp, received_at, applied, raw) values (?, ?, 'delivered', ?, ?, 1, '{}')",
    );
    const outbox = db.prepare(
      "insert into outbox (message_id, provider, priority, state, next_attempt_at, created_at) values (?, 'vonage', 10, 'queued', ?, ?)",
    );
    for (let c = 1; c <= CONVERSATIONS; c++) {
      const phone = `+4477009${String(30_000 + c)}`;
      const contactId = Number(contact.run(phone, old).lastInsertRowid);
      conversation.run(contactId, old, 'old preview', old);
    }
    for (let i = 0; i < OLD; i++) {
      const conv = (i % CONVERSATIONS) + 1;
      const out = i % 2 === 0;
      const id = Number(
        message.run(
          conv,
          out ? 'out' : 'in',
          `old-${i}`,
          out ? `ref-${i}` : null,
          `+4477009${String(30_000 + conv)}`,
          `ancient secret text ${i}`,
          'delivered',
          old + i,
          old + i,
        ).lastInsertRowid,
      );
      if (out) history.run(id, `old-${i}`, old + i, old + i);
      if (i % 200 === 0) outbox.run(id, old, old);
    }
    // The even conversations also have a recent message: they keep it and their preview.
    for (let c = 2; c <= CONVERSATIONS; c += 2) {
      message.run(c, 'in', `new-${c}`, null, `+4477009${String(30_000 + c)}`, `recent text ${c}`, 'delivered', now, now);
      db.prepare("update conversations set last_message_at = ?, last_message_preview = 'recent text' where id = ?").run(now, c);
    }
  })();
}

/** Signed inbound webhooks, `loops` at a time, until `done()`; each answer's status and time. */
async function load(
  s: TestServer,
  loops: number,
  done: () => boolean | Promise<boolean>,
): Promise<{ status: number; ms: number; at: number }[]> {
  const out: { status: number; ms: number; at: number }[] = [];
  let n = 0;
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (!(await done())) {
        n += 1;
        const t0 = performance.now();
        const res = await s.postWebhook(
          '/webhooks/inbound',
          inboundPayload({ from: `4477009${String(40_000 + (n % 500))}`, text: `load ${n}` }),
        );
        await res.arrayBuffer();
        out.push({ status: res.status, ms: performance.now() - t0, at: Date.now() });
      }
    }),
  );
  return out;
}

const count = (s: TestServer, sql: string) => (s.db.$client.prepare(sql).get() as { n: number }).n;
const summary = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
  return { n: xs.length, p50: +q(0.5).toFixed(1), p99: +q(0.99).toFixed(1), max: +(sorted.at(-1) ?? 0).toFixed(1) };
};

describe('retention', () => {
  itSqlite(
    'deletes old messages with their history, index entries and outbox rows in batches while webhooks keep answering',
    async () => {
      dir = mkdtempSync(join(tmpdir(), 'parley-retention-'));
      const a = await startTestServer({}, dir);
      const cookie = (await trpcCall(a.url, 'auth.login', ADMIN, '')).cookie ?? '';
      expect((await trpcCall(a.url, 'settings.update', { retentionDays: 30 }, cookie)).status).toBe(200);
      seed(a);
      // The same webhook load without the job, for comparison.
      const until = Date.now() + 1500;
      const baseline = await load(a, 2, () => Date.now() > until);
      await a.close();

      // A start with retention on and no run recorded: the job runs now.
      const b = await startTestServer({}, dir);
      open.push(b);
      const ran = async () => (await b.db.select().from(jobRuns).where(eq(jobRuns.name, RETENTION_JOB)))[0];
      const deadline = Date.now() + 60_000;
      const during = await load(b, 2, async () => (await ran()) !== undefined || Date.now() > deadline);
      const run = await ran();
      expect(run).toBeDefined();
      const result = JSON.parse(run?.result ?? '{}') as RetentionResult;

      expect(result).toMatchObject({ deleted: OLD, retentionDays: 30 });
      expect(result.batches).toBeGreaterThanOrEqual(OLD / RETENTION_BATCH);
      // Generous: one batch of 100 deletes is a few ms; a loaded 2-core machine may stretch it.
      expect(result.longestBatchMs).toBeLessThan(1000);
      expect(during.every((r) => r.status === 200)).toBe(true);
      expect(during.length).toBeGreaterThan(0);
      console.log('retention', {
        ...result,
        webhooksBefore: summary(baseline.map((r) => r.ms)),
        webhooksDuring: summary(during.map((r) => r.ms)),
      });

      // Nothing old is left anywhere; the recent messages (and the load's) stay.
      expect(count(b, "select count(*) n from messages where text like 'ancient%'")).toBe(0);
      expect(count(b, "select count(*) n from messages where text like 'recent%'")).toBe(CONVERSATIONS / 2);
      expect(count(b, "select count(*) n from message_status_history where provider_message_uuid like 'old-%'")).toBe(0);
      expect(count(b, 'select count(*) n from outbox where message_id not in (select id from messages)')).toBe(0);
      expect(count(b, 'select count(*) n from messages_fts where messages_fts match \'"ancient secret"\'')).toBe(0);
      expect(count(b, 'select count(*) n from messages_fts')).toBe(count(b, 'select count(*) n from messages'));
      // Conversations are kept: emptied ones without a preview, the others as they were.
      expect(count(b, 'select count(*) n from conversations where id <= 200')).toBe(CONVERSATIONS);
      expect(
        count(
          b,
          'select count(*) n from conversations where id <= 200 and id % 2 = 1 and last_message_preview is null and unread_count = 0',
        ),
      ).toBe(CONVERSATIONS / 2);
      expect(count(b, "select count(*) n from conversations where id <= 200 and id % 2 = 0 and last_message_preview = 'recent text'")).toBe(
        CONVERSATIONS / 2,
      );

      // Durable: the next start within a day does not run it again.
      const lastRunAt = run?.lastRunAt;
      await b.close();
      open.splice(0);
      const c = await startTestServer({}, dir);
      open.push(c);
      await new Promise((r) => setTimeout(r, 300));
      expect((await c.db.select().from(jobRuns).where(eq(jobRuns.name, RETENTION_JOB)))[0]?.lastRunAt).toBe(lastRunAt);
    },
    120_000,
  );
});
