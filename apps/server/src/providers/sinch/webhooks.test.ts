import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { desc, eq } from 'drizzle-orm';
import express from 'express';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { conversations, messageStatusHistory, messages, webhookLog } from '../../db/tables';
import { queueMessage } from '../../domain/send';
import { openTestDb } from '../../testing/temp-db';
import { createNonceStore } from '../../webhooks/nonces';
import { sinchWebhookRouter } from './webhooks';
import { signSinchWebhook } from './signature';

const example = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../../test/fixtures/sinch/examples/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

const SECRET = 'parley-test-sinch-webhook-secret';
const OUR = '+12015550100';
const THEM = '+12015550123';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

interface PostOptions {
  /** Sign with this secret (default: the stack's secret, if any); null: send unsigned. */
  secret?: string | null;
  headers?: Record<string, string>;
  contentType?: string;
  method?: string;
}

/** A mini stack: temp database, event log, and only the Sinch router on 127.0.0.1:0. */
async function startStack(o: { webhookSecret?: string; maxBodyBytes?: number; onQueued?: () => void } = {}) {
  const t = await openTestDb('parley-sinch-webhook-');
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const outcomes: [string, string][] = [];
  const app = express();
  app.use(
    '/webhooks/sinch',
    await sinchWebhookRouter({
      db: t.db,
      log: t.log,
      logger,
      helpText: 'Parley help',
      maxBodyBytes: o.maxBodyBytes ?? 64 * 1024,
      nonces: createNonceStore(t.db),
      ...(o.webhookSecret ? { webhookSecret: o.webhookSecret } : {}),
      ...(o.onQueued ? { onQueued: o.onQueued } : {}),
      onOutcome: (path, outcome) => void outcomes.push([path, outcome]),
    }),
  );
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await t.dispose();
  });

  async function post(path: '/inbound' | '/status', body: unknown, opts: PostOptions = {}) {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    const secret = opts.secret === undefined ? o.webhookSecret : opts.secret;
    const headers: Record<string, string> = {
      'content-type': opts.contentType ?? 'application/json',
      ...(secret ? signSinchWebhook({ rawBody: raw, secret }) : {}),
      ...opts.headers,
    };
    const res = await fetch(`${url}/webhooks/sinch${path}`, { method: opts.method ?? 'POST', headers, body: raw });
    return { status: res.status, json: (await res.json()) as { ok?: boolean; outcome?: string; error?: string } };
  }

  const lastLogged = async () => (await t.db.select().from(webhookLog).orderBy(desc(webhookLog.id)).limit(1))[0];
  const message = async (id: number) => (await t.db.select().from(messages).where(eq(messages.id, id)))[0];
  /** An outbound Sinch message, queued (as the outbox leaves it before the send response). */
  async function outbound() {
    const { message: m } = await queueMessage({
      log: t.log,
      ourNumber: OUR,
      provider: 'sinch',
      to: THEM,
      text: 'Your order #42 is ready',
      agentId: 1,
    });
    const row = await message(m.id);
    if (!row?.clientRef) throw new Error('no client_ref');
    return { id: m.id, clientRef: row.clientRef };
  }
  return { ...t, url, lines, outcomes, post, lastLogged, message, outbound };
}

type Stack = Awaited<ReturnType<typeof startStack>>;

/** A recipient report for `m`, from an example file, with our batch id and client_reference. */
function reportFor(m: { clientRef: string }, file: string, over: Record<string, unknown> = {}) {
  return { ...example(file), batch_id: `BATCH-${m.clientRef}`, client_reference: m.clientRef, ...over };
}

const history = async (s: Stack, id: number) =>
  (await s.db.select().from(messageStatusHistory).where(eq(messageStatusHistory.messageId, id))).map((h) => [h.status, h.applied]);

