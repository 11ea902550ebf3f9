import { createHash, createSecretKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { one } from '../../db/store';
import { eq } from 'drizzle-orm';
import { contacts, conversations, events, messageStatusHistory, messages, webhookLog } from '../../db/tables';
import { inboundPayload, startTestServer, statusPayload, type TestServer } from '../../testing/harness';
import { signVonageWebhook } from './sign';
import { itSqlite } from '../../testing/temp-db';

const example = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../../test/fixtures/vonage/examples/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.dispose();
});

const count = (table: typeof messages | typeof events | typeof webhookLog | typeof messageStatusHistory) => s.db.$count(table);
const nowS = () => Math.floor(Date.now() / 1000);

/** An outbound message as the outbox leaves it before the send response: queued, with our client_ref. */
async function insertOutbound(clientRef: string): Promise<number> {
  return await s.events.write(async (tx) => {
    await tx.insert(contacts).values({ phone: '+447700900777', createdAt: Date.now() }).onConflictDoNothing();
    const c = (await tx.select().from(contacts).where(eq(contacts.phone, '+447700900777')))[0];
    if (!c) throw new Error('no contact');
    await tx.insert(conversations).values({ contactId: c.id, ourNumber: '+447700900000', createdAt: Date.now() }).onConflictDoNothing();
    const conv = (await tx.select().from(conversations).where(eq(conversations.contactId, c.id)))[0];
    if (!conv) throw new Error('no conversation');
    return one(
      await tx
        .insert(messages)
        .values({
          conversationId: conv.id,
          direction: 'out',
          clientRef,
          from: '+447700900000',
          to: '+447700900777',
          text: 'hi',
          encoding: 'gsm7',
          segments: 1,
          status: 'queued',
          statusAt: Date.now(),
          createdAt: Date.now(),
        })
        .returning({ id: messages.id }),
    ).id;
  });
}

