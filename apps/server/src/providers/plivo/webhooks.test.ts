import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { asc, eq } from 'drizzle-orm';
import express from 'express';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { contacts, conversations, messageStatusHistory, messages, outbox, webhookLog } from '../../db/tables';
import { queueMessage } from '../../domain/send';
import { STOP_CONFIRMATION } from '../../domain/keywords';
import { createOutboxWorker, type OutboxWorker } from '../../outbox/worker';
import { createPlivoProvider } from './sender';
import { startMockPlivo, type MockPlivo } from '../../testing/mock-plivo';
import { openTestDb, type TempDb } from '../../testing/temp-db';
import { createNonceStore } from '../../webhooks/nonces';
import { plivoWebhookRouter } from './webhooks';
import { signPlivoV2, signPlivoV3 } from './signature';

const examples = new URL('../../../test/fixtures/plivo/examples/', import.meta.url);
const text = (name: string) => readFileSync(new URL(name, examples), 'utf8');
const worked = JSON.parse(text('signature-worked-example.json')) as {
  authToken: string;
  v3: { url: string; rawBody: string; headers: Record<string, string> }[];
};
const TOKEN = worked.authToken;
const AUTH_ID = 'MAZDQ1ZJIYMDZKMMZKYM';
const OUR = '+14155550100';
const CUSTOMER = '+14155550123';
const logger = pino({ level: 'silent' });