describe('Sinch webhooks: inbound mo_text', () => {
  it('stores examples/inbound-mo-text.json (emoji, numbers without +) on a sinch conversation for the `to` number', async () => {
    const s = await startStack();
    const body = example('inbound-mo-text.json');
    const res = await s.post('/inbound', body);
    expect(res).toEqual({ status: 200, json: { ok: true, outcome: 'stored' } });
    const row = (await s.db.select().from(messages).where(eq(messages.providerMessageUuid, '01W4FFL35P4NC4K35SMSBATCH8')))[0];
    expect(row).toMatchObject({
      direction: 'in',
      from: '+12015555555',
      to: '+12017777777',
      text: 'Hello John! 👋',
      encoding: 'ucs2',
      status: 'received',
      providerTimestamp: Date.parse('2024-06-06T07:52:37.386Z'),
      price: null,
    });
    const conv = (
      await s.db
        .select()
        .from(conversations)
        .where(eq(conversations.id, row?.conversationId ?? -1))
    )[0];
    expect(conv).toMatchObject({ ourNumber: '+12017777777', provider: 'sinch', unreadCount: 1 });
    expect(await s.post('/inbound', body)).toEqual({ status: 200, json: { ok: true, outcome: 'duplicate' } });
    expect(s.outcomes).toEqual([
      ['/webhooks/sinch/inbound', 'stored'],
      ['/webhooks/sinch/inbound', 'duplicate'],
    ]);
  });

  it('numbers with + land in the same conversation; the /status path takes inbound too (one shared URL)', async () => {
    const s = await startStack();
    await s.post('/inbound', example('inbound-mo-text.json'));
    const plus = {
      ...example('inbound-mo-text.json'),
      id: '01W4FFL35P4NC4K35SMSBATCH9',
      from: '+12015555555',
      to: '+12017777777',
      body: 'again',
    };
    expect((await s.post('/status', plus)).json.outcome).toBe('stored');
    expect(await s.db.select().from(conversations)).toHaveLength(1);
    expect((await s.db.select().from(messages)).map((m) => [m.from, m.to, m.text])).toEqual([
      ['+12015555555', '+12017777777', 'Hello John! 👋'],
      ['+12015555555', '+12017777777', 'again'],
    ]);
    expect(s.outcomes.at(-1)).toEqual(['/webhooks/sinch/status', 'stored']);
  });

  it('HELP queues the help text and calls onQueued', async () => {
    let woken = 0;
    const s = await startStack({ onQueued: () => void woken++ });
    await s.post('/inbound', { ...example('inbound-mo-text.json'), body: 'HELP' });
    expect(woken).toBe(1);
    const reply = (await s.db.select().from(messages).where(eq(messages.direction, 'out')))[0];
    expect(reply).toMatchObject({ text: 'Parley help', from: '+12017777777', to: '+12015555555', status: 'queued' });
  });

  it('a failure while processing answers 500 (Sinch retries) and keeps the body', async () => {
    const s = await startStack({
      onQueued: () => {
        throw new Error('outbox down');
      },
    });
    const res = await s.post('/inbound', { ...example('inbound-mo-text.json'), body: 'HELP' });
    expect(res).toMatchObject({ status: 500, json: { outcome: 'error' } });
    expect(await s.lastLogged()).toMatchObject({ httpStatus: 500, outcome: 'error', path: '/webhooks/sinch/inbound' });
  });
});