describe('POST /webhooks/inbound', () => {
  it('stores the example inbound: contact, conversation, message, events — then 200', async () => {
    const before = await count(events);
    const res = await s.postWebhook('/webhooks/inbound', example('inbound-sms.json'));
    expect(res.status).toBe(200);
    const msg = (await s.db.select().from(messages).where(eq(messages.providerMessageUuid, 'aaaaaaaa-bbbb-cccc-dddd-0123456789ab')))[0];
    expect(msg).toMatchObject({
      direction: 'in',
      from: '+447700900001',
      to: '+447700900000',
      status: 'received',
      text: 'Hello From Vonage!',
      encoding: 'gsm7',
      segments: 2,
      price: '0.0333',
    });
    const conv = (
      await s.db
        .select()
        .from(conversations)
        .where(eq(conversations.id, msg?.conversationId ?? -1))
    )[0];
    expect(conv).toMatchObject({ ourNumber: '+447700900000', unreadCount: 1, lastMessagePreview: 'Hello From Vonage!', status: 'open' });
    const types = (await s.events.readAfter(0)).slice(before).map((e) => e.type);
    expect(types).toEqual(['message.created', 'conversation.updated']);
  });

  it('treats an exact replay as a duplicate: 200, nothing added, no event', async () => {
    const body = JSON.stringify(inboundPayload());
    const authorization = await signVonageWebhook(body, s.signatureSecret);
    const first = await s.postWebhook('/webhooks/inbound', null, { raw: body, authorization });
    expect(first.status).toBe(200);
    const [m, e] = [await count(messages), await count(events)];
    const replay = await s.postWebhook('/webhooks/inbound', null, { raw: body, authorization });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({ outcome: 'duplicate' });
    expect([await count(messages), await count(events)]).toEqual([m, e]);
  });

  it('stores exactly one message for 50 concurrent copies of one inbound', async () => {
    const body = inboundPayload({ from: '447700900555' });
    const m = await count(messages);
    const results = await Promise.all(Array.from({ length: 50 }, () => s.postWebhook('/webhooks/inbound', body)));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(await count(messages)).toBe(m + 1);
    const conv = (
      await s.db
        .select({ unread: conversations.unreadCount })
        .from(conversations)
        .innerJoin(contacts, eq(contacts.id, conversations.contactId))
        .where(eq(contacts.phone, '+447700900555'))
    )[0];
    expect(conv?.unread).toBe(1);
  });

  it('accepts a genuine token an hour old (a Vonage retry after an outage)', async () => {
    const body = JSON.stringify(inboundPayload());
    const authorization = await signVonageWebhook(body, s.signatureSecret, { iat: nowS() - 3600 });
    const res = await s.postWebhook('/webhooks/inbound', null, { raw: body, authorization });
    expect(res.status).toBe(200);
  });

  describe('refuses bad signatures with 401 and stores nothing but a webhook_log row', () => {
    const key = (secret: string) => createSecretKey(Buffer.from(secret, 'utf8'));
    const hash = (b: string) => createHash('sha256').update(b).digest('hex');
    const cases: [string, (body: string) => Promise<{ raw: string; authorization: string }>][] = [
      ['wrong secret', async (b) => ({ raw: b, authorization: await signVonageWebhook(b, 'not-the-secret') })],
      ['tampered body', async (b) => ({ raw: b.replace('Hello', 'Jello'), authorization: await signVonageWebhook(b, s.signatureSecret) })],
      [
        'wrong payload_hash',
        async (b) => ({ raw: b, authorization: await signVonageWebhook(b, s.signatureSecret, { payloadHash: hash('x') }) }),
      ],
      ['iat too old', async (b) => ({ raw: b, authorization: await signVonageWebhook(b, s.signatureSecret, { iat: nowS() - 90_001 }) })],
      ['iat in the future', async (b) => ({ raw: b, authorization: await signVonageWebhook(b, s.signatureSecret, { iat: nowS() + 600 }) })],
      [
        'alg none',
        async (b) => ({ raw: b, authorization: `Bearer ${new UnsecuredJWT({ payload_hash: hash(b) }).setIssuedAt().encode()}` }),
      ],
      ['HS512', async (b) => ({ raw: b, authorization: await signVonageWebhook(b, s.signatureSecret, { alg: 'HS512' }) })],
      [
        'no payload_hash',
        async (b) => ({
          raw: b,
          authorization: `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().sign(key(s.signatureSecret))}`,
        }),
      ],
      ['not a bearer token', async (b) => ({ raw: b, authorization: 'Basic dXNlcjpwYXNz' })],
    ];
    it.each(cases)('%s', async (_name, make) => {
      const { raw, authorization } = await make(JSON.stringify(inboundPayload({ text: 'Hello there' })));
      const [m, e, l] = [await count(messages), await count(events), await count(webhookLog)];
      const res = await s.postWebhook('/webhooks/inbound', null, { raw, authorization });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: string }).error).toBeTruthy();
      expect([await count(messages), await count(events), await count(webhookLog)]).toEqual([m, e, l + 1]);
    });
  });

  it('answers 503 to an unsigned callback (so Vonage retries it signed) and keeps it in webhook_log', async () => {
    const body = inboundPayload();
    const m = await count(messages);
    const res = await s.postWebhook('/webhooks/inbound', body, { authorization: null });
    expect(res.status).toBe(503);
    expect(await count(messages)).toBe(m);
    const row = (await s.db.select().from(webhookLog).orderBy(webhookLog.id)).at(-1);
    expect(row).toMatchObject({
      path: '/inbound',
      signatureOk: false,
      httpStatus: 503,
      outcome: 'unsigned',
      rawBody: JSON.stringify(body),
    });
  });

  it('answers 400 / 413 / 415 to unreadable bodies and stays healthy', async () => {
    const bad = await s.postWebhook('/webhooks/inbound', null, { raw: '{"channel": "sms",' });
    expect(bad.status).toBe(400);
    const big = await s.postWebhook('/webhooks/inbound', null, { raw: JSON.stringify({ text: 'x'.repeat(200_000) }) });
    expect(big.status).toBe(413);
    const form = await s.postWebhook('/webhooks/inbound', null, { raw: 'a=b', contentType: 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    const get = await fetch(`${s.url}/webhooks/inbound`);
    expect(get.status).toBe(405);
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
  });

  it('logs a well-signed body that fails the schema and answers 200 (Vonage would retry forever)', async () => {
    const m = await count(messages);
    const res = await s.postWebhook('/webhooks/inbound', { channel: 'sms', text: 'no uuid, no numbers' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ outcome: 'schema_error' });
    expect(await count(messages)).toBe(m);
    const row = (await s.db.select().from(webhookLog).orderBy(webhookLog.id)).at(-1);
    expect(row).toMatchObject({ signatureOk: true, outcome: 'schema_error' });
    expect(row?.error).toContain('message_uuid');
  });
});