interface Stack {
  url: string;
  tmp: TempDb;
  outcomes: [string, string][];
  queued: number;
  worker?: OutboxWorker;
  /** POST a form body; signed V3 (default) / V2 / not at all, against publicUrl + path unless `signUrl`. */
  post(path: string, body: string | [string, string][], opts?: PostOptions): Promise<{ status: number; text: string; type: string | null }>;
}
interface PostOptions {
  scheme?: 'v3' | 'v2' | 'none';
  token?: string;
  nonce?: string;
  signUrl?: string;
  headers?: Record<string, string>;
  contentType?: string;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const nonce = () => String(BigInt(`0x${randomUUID().replace(/-/g, '')}`)).slice(0, 20);

async function startStack(
  opts: { publicUrl?: string; mainAuthToken?: string; mock?: MockPlivo; maxBodyBytes?: number; allowV2?: boolean } = {},
): Promise<Stack> {
  const tmp = await openTestDb('parley-plivo-');
  const outcomes: [string, string][] = [];
  let url = '';
  const stack: Stack = { url, tmp, outcomes, queued: 0, post: async () => ({ status: 0, text: '', type: null }) };
  const app = express();
  app.use(
    '/webhooks/plivo',
    await plivoWebhookRouter({
      db: tmp.db,
      log: tmp.log,
      logger,
      helpText: 'Parley help: reply STOP to opt out.',
      maxBodyBytes: opts.maxBodyBytes ?? 64 * 1024,
      nonces: createNonceStore(tmp.db),
      authToken: TOKEN,
      // These stacks test V2 as Plivo's documented fallback; the default (V2-only refused) is tested on its own.
      allowV2: opts.allowV2 ?? true,
      ...(opts.mainAuthToken ? { mainAuthToken: opts.mainAuthToken } : {}),
      publicUrl: () => opts.publicUrl ?? url,
      onQueued: () => {
        stack.queued += 1;
        stack.worker?.wake();
      },
      onOutcome: (path, outcome) => void outcomes.push([path, outcome]),
    }),
  );
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stack.url = url;
  if (opts.mock) {
    const mockUrl = opts.mock.url;
    stack.worker = createOutboxWorker({
      db: tmp.db,
      log: tmp.log,
      provider: createPlivoProvider({
        authId: AUTH_ID,
        authToken: TOKEN,
        apiUrl: mockUrl,
        statusUrl: (ref) => `${url}/webhooks/plivo/status?ref=${encodeURIComponent(ref)}`,
      }),
      queue: 'plivo',
      ratePerSecond: 100,
      logger,
      pollMs: 50,
      backoff: { baseMs: 5, capMs: 20 },
    });
    await stack.worker.start();
  }
  stack.post = async (path, body, o = {}) => {
    const fields = typeof body === 'string' ? [...new URLSearchParams(body)] : body;
    const raw = typeof body === 'string' ? body : new URLSearchParams(body).toString();
    const signUrl = o.signUrl ?? `${opts.publicUrl ?? url}${path}`;
    const n = o.nonce ?? nonce();
    const headers: Record<string, string> = { 'content-type': o.contentType ?? 'application/x-www-form-urlencoded', ...o.headers };
    const scheme = o.scheme ?? 'v3';
    if (scheme === 'v3') {
      headers['x-plivo-signature-v3'] = signPlivoV3({ url: signUrl, params: fields, nonce: n, authToken: o.token ?? TOKEN });
      headers['x-plivo-signature-v3-nonce'] = n;
    } else if (scheme === 'v2') {
      headers['x-plivo-signature-v2'] = signPlivoV2({ url: signUrl, nonce: n, authToken: o.token ?? TOKEN });
      headers['x-plivo-signature-v2-nonce'] = n;
    }
    const res = await fetch(`${url}${path}`, { method: 'POST', headers, body: raw });
    return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
  };
  cleanups.push(async () => {
    await stack.worker?.stop();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await tmp.dispose();
  });
  return stack;
}

async function withMock(): Promise<MockPlivo> {
  const mock = await startMockPlivo({ authId: AUTH_ID, authToken: TOKEN });
  cleanups.push(() => mock.close());
  return mock;
}

const messageRow = async (s: Stack, id: number) => (await s.tmp.db.select().from(messages).where(eq(messages.id, id)))[0];
const history = async (s: Stack, id: number) =>
  await s.tmp.db.select().from(messageStatusHistory).where(eq(messageStatusHistory.messageId, id)).orderBy(asc(messageStatusHistory.id));
const logRows = async (s: Stack) => await s.tmp.db.select().from(webhookLog).orderBy(asc(webhookLog.id));
const lastOutcome = (s: Stack) => s.outcomes.at(-1);

/** An outbound message queued (no worker): its id and client ref. */
async function queued(s: Stack, to = CUSTOMER): Promise<{ id: number; ref: string }> {
  const { message } = await queueMessage({
    log: s.tmp.log,
    ourNumber: OUR,
    provider: 'plivo',
    to,
    text: 'Your order #42 is ready for pickup.',
    agentId: 1,
  });
  if (!message.clientRef) throw new Error('no client ref');
  return { id: message.id, ref: message.clientRef };
}

/** A status callback body like status-delivered.txt, for `uuid`. */
function statusFields(
  uuid: string,
  status: string,
  o: { errorCode?: string; sent?: string; report?: string; sequence?: string } = {},
): [string, string][] {
  const f: [string, string][] = [...new URLSearchParams(text('status-delivered.txt'))].filter(
    ([k]) => !['SentTime', 'DeliveryReportTime'].includes(k),
  );
  const set = (k: string, v: string) => {
    const at = f.findIndex(([key]) => key === k);
    if (at >= 0) f[at] = [k, v];
    else f.push([k, v]);
  };
  set('Status', status);
  set('MessageUUID', uuid);
  set('ParentMessageUUID', uuid);
  set('ErrorCode', o.errorCode ?? '');
  if (o.sequence) set('Sequence', o.sequence);
  if (o.sent) set('SentTime', o.sent);
  if (o.report) set('DeliveryReportTime', o.report);
  return f;
}

describe('the byte-exact examples through the router, behind a proxy (PUBLIC_URL https, listening on http)', () => {
  const PUBLIC = 'https://parley.example.com';

  it('inbound-sms.txt with its worked V3 headers: stored on the To number, provider plivo; answered <Response></Response> as XML', async () => {
    const s = await startStack({ publicUrl: PUBLIC });
    const ex = worked.v3[0];
    expect(ex?.rawBody).toBe(text('inbound-sms.txt'));
    const res = await s.post('/webhooks/plivo/inbound', text('inbound-sms.txt'), { scheme: 'none', headers: ex?.headers ?? {} });
    expect(res).toMatchObject({ status: 200, text: '<Response></Response>' });
    expect(res.type).toMatch(/^application\/xml/);
    expect(lastOutcome(s)).toEqual(['/webhooks/plivo/inbound', 'stored']);
    const msg = (await s.tmp.db.select().from(messages).where(eq(messages.providerMessageUuid, '2a5f6e0e-4c1b-4b8a-9d3e-6f0c1b2a3d4e')))[0];
    expect(msg).toMatchObject({
      direction: 'in',
      from: CUSTOMER,
      to: OUR,
      text: 'Hi, is order #42 ready? 📦',
      status: 'received',
      encoding: 'ucs2',
      segments: 1,
      price: '0',
      currency: null,
    });
    const conv = (
      await s.tmp.db
        .select()
        .from(conversations)
        .where(eq(conversations.id, msg?.conversationId ?? -1))
    )[0];
    expect(conv).toMatchObject({ ourNumber: OUR, provider: 'plivo', unreadCount: 1 });
    const contact = (
      await s.tmp.db
        .select()
        .from(contacts)
        .where(eq(contacts.id, conv?.contactId ?? -1))
    )[0];
    expect(contact?.phone).toBe(CUSTOMER);
    expect(await logRows(s)).toEqual([]); // V3 and stored: nothing to review
  });

  it('the same headers again are a replay: 401, kept in webhook_log; the same body with a fresh nonce is a duplicate', async () => {
    const s = await startStack({ publicUrl: PUBLIC });
    const headers = worked.v3[0]?.headers ?? {};
    expect((await s.post('/webhooks/plivo/inbound', text('inbound-sms.txt'), { scheme: 'none', headers })).status).toBe(200);
    const replay = await s.post('/webhooks/plivo/inbound', text('inbound-sms.txt'), { scheme: 'none', headers });
    expect(replay.status).toBe(401);
    expect(JSON.parse(replay.text)).toMatchObject({ outcome: 'bad_signature', error: 'V3 nonce already used (replay)' });
    expect(await logRows(s)).toMatchObject([
      { path: '/webhooks/plivo/inbound', signatureOk: false, httpStatus: 401, outcome: 'bad_signature', rawBody: text('inbound-sms.txt') },
    ]);
    const again = await s.post('/webhooks/plivo/inbound', text('inbound-sms.txt'));
    expect(again.status).toBe(200);
    expect(lastOutcome(s)).toEqual(['/webhooks/plivo/inbound', 'duplicate']);
    expect(await s.tmp.db.$count(messages)).toBe(1);
  });

  it('status-delivered.txt with its worked V3 headers (URL with ?ref=): delivered, matched by the signed ref', async () => {
    const s = await startStack({ publicUrl: PUBLIC });
    const { id } = await queued(s);
    // Give the queued message the example's ref, as if Parley had sent it with that client_ref.
    await s.tmp.db.update(messages).set({ clientRef: '01J9Z6Q4W3E2R1T0Y9U8I7O6P5' }).where(eq(messages.id, id));
    const ex = worked.v3[1];
    expect(ex?.rawBody).toBe(text('status-delivered.txt'));
    const res = await s.post('/webhooks/plivo/status?ref=01J9Z6Q4W3E2R1T0Y9U8I7O6P5', text('status-delivered.txt'), {
      scheme: 'none',
      headers: ex?.headers ?? {},
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ ok: true, outcome: 'applied' });
    expect(await messageRow(s, id)).toMatchObject({
      status: 'delivered',
      providerMessageUuid: '9b2d1f7a-3c4e-4d5f-8a6b-7c8d9e0f1a2b',
      price: '0.00790',
      currency: null,
      errorCode: null,
    });
    expect(await history(s, id)).toMatchObject([
      {
        status: 'delivered',
        clientRef: '01J9Z6Q4W3E2R1T0Y9U8I7O6P5',
        providerTimestamp: Date.parse('2025-02-03T12:14:31.052Z'),
        applied: true,
      },
    ]);
  });

  it('status-undelivered.txt (ErrorCode 30) → undeliverable, with the spam reason', async () => {
    const s = await startStack({ publicUrl: PUBLIC });
    const { id, ref } = await queued(s);
    const res = await s.post(`/webhooks/plivo/status?ref=${ref}`, text('status-undelivered.txt'));
    expect(res.status).toBe(200);
    expect(await messageRow(s, id)).toMatchObject({
      status: 'undeliverable',
      errorCode: '30',
      errorReason: 'Blocked by the carrier as spam (do not resend the same text)',
      price: '0.00790',
    });
    expect((await history(s, id))[0]?.providerTimestamp).toBe(Date.parse('2025-02-03T12:14:33.400Z'));
  });

  it('status-failed.txt (ErrorCode 900, no SentTime) → failed, insufficient credit, time from QueuedTime', async () => {
    const s = await startStack({ publicUrl: PUBLIC });
    const { id, ref } = await queued(s);
    expect((await s.post(`/webhooks/plivo/status?ref=${ref}`, text('status-failed.txt'))).status).toBe(200);
    expect(await messageRow(s, id)).toMatchObject({
      status: 'failed',
      errorCode: '900',
      errorReason: 'Plivo account has insufficient credit',
      price: '0.00000',
    });
    expect((await history(s, id))[0]?.providerTimestamp).toBe(Date.parse('2025-02-03T12:14:25.118Z'));
  });

  it('the worked V2 headers are accepted, flagged in webhook_log, and their ref is not trusted (matched by uuid only)', async () => {
    const s = await startStack({ publicUrl: PUBLIC });
    const { id } = await queued(s);
    await s.tmp.db.update(messages).set({ clientRef: '01J9Z6Q4W3E2R1T0Y9U8I7O6P5' }).where(eq(messages.id, id));
    const v2 = (JSON.parse(text('signature-worked-example.json')) as { v2: { headers: Record<string, string> } }).v2.headers;
    const res = await s.post('/webhooks/plivo/status?ref=01J9Z6Q4W3E2R1T0Y9U8I7O6P5', text('status-delivered.txt'), {
      scheme: 'none',
      headers: v2,
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ ok: true, outcome: 'orphan' });
    expect((await messageRow(s, id))?.status).toBe('queued');
    const orphan = (await s.tmp.db.select().from(messageStatusHistory))[0];
    expect(orphan).toMatchObject({ messageId: null, clientRef: null, providerMessageUuid: '9b2d1f7a-3c4e-4d5f-8a6b-7c8d9e0f1a2b' });
    expect(await logRows(s)).toMatchObject([
      {
        signatureOk: true,
        httpStatus: 200,
        outcome: 'orphan',
        error: expect.stringMatching(/V2 signature only/),
        path: '/webhooks/plivo/status?ref=01J9Z6Q4W3E2R1T0Y9U8I7O6P5',
      },
    ]);
  });
});

describe('refusals: 401/415/405/413, each kept whole in webhook_log', () => {
  const PUBLIC = 'https://parley.example.com';
  const refused = async (s: Stack, path: string, body: string, o: PostOptions, expected: number, reason: RegExp) => {
    const res = await s.post(path, body, o);
    expect(res.status).toBe(expected);
    const row = (await logRows(s)).at(-1);
    expect(row).toMatchObject({ path, signatureOk: false, httpStatus: expected, rawBody: body });
    expect(row?.error).toMatch(reason);
    expect(JSON.parse(row?.headers ?? '{}')).toHaveProperty('content-type');
  };

  it('a changed field, a wrong token, a wrong URL (http, another host, missing query), no headers', async () => {
    const s = await startStack({ publicUrl: PUBLIC });
    const ex = worked.v3[1];
    const headers = ex?.headers ?? {};
    const body = text('status-delivered.txt');
    const path = '/webhooks/plivo/status?ref=01J9Z6Q4W3E2R1T0Y9U8I7O6P5';
    await refused(
      s,
      path,
      body.replace('Status=delivered', 'Status=failed'),
      { scheme: 'none', headers },
      401,
      /V3 signature does not match/,
    );
    await refused(s, path, body, { token: 'NotTheToken' }, 401, /V3 signature does not match/);
    await refused(s, path, body, { signUrl: `http://parley.example.com${path}` }, 401, /V3 signature does not match/);
    await refused(s, path, body, { signUrl: `https://other.example.com${path}` }, 401, /V3 signature does not match/);
    await refused(s, '/webhooks/plivo/status', body, { scheme: 'none', headers }, 401, /V3 signature does not match/);
    await refused(s, path, body, { scheme: 'none' }, 401, /unsigned/);
    expect(await s.tmp.db.$count(messageStatusHistory)).toBe(0);
    expect(s.outcomes.every(([, o]) => o === 'bad_signature')).toBe(true);
  });

  it('a router trusting Host would verify http://127.0.0.1…; with PUBLIC_URL https it refuses what was signed for the internal URL', async () => {
    const s = await startStack({ publicUrl: PUBLIC });
    await refused(
      s,
      '/webhooks/plivo/inbound',
      text('inbound-sms.txt'),
      { signUrl: `${s.url}/webhooks/plivo/inbound` },
      401,
      /does not match/,
    );
  });

  it('a V3 failure is not rescued by valid V2 headers', async () => {
    const s = await startStack();
    const n = nonce();
    const path = '/webhooks/plivo/inbound';
    const headers = {
      'x-plivo-signature-v2': signPlivoV2({ url: `${s.url}${path}`, nonce: n, authToken: TOKEN }),
      'x-plivo-signature-v2-nonce': n,
    };
    await refused(s, path, text('inbound-sms.txt'), { token: 'wrong', headers }, 401, /^V3/);
  });

  it('-Ma-V3 signed with the main account token is accepted when PLIVO_MAIN_AUTH_TOKEN is set', async () => {
    const MAIN = 'MainAccountTokenMainAccountToken000001';
    const s = await startStack({ mainAuthToken: MAIN });
    const path = '/webhooks/plivo/inbound';
    const n = nonce();
    const fields = [...new URLSearchParams(text('inbound-sms.txt'))];
    const headers = {
      'x-plivo-signature-ma-v3': signPlivoV3({ url: `${s.url}${path}`, params: fields, nonce: n, authToken: MAIN }),
      'x-plivo-signature-v3-nonce': n,
    };
    expect((await s.post(path, text('inbound-sms.txt'), { scheme: 'none', headers })).status).toBe(200);
    expect(lastOutcome(s)).toEqual([path, 'stored']);
  });

  it('JSON instead of a form: 415', async () => {
    const s = await startStack();
    await refused(s, '/webhooks/plivo/inbound', '{"From":"1"}', { contentType: 'application/json' }, 415, /x-www-form-urlencoded/);
  });

  it('GET: 405; a body over the limit: 413 (logged)', async () => {
    const s = await startStack({ maxBodyBytes: 200 });
    const get = await fetch(`${s.url}/webhooks/plivo/status`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const res = await s.post('/webhooks/plivo/inbound', `Text=${'x'.repeat(500)}`);
    expect(res.status).toBe(413);
    expect((await logRows(s)).at(-1)).toMatchObject({ outcome: 'too_large', httpStatus: 413, signatureOk: false });
    expect(lastOutcome(s)).toEqual(['/webhooks/plivo/inbound', 'too_large']);
  });
});

describe('odd but genuine callbacks: 200 so Plivo does not retry, kept for review', () => {
  it('inbound Type=whatsapp → ignored_type; missing MessageUUID → schema_error', async () => {
    const s = await startStack();
    const mms = text('inbound-sms.txt').replace('Type=sms', 'Type=whatsapp');
    const r1 = await s.post('/webhooks/plivo/inbound', mms);
    expect(r1).toMatchObject({ status: 200, text: '<Response></Response>' });
    expect(lastOutcome(s)).toEqual(['/webhooks/plivo/inbound', 'ignored_type']);
    const noUuid = text('inbound-sms.txt').replace('MessageUUID=2a5f6e0e-4c1b-4b8a-9d3e-6f0c1b2a3d4e&', '');
    expect((await s.post('/webhooks/plivo/inbound', noUuid)).status).toBe(200);
    expect(lastOutcome(s)).toEqual(['/webhooks/plivo/inbound', 'schema_error']);
    expect(await logRows(s)).toMatchObject([
      { outcome: 'ignored_type', signatureOk: true, httpStatus: 200, rawBody: mms },
      { outcome: 'schema_error', signatureOk: true, httpStatus: 200, rawBody: noUuid, error: expect.stringMatching(/MessageUUID/) },
    ]);
    expect(await s.tmp.db.$count(messages)).toBe(0);
  });

  it('status without MessageUUID → schema_error; queued → ignored (nothing recorded); an unknown status → ignored and logged', async () => {
    const s = await startStack();
    const { id, ref } = await queued(s);
    const path = `/webhooks/plivo/status?ref=${ref}`;
    const noUuid = statusFields('x', 'delivered').filter(([k]) => k !== 'MessageUUID');
    expect((await s.post(path, noUuid)).status).toBe(200);
    expect(lastOutcome(s)).toEqual(['/webhooks/plivo/status', 'schema_error']);
    expect((await s.post(path, statusFields(randomUUID(), 'queued'))).status).toBe(200);
    expect(lastOutcome(s)).toEqual(['/webhooks/plivo/status', 'ignored']);
    expect((await s.post(path, statusFields(randomUUID(), 'teleported'))).status).toBe(200);
    expect(lastOutcome(s)).toEqual(['/webhooks/plivo/status', 'ignored']);
    expect(await s.tmp.db.$count(messageStatusHistory)).toBe(0);
    expect((await messageRow(s, id))?.status).toBe('queued');
    expect((await logRows(s)).map((r) => r.outcome)).toEqual(['schema_error', 'ignored']);
    expect((await logRows(s))[1]?.error).toMatch(/teleported/);
  });

  it('accepts `+` numbers (To=%2B60…) and normalises them to E.164', async () => {
    const s = await startStack();
    const body = 'From=%2B60124361111&To=%2B60124360000&Text=hello&Type=sms&MessageUUID=m-1&Units=2&TotalRate=0.0010&TotalAmount=0.0020';
    expect((await s.post('/webhooks/plivo/inbound', body)).status).toBe(200);
    expect((await s.tmp.db.select().from(messages))[0]).toMatchObject({
      from: '+60124361111',
      to: '+60124360000',
      segments: 2,
      price: '0.0020',
    });
  });
});

describe('full loop: outbox → Plivo provider → mock Plivo → signed callbacks → router', () => {
  it('sends the documented request; callbacks in shuffled order with a duplicate end delivered with both in history', async () => {
    const mock = await withMock();
    const s = await startStack({ mock });
    const { message } = await queueMessage({
      log: s.tmp.log,
      ourNumber: OUR,
      provider: 'plivo',
      to: CUSTOMER,
      text: 'Your order #42 is ready for pickup.',
      agentId: 1,
    });
    s.worker?.wake();
    await vi.waitFor(async () => expect((await messageRow(s, message.id))?.status).toBe('submitted'), { timeout: 5000, interval: 10 });
    const req = mock.requests[0];
    expect(req?.specErrors).toEqual([]);
    const expected = JSON.parse(text('send-request.json')) as Record<string, string>;
    expect(req?.body).toEqual({ ...expected, url: `${s.url}/webhooks/plivo/status?ref=${message.clientRef ?? ''}` });
    const uuid = req?.messageUuid ?? '';
    expect((await messageRow(s, message.id))?.providerMessageUuid).toBe(uuid);

    const path = `/webhooks/plivo/status?ref=${message.clientRef ?? ''}`;
    const delivered = statusFields(uuid, 'delivered', {
      sent: '2025-02-03 12:14:25.731560',
      report: '2025-02-03 12:14:31.052187',
      sequence: '3',
    });
    const sent = statusFields(uuid, 'sent', { sent: '2025-02-03 12:14:25.731560', sequence: '2' });
    expect((await s.post(path, delivered)).status).toBe(200);
    expect(lastOutcome(s)?.[1]).toBe('applied');
    expect((await s.post(path, sent)).status).toBe(200);
    expect(lastOutcome(s)?.[1]).toBe('unchanged');
    expect((await s.post(path, delivered)).status).toBe(200); // Plivo's retry: fresh nonce, same body
    expect(lastOutcome(s)?.[1]).toBe('duplicate');
    expect(await messageRow(s, message.id)).toMatchObject({ status: 'delivered', price: '0.00790' });
    expect((await history(s, message.id)).map((h) => [h.status, h.applied])).toEqual([
      ['delivered', true],
      ['submitted', false],
    ]);
  });

  it('a callback that beats the 202 is matched by its signed ?ref=', async () => {
    const mock = await withMock();
    const s = await startStack({ mock });
    const held = mock.hold();
    const { message } = await queueMessage({
      log: s.tmp.log,
      ourNumber: OUR,
      provider: 'plivo',
      to: CUSTOMER,
      text: 'Early bird',
      agentId: 1,
    });
    s.worker?.wake();
    const req = await held.received;
    const statusUrl = (req.body as { url: string }).url;
    const path = statusUrl.slice(s.url.length);
    expect(path).toBe(`/webhooks/plivo/status?ref=${message.clientRef ?? ''}`);
    const res = await s.post(path, statusFields(req.messageUuid, 'sent', { sent: '2025-02-03 12:14:25.731560' }));
    expect(res.status).toBe(200);
    expect(lastOutcome(s)?.[1]).toBe('applied');
    expect(await messageRow(s, message.id)).toMatchObject({ status: 'submitted', providerMessageUuid: req.messageUuid });
    expect((await s.tmp.db.select().from(outbox))[0]?.state).toBe('sending'); // the send has not answered yet
    held.release();
    await vi.waitFor(async () => expect(await s.tmp.db.$count(outbox)).toBe(0), { timeout: 5000, interval: 10 });
    await s.post(
      path,
      statusFields(req.messageUuid, 'delivered', { sent: '2025-02-03 12:14:25.731560', report: '2025-02-03 12:14:31.052187' }),
    );
    expect(await messageRow(s, message.id)).toMatchObject({ status: 'delivered', providerMessageUuid: req.messageUuid });
  });

  it('under V2 an early callback is an orphan (ref ignored), adopted by uuid when the 202 arrives', async () => {
    const mock = await withMock();
    const s = await startStack({ mock });
    const held = mock.hold();
    const { message } = await queueMessage({
      log: s.tmp.log,
      ourNumber: OUR,
      provider: 'plivo',
      to: CUSTOMER,
      text: 'Early bird, V2',
      agentId: 1,
    });
    s.worker?.wake();
    const req = await held.received;
    const path = (req.body as { url: string }).url.slice(s.url.length);
    await s.post(path, statusFields(req.messageUuid, 'delivered', { report: '2025-02-03 12:14:31.052187' }), { scheme: 'v2' });
    expect(lastOutcome(s)?.[1]).toBe('orphan');
    expect((await messageRow(s, message.id))?.status).toBe('queued');
    held.release();
    await vi.waitFor(async () => expect((await messageRow(s, message.id))?.status).toBe('delivered'), { timeout: 5000, interval: 10 });
    expect(await logRows(s)).toMatchObject([{ outcome: 'orphan', signatureOk: true, error: expect.stringMatching(/V2/) }]);
  });

  it('a 429 from Plivo is retried by the outbox until accepted', async () => {
    const mock = await withMock();
    const s = await startStack({ mock });
    mock.enqueue({ status: 429, body: { api_id: 'x', error: 'rate_limit_exceeded' } }, { status: 503, body: 'unavailable' });
    const { message } = await queueMessage({
      log: s.tmp.log,
      ourNumber: OUR,
      provider: 'plivo',
      to: CUSTOMER,
      text: 'Retry me',
      agentId: 1,
    });
    s.worker?.wake();
    await vi.waitFor(async () => expect((await messageRow(s, message.id))?.status).toBe('submitted'), { timeout: 5000, interval: 10 });
    expect(mock.requests).toHaveLength(3);
    expect((await messageRow(s, message.id))?.providerMessageUuid).toBe(mock.requests[2]?.messageUuid);
  });

  it('a 403 (Geo Permissions) fails the message with that reason, not retried', async () => {
    const mock = await withMock();
    const s = await startStack({ mock });
    mock.enqueue({ status: 403, body: { api_id: 'x', error: 'This destination country is not enabled in your Geo Permissions.' } });
    const { message } = await queueMessage({
      log: s.tmp.log,
      ourNumber: OUR,
      provider: 'plivo',
      to: '+447700900123',
      text: 'Abroad',
      agentId: 1,
    });
    s.worker?.wake();
    await vi.waitFor(async () => expect((await messageRow(s, message.id))?.status).toBe('failed'), { timeout: 5000, interval: 10 });
    expect((await messageRow(s, message.id))?.errorReason).toMatch(/Geo Permissions/);
    expect(mock.requests).toHaveLength(1);
  });

  it('an inbound STOP through the router opts out, queues the confirmation (onQueued) and it goes out through Plivo', async () => {
    const mock = await withMock();
    const s = await startStack({ mock });
    const body = text('inbound-sms.txt')
      .replace('Hi%2C+is+order+%2342+ready%3F+%F0%9F%93%A6', 'STOP')
      .replace('MessageIntent=', 'MessageIntent=optout');
    const res = await s.post('/webhooks/plivo/inbound', body);
    expect(res).toMatchObject({ status: 200, text: '<Response></Response>' });
    expect(s.queued).toBe(1);
    await vi.waitFor(() => expect(mock.requests).toHaveLength(1), { timeout: 5000, interval: 10 });
    expect(mock.requests[0]?.body).toMatchObject({ src: '14155550100', dst: '14155550123', text: STOP_CONFIRMATION, method: 'POST' });
    const contact = (await s.tmp.db.select().from(contacts).where(eq(contacts.phone, CUSTOMER)))[0];
    expect(contact?.optedOutAt).not.toBeNull();
    expect((await s.tmp.db.select().from(conversations))[0]).toMatchObject({ ourNumber: OUR, provider: 'plivo' });
  });
});