describe('Sinch webhooks: delivery reports', () => {
  it('Dispatched → submitted, then Delivered → delivered (the batch id becomes the provider id)', async () => {
    const s = await startStack();
    const m = await s.outbound();
    expect((await s.post('/status', reportFor(m, 'recipient-delivery-report-dispatched.json'))).json.outcome).toBe('applied');
    expect(await s.message(m.id)).toMatchObject({ status: 'submitted', providerMessageUuid: `BATCH-${m.clientRef}` });
    expect((await s.post('/status', reportFor(m, 'recipient-delivery-report-delivered.json'))).json.outcome).toBe('applied');
    expect(await s.message(m.id)).toMatchObject({ status: 'delivered', errorCode: null, errorReason: null });
    expect(await history(s, m.id)).toEqual([
      ['submitted', true],
      ['delivered', true],
    ]);
  });

  it('Aborted (code 412) → rejected with a readable reason; the Sinch status is kept as the title', async () => {
    const s = await startStack();
    const m = await s.outbound();
    await s.post('/status', reportFor(m, 'recipient-delivery-report-aborted.json'));
    expect(await s.message(m.id)).toMatchObject({
      status: 'rejected',
      errorCode: '412',
      errorTitle: 'Aborted',
      errorReason: 'Destination region not provisioned on the Sinch account',
    });
  });

  it('Expired with an SMPP code → undeliverable; the recipient may carry a +', async () => {
    const s = await startStack();
    const m = await s.outbound();
    await s.post('/status', reportFor(m, 'recipient-delivery-report-delivered.json', { status: 'Expired', code: 27, recipient: THEM }));
    expect(await s.message(m.id)).toMatchObject({
      status: 'undeliverable',
      errorCode: '27',
      errorReason: 'Operator reported Expired (SMPP error code 27)',
    });
  });

  it('Queued changes nothing (kept in history only); Unknown leaves a submitted message submitted', async () => {
    const s = await startStack();
    const m = await s.outbound();
    await s.post(
      '/status',
      reportFor(m, 'recipient-delivery-report-dispatched.json', { status: 'Queued', code: 400, at: '2025-02-03T12:14:25.100Z' }),
    );
    expect((await s.message(m.id))?.status).toBe('queued');
    await s.post('/status', reportFor(m, 'recipient-delivery-report-dispatched.json'));
    const unknown = await s.post(
      '/status',
      reportFor(m, 'recipient-delivery-report-dispatched.json', { status: 'Unknown', code: 0, at: '2025-02-03T12:20:00Z' }),
    );
    expect(unknown.json.outcome).toBe('unchanged');
    expect((await s.message(m.id))?.status).toBe('submitted');
    expect(await history(s, m.id)).toEqual([
      ['Queued', false],
      ['submitted', true],
      ['submitted', false],
    ]);
  });

  it('a late Dispatched after Delivered does not regress; an identical redelivery is a duplicate', async () => {
    const s = await startStack();
    const m = await s.outbound();
    await s.post('/status', reportFor(m, 'recipient-delivery-report-delivered.json'));
    expect((await s.post('/status', reportFor(m, 'recipient-delivery-report-dispatched.json'))).json.outcome).toBe('unchanged');
    expect((await s.post('/status', reportFor(m, 'recipient-delivery-report-delivered.json'))).json.outcome).toBe('duplicate');
    expect((await s.message(m.id))?.status).toBe('delivered');
  });

  it('a report for no known message is kept as an orphan; a report may arrive on /inbound too', async () => {
    const s = await startStack();
    expect((await s.post('/inbound', example('recipient-delivery-report-delivered.json'))).json.outcome).toBe('orphan');
    expect(await s.db.select().from(messageStatusHistory)).toMatchObject([
      { providerMessageUuid: '01W4FFL35P4NC4K35SMSBATCH9', clientRef: 'client-ref', messageId: null },
    ]);
  });

  it("a one-recipient batch report is that recipient's status; a several-recipient one is stored raw and answered 200", async () => {
    const s = await startStack();
    const m = await s.outbound();
    const single = {
      type: 'delivery_report_sms',
      batch_id: `BATCH-${m.clientRef}`,
      client_reference: m.clientRef,
      total_message_count: 1,
      statuses: [{ code: 0, count: 1, status: 'Delivered', recipients: ['12015550123'] }],
    };
    expect((await s.post('/status', single)).json.outcome).toBe('applied');
    expect((await s.message(m.id))?.status).toBe('delivered');

    const raw = JSON.stringify(example('delivery-report-batch.json'));
    expect(await s.post('/status', raw)).toEqual({ status: 200, json: { ok: true, outcome: 'ignored_batch_report' } });
    expect(await s.lastLogged()).toMatchObject({ rawBody: raw, httpStatus: 200, outcome: 'ignored_batch_report', signatureOk: false });
  });
});