describe('POST /webhooks/status', () => {
  const final = async (statuses: string[]) => {
    const ref = crypto.randomUUID();
    const uuid = crypto.randomUUID();
    const id = await insertOutbound(ref);
    let t = Date.parse('2025-02-03T12:14:25Z');
    for (const status of statuses) {
      t += 1000;
      const error = ['rejected', 'undeliverable'].includes(status) ? { type: 'x', title: 1170, detail: 'Invalid number' } : undefined;
      const res = await s.postWebhook(
        '/webhooks/status',
        statusPayload({ message_uuid: uuid, client_ref: ref, status, timestamp: new Date(t).toISOString(), ...(error ? { error } : {}) }),
      );
      expect(res.status).toBe(200);
    }
    return (await s.db.select().from(messages).where(eq(messages.id, id)))[0];
  };

  const orders: [string[], string][] = [
    [['submitted', 'delivered'], 'delivered'],
    [['delivered', 'submitted'], 'delivered'],
    [['submitted', 'rejected'], 'rejected'],
    [['rejected', 'submitted'], 'rejected'],
    [['rejected', 'delivered'], 'rejected'],
    [['delivered', 'undeliverable'], 'delivered'],
    [['submitted', 'delivered', 'read'], 'read'],
    [['read', 'delivered', 'submitted'], 'read'],
    [['undeliverable', 'rejected', 'delivered', 'submitted'], 'undeliverable'],
    [['submitted', 'submitted', 'delivered', 'delivered'], 'delivered'],
  ];
  it.each(orders)('%j ends %s', async (statuses, expected) => {
    const msg = await final(statuses);
    expect(msg?.status).toBe(expected);
    if (expected === 'rejected' || expected === 'undeliverable') {
      expect(msg).toMatchObject({ errorCode: '1170', errorReason: 'Number is invalid or missing' });
    }
  });

  it('records every distinct status in history, and a duplicate adds nothing', async () => {
    const ref = crypto.randomUUID();
    const uuid = crypto.randomUUID();
    const id = await insertOutbound(ref);
    const body = statusPayload({ message_uuid: uuid, client_ref: ref, status: 'delivered', timestamp: '2025-02-03T12:14:31Z' });
    const e = await count(events);
    for (let i = 0; i < 3; i++) expect((await s.postWebhook('/webhooks/status', body)).status).toBe(200);
    await s.postWebhook(
      '/webhooks/status',
      statusPayload({ message_uuid: uuid, client_ref: ref, status: 'submitted', timestamp: '2025-02-03T12:14:25Z' }),
    );
    const history = await s.db.select().from(messageStatusHistory).where(eq(messageStatusHistory.messageId, id));
    expect(history.map((h) => h.status).sort()).toEqual(['delivered', 'submitted']);
    expect(await count(events)).toBe(e + 1);
    expect((await s.db.select().from(messages).where(eq(messages.id, id)))[0]?.providerMessageUuid).toBe(uuid);
  });

  it('keeps a status for an unknown message as an orphan (200)', async () => {
    const res = await s.postWebhook('/webhooks/status', example('status-delivered.json'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ outcome: 'orphan' });
    const row = (
      await s.db
        .select()
        .from(messageStatusHistory)
        .where(eq(messageStatusHistory.providerMessageUuid, 'aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab'))
    )[0];
    expect(row?.messageId).toBeNull();
  });

  it('matches a status by client_ref before the send response, then adopts earlier orphans of the same uuid', async () => {
    const ref = crypto.randomUUID();
    const uuid = crypto.randomUUID();
    // A uuid-only "submitted" arrives first: nothing knows that uuid yet.
    const orphan = await s.postWebhook(
      '/webhooks/status',
      statusPayload({
        message_uuid: uuid,
        status: 'submitted',
        usage: { price: '0.05', currency: 'EUR' },
        timestamp: '2025-02-03T12:00:00Z',
      }),
    );
    expect(await orphan.json()).toMatchObject({ outcome: 'orphan' });
    const id = await insertOutbound(ref);
    // Then a status carrying our client_ref: found by it, uuid learned, the orphan adopted.
    const res = await s.postWebhook(
      '/webhooks/status',
      statusPayload({ message_uuid: uuid, client_ref: ref, status: 'delivered', timestamp: '2025-02-03T12:00:05Z' }),
    );
    expect(await res.json()).toMatchObject({ outcome: 'applied' });
    const msg = (await s.db.select().from(messages).where(eq(messages.id, id)))[0];
    expect(msg).toMatchObject({ status: 'delivered', providerMessageUuid: uuid, price: '0.05' });
    const history = await s.db.select().from(messageStatusHistory).where(eq(messageStatusHistory.providerMessageUuid, uuid));
    expect(history.every((h) => h.messageId === id)).toBe(true);
  });

  it('accepts the example payloads: submitted, delivered, rejected (numeric-string title)', async () => {
    for (const name of ['status-submitted.json', 'status-delivered.json', 'status-rejected.json']) {
      const res = await s.postWebhook('/webhooks/status', example(name));
      expect(res.status).toBe(200);
    }
  });
});

describe('GET /healthz', () => {
  itSqlite('answers 503 when the database is unusable', async () => {
    const t = await startTestServer();
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    t.db.$client.close();
    const res = await fetch(`${t.url}/healthz`);
    expect(res.status).toBe(503);
    await new Promise<void>((resolve) => setTimeout(resolve, 10));
    await t.dispose().catch(() => undefined);
  });
});
