/**
 * Group commit through real HTTP: concurrent signed webhooks are stored once each and answered only
 * after the commit holding them; a poison request fails alone; a lock held by another process ends
 * in 503s and, retried, in each message stored once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ParleyEvent } from '@parley/shared';
import { signSinchWebhook } from '../providers/sinch/signature';
import { committedCount, holdWriteLock } from '../testing/db-lock';
import { inboundPayload, startTestServer, type TestServer } from '../testing/harness';
import { raw } from '../testing/raw';
import { itSqlite, TEST_DB } from '../testing/temp-db';

let s: TestServer | undefined;
afterEach(async () => {
  await s?.dispose();
  s = undefined;
});

/** A count of committed rows only: SQLite's from a connection of its own; PostgreSQL's from the pool, outside any transaction. */
const committed = async (server: TestServer, query: string, ...params: unknown[]): Promise<number> =>
  TEST_DB === 'sqlite'
    ? committedCount(server.config.databasePath, query, ...params)
    : Number((await raw(server.db).get<{ n: number }>(query, ...params))?.n);
const committedMessages = (server: TestServer, uuid: string) =>
  committed(server, 'select count(*) as n from messages where provider_message_uuid = ?', uuid);

describe('group commit (HTTP)', () => {
  it('200 concurrent signed inbounds: each answered 200 only once committed, stored once, each event heard once in id order', async () => {
    const server = (s = await startTestServer());
    const heard: ParleyEvent[] = [];
    const controller = new AbortController();
    const following = (async () => {
      for await (const e of server.events.subscribe(null, controller.signal)) heard.push(e);
    })();
    const before = server.events.batchStats;
    const payloads = Array.from({ length: 200 }, (_, i) =>
      inboundPayload({ from: `4477009${String(20_000 + (i % 25)).padStart(5, '0')}`, text: `concurrent ${i}` }),
    );
    const answers = await Promise.all(
      payloads.map(async (p) => {
        const res = await server.postWebhook('/webhooks/inbound', p);
        // Read from another connection the moment the answer arrives: only committed rows are there.
        return { status: res.status, committed: await committedMessages(server, p.message_uuid as string) };
      }),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(answers.every((a) => a.committed === 1)).toBe(true);
    expect(await committed(server, "select count(*) as n from messages where text like 'concurrent %'")).toBe(200);
    const stats = server.events.batchStats;
    expect(stats.items - before.items).toBe(200);
    // Concurrent requests shared transactions.
    expect(stats.batches - before.batches).toBeLessThan(200);
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    await following;
    const ids = heard.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(heard.filter((e) => e.type === 'message.created')).toHaveLength(200);
    expect(ids).toEqual((await server.events.readAfter(ids[0] !== undefined ? ids[0] - 1 : 0, 1000)).map((e) => e.id));
  });

  it('a poison webhook among concurrent ones fails only its own request (500, as alone); the others commit', async () => {
    const server = (s = await startTestServer());
    // A constraint the write trips on: the store aborts that message's insert (the savepoint), nothing else.
    if (TEST_DB === 'sqlite') {
      server.db.$client.exec(
        "create trigger poison_inbound before insert on messages when new.text = 'poison' begin select raise(abort, 'poisoned message'); end",
      );
    } else {
      await raw(server.db).run(
        "create function poison_inbound() returns trigger language plpgsql as $$ begin if new.text = 'poison' then raise exception 'poisoned message'; end if; return new; end $$",
      );
      await raw(server.db).run('create trigger poison_inbound before insert on messages for each row execute function poison_inbound()');
    }
    const texts = Array.from({ length: 30 }, (_, i) => (i === 13 ? 'poison' : `healthy ${i}`));
    const before = server.events.batchStats;
    const answers = await Promise.all(
      texts.map(async (text) => {
        const res = await server.postWebhook('/webhooks/inbound', inboundPayload({ text }));
        return { text, status: res.status, body: (await res.json()) as unknown };
      }),
    );
    const poison = answers.find((a) => a.text === 'poison');
    expect(poison).toMatchObject({ status: 500, body: { error: 'internal error' } });
    expect(answers.filter((a) => a.text !== 'poison').every((a) => a.status === 200)).toBe(true);
    expect(await committed(server, "select count(*) as n from messages where text like 'healthy %'")).toBe(29);
    expect(await committed(server, "select count(*) as n from messages where text = 'poison'")).toBe(0);
    expect(server.events.batchStats.failedItems - before.failedItems).toBe(1);
    // Alone, it is answered the same.
    const alone = await server.postWebhook('/webhooks/inbound', inboundPayload({ text: 'poison' }));
    expect(alone.status).toBe(500);
  });

  it('the same message id 20 times concurrently: stored once, one "stored" and 19 "duplicate", all 200', async () => {
    const server = (s = await startTestServer());
    const p = inboundPayload({ text: 'twenty times' });
    const answers = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const res = await server.postWebhook('/webhooks/inbound', p);
        return { status: res.status, outcome: ((await res.json()) as { outcome: string }).outcome };
      }),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(answers.filter((a) => a.outcome === 'stored')).toHaveLength(1);
    expect(answers.filter((a) => a.outcome === 'duplicate')).toHaveLength(19);
    expect(await committedMessages(server, p.message_uuid as string)).toBe(1);
  });

  it('a replayed Sinch callback in the same batch as its original: the original stored, the replay refused 401, as one after the other', async () => {
    const secret = 'parley-test-sinch-group-secret';
    const server = (s = await startTestServer({ sinch: { webhookSecret: secret } as never }));
    const body = JSON.stringify({
      id: '01GROUPCOMMIT0000000000001',
      type: 'mo_text',
      from: '14155550177',
      to: (server.config.sinch.numbers[0] ?? '').replace('+', ''),
      body: 'sent twice with one nonce',
      received_at: new Date().toISOString(),
    });
    const headers = { 'content-type': 'application/json', ...signSinchWebhook({ rawBody: body, secret }) };
    const post = () => fetch(`${server.url}/webhooks/sinch/inbound`, { method: 'POST', headers, body });
    const statuses = (await Promise.all([post(), post(), post()])).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 401, 401]);
    expect(await committed(server, "select count(*) as n from messages where text = 'sent twice with one nonce'")).toBe(1);
  });

  it('a lone webhook is committed in a batch of its own, without waiting for others', async () => {
    const server = (s = await startTestServer());
    const before = server.events.batchStats;
    const p = inboundPayload({ text: 'alone' });
    const res = await server.postWebhook('/webhooks/inbound', p);
    expect(res.status).toBe(200);
    expect(await committedMessages(server, p.message_uuid as string)).toBe(1);
    const after = server.events.batchStats;
    expect(after.batches - before.batches).toBe(1);
    expect(after.items - before.items).toBe(1);
  });

  itSqlite(
    'another process holding the write lock during a batch: 503 with Retry-After while it is held (never 500, nothing half-stored); retried, each stored once',
    async () => {
      const server = (s = await startTestServer());
      const payloads = Array.from({ length: 20 }, (_, i) => inboundPayload({ text: `locked ${i}` }));
      // Stored before the lock: its retry below is a duplicate.
      const early = payloads[0] as Record<string, unknown>;
      expect((await server.postWebhook('/webhooks/inbound', early)).status).toBe(200);
      const lock = await holdWriteLock(server.config.databasePath, 1500);
      const during = await Promise.all(payloads.slice(1).map((p) => server.postWebhook('/webhooks/inbound', p)));
      await lock.released;
      // While the lock is held: 503 (Retry-After, never 500); one that reached the writer after the release: 200, committed.
      const statuses = during.map((r) => `${r.status}${r.status === 503 ? ` ${r.headers.get('retry-after')}` : ''}`);
      expect(
        statuses.every((st) => st === '503 5' || st === '200'),
        statuses.join(','),
      ).toBe(true);
      expect(statuses.filter((st) => st === '503 5').length).toBeGreaterThan(0);
      const okDuring = during.filter((r) => r.status === 200).length;
      expect(await committed(server, "select count(*) as n from messages where text like 'locked %'")).toBe(1 + okDuring);
      // The provider retries (re-signed, as Vonage does): all 200, each stored exactly once.
      const retried = await Promise.all(payloads.map((p) => server.postWebhook('/webhooks/inbound', p)));
      expect(retried.every((r) => r.status === 200)).toBe(true);
      expect(await committed(server, "select count(*) as n from messages where text like 'locked %'")).toBe(20);
      for (const p of payloads) expect(await committedMessages(server, p.message_uuid as string)).toBe(1);
    },
  );
});