describe('Sinch webhooks: what Parley does not use, and what it refuses', () => {
  it.each([
    [
      'mo_binary',
      {
        type: 'mo_binary',
        id: 'B1',
        from: '12015555555',
        to: '12017777777',
        body: 'SGVsbG8=',
        udh: '050003CC0201',
        received_at: '2024-06-06T07:52:37.386Z',
      },
    ],
    ['an unknown type', { type: 'mo_hologram', id: 'H1' }],
    ['no type', { id: 'X1' }],
  ])('%s is stored raw in webhook_log and answered 200 ignored_type', async (_name, body) => {
    const s = await startStack();
    const raw = JSON.stringify(body);
    expect(await s.post('/inbound', raw)).toEqual({ status: 200, json: { ok: true, outcome: 'ignored_type' } });
    expect(await s.lastLogged()).toMatchObject({ path: '/webhooks/sinch/inbound', rawBody: raw, httpStatus: 200, outcome: 'ignored_type' });
    expect(await s.db.select().from(messages)).toEqual([]);
  });

  it('an mo_media with neither media nor text (e.g. an outbound MediaBody shape) is a schema failure, stored raw', async () => {
    const s = await startStack();
    const body = {
      type: 'mo_media',
      id: 'M1',
      from: '12015555555',
      to: '12017777777',
      body: { url: 'https://example.com/a.jpg' },
      received_at: '2024-06-06T07:52:37.386Z',
    };
    expect(await s.post('/inbound', JSON.stringify(body))).toEqual({ status: 200, json: { ok: true, outcome: 'schema_error' } });
    expect(await s.lastLogged()).toMatchObject({ outcome: 'schema_error', error: expect.stringContaining('media') });
    expect(await s.db.select().from(messages)).toEqual([]);
  });

  it('a schema failure is stored raw and answered 200 (a 4xx would make Sinch drop it)', async () => {
    const s = await startStack();
    const { batch_id: _dropped, ...noBatch } = example('recipient-delivery-report-delivered.json');
    expect(await s.post('/status', noBatch)).toEqual({ status: 200, json: { ok: true, outcome: 'schema_error' } });
    expect(await s.lastLogged()).toMatchObject({ outcome: 'schema_error', error: expect.stringContaining('batch_id') });
    const badTime = { ...example('inbound-mo-text.json'), received_at: 'yesterday' };
    expect((await s.post('/inbound', badTime)).json.outcome).toBe('schema_error');
  });

  it('invalid JSON: the raw body is stored first, then 400', async () => {
    const s = await startStack();
    expect(await s.post('/inbound', '{"type":"mo_text",')).toMatchObject({ status: 400, json: { outcome: 'invalid_json' } });
    expect(await s.lastLogged()).toMatchObject({ rawBody: '{"type":"mo_text",', httpStatus: 400, outcome: 'invalid_json' });
  });

  it('another Content-Type: stored, 415; GET: 405; too large: stored, 413', async () => {
    const s = await startStack({ maxBodyBytes: 1024 });
    expect(await s.post('/inbound', 'from=1&text=hi', { contentType: 'application/x-www-form-urlencoded' })).toMatchObject({ status: 415 });
    expect(await s.lastLogged()).toMatchObject({ rawBody: 'from=1&text=hi', httpStatus: 415, outcome: 'unsupported_media_type' });
    const get = await fetch(`${s.url}/webhooks/sinch/status`);
    expect([get.status, get.headers.get('allow')]).toEqual([405, 'POST']);
    expect(await s.post('/status', { ...example('inbound-mo-text.json'), body: 'x'.repeat(2000) })).toMatchObject({
      status: 413,
      json: { outcome: 'too_large' },
    });
    expect(await s.lastLogged()).toMatchObject({ path: '/webhooks/sinch/status', httpStatus: 413, outcome: 'too_large' });
    expect(s.outcomes.at(-1)).toEqual(['/webhooks/sinch/status', 'too_large']);
  });

  it('without a secret accepts unsigned callbacks and warns once per router', async () => {
    const s = await startStack();
    await s.post('/inbound', example('inbound-mo-text.json'));
    await s.post('/status', example('recipient-delivery-report-delivered.json'));
    const warnings = s.lines.filter((l) => String(l.msg).includes('SINCH_WEBHOOK_SECRET'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.level).toBe(40);
    expect(s.lines.filter((l) => l.msg === 'webhook').map((l) => [l.webhook, l.outcome, l.status])).toEqual([
      ['/webhooks/sinch/inbound', 'stored', 200],
      ['/webhooks/sinch/status', 'orphan', 200],
    ]);
  });
});

describe('Sinch webhooks with SINCH_WEBHOOK_SECRET', () => {
  it('accepts signed callbacks', async () => {
    const s = await startStack({ webhookSecret: SECRET });
    expect((await s.post('/inbound', example('inbound-mo-text.json'))).status).toBe(200);
    expect(s.lines.some((l) => String(l.msg).includes('unauthenticated'))).toBe(false);
  });

  it.each([
    ['unsigned', { secret: null }],
    ['signed with another secret', { secret: 'not-the-secret' }],
    ['with another algorithm', { headers: { 'x-sinch-webhook-signature-algorithm': 'HmacSHA1' } }],
  ] as [string, PostOptions][])('refuses a callback %s: webhook_log first, then 401, nothing stored', async (_name, opts) => {
    const s = await startStack({ webhookSecret: SECRET });
    const raw = JSON.stringify(example('inbound-mo-text.json'));
    const res = await s.post('/inbound', raw, opts);
    expect(res).toMatchObject({ status: 401, json: { outcome: 'bad_signature' } });
    const logged = await s.lastLogged();
    expect(logged).toMatchObject({ rawBody: raw, httpStatus: 401, outcome: 'bad_signature', signatureOk: false });
    expect(JSON.parse(logged?.headers ?? '{}')).toHaveProperty('content-type', 'application/json');
    expect(await s.db.select().from(messages)).toEqual([]);
    expect(s.outcomes).toEqual([['/webhooks/sinch/inbound', 'bad_signature']]);
    expect(JSON.stringify(s.lines)).not.toContain(SECRET);
  });

  it('refuses a replayed callback (same nonce) with 401, after accepting the original', async () => {
    const s = await startStack({ webhookSecret: SECRET });
    const raw = JSON.stringify(example('inbound-mo-text.json'));
    const headers = signSinchWebhook({ rawBody: raw, secret: SECRET });
    expect((await s.post('/inbound', raw, { secret: null, headers })).status).toBe(200);
    const replay = await s.post('/inbound', raw, { secret: null, headers });
    expect(replay).toMatchObject({ status: 401, json: { error: 'replayed callback (nonce already used)' } });
    expect(await s.lastLogged()).toMatchObject({ outcome: 'bad_signature', error: 'replayed callback (nonce already used)' });
  });

  it('refuses a signature older than 23 h', async () => {
    const s = await startStack({ webhookSecret: SECRET });
    const raw = JSON.stringify(example('inbound-mo-text.json'));
    const headers = signSinchWebhook({ rawBody: raw, secret: SECRET, timestamp: Math.floor(Date.now() / 1000) - 24 * 3600 });
    expect((await s.post('/inbound', raw, { secret: null, headers })).json.error).toBe('signature timestamp is too old');
  });
});
