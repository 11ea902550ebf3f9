/**
 * The whole Sinch loop on a mini stack: temp database + event log + the Sinch router on 127.0.0.1:0
 * + an outbox worker sending through createSinchProvider to the mock Sinch API (or the Sinch sandbox),
 * and signed callbacks back.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import express from 'express';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { conversations, messageStatusHistory, messages, outbox } from '../../db/tables';
import { queueMessage } from '../../domain/send';
import { createOutboxWorker } from '../../outbox/worker';
import { createSinchProvider } from './sender';
import { SINCH_SANDBOX_TEST_NUMBERS, createSinchSandbox } from './sandbox';
import type { SmsProvider } from '../types';
import { sinchError, startMockSinch, type MockSinch } from '../../testing/mock-sinch';
import { openTestDb } from '../../testing/temp-db';
import { createNonceStore } from '../../webhooks/nonces';
import { sinchWebhookRouter } from './webhooks';
import { signSinchWebhook } from './signature';

const SECRET = 'parley-test-sinch-loop-secret';
const OUR = '+14155550142';
const THEM = '+14155550199';
const logger = pino({ level: 'silent' });

let mock: MockSinch;
beforeAll(async () => {
  mock = await startMockSinch();
});
afterAll(() => mock.close());
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  const violations = mock.specViolations();
  mock.reset();
  expect(violations.map((r) => [r.specErrors, r.authError])).toEqual([]);
});

/** Router + worker; the provider is built once the stack knows its own URL (the sandbox posts to it). */
async function startLoop(makeProvider: (baseUrl: string) => SmsProvider) {
  const t = await openTestDb('parley-sinch-loop-');
  const app = express();
  let wake = () => {};
  app.use(
    '/webhooks/sinch',
    await sinchWebhookRouter({
      db: t.db,
      log: t.log,
      logger,
      helpText: 'Parley help',
      maxBodyBytes: 64 * 1024,
      nonces: createNonceStore(t.db),
      webhookSecret: SECRET,
      onQueued: () => wake(),
    }),
  );
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = makeProvider(url);
  const worker = createOutboxWorker({
    db: t.db,
    log: t.log,
    provider,
    queue: 'sinch',
    ratePerSecond: 100,
    logger,
    pollMs: 50,
    backoff: { baseMs: 5, capMs: 20 },
  });
  wake = () => worker.wake();
  await worker.start();
  cleanups.push(async () => {
    await worker.stop();
    await provider.close?.();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await t.dispose();
  });

  async function send(to = THEM, text = 'Hello from Parley via Sinch') {
    const { message } = await queueMessage({ log: t.log, ourNumber: OUR, provider: 'sinch', to, text, agentId: 1 });
    worker.wake();
    return message;
  }
  const row = async (id: number) => (await t.db.select().from(messages).where(eq(messages.id, id)))[0];
  const settle = (id: number, status: string) =>
    vi.waitFor(async () => expect((await row(id))?.status).toBe(status), { timeout: 5000, interval: 10 });
  async function callback(path: '/status' | '/inbound', body: Record<string, unknown>) {
    const raw = JSON.stringify(body);
    const res = await fetch(`${url}/webhooks/sinch${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signSinchWebhook({ rawBody: raw, secret: SECRET }) },
      body: raw,
    });
    return ((await res.json()) as { outcome: string }).outcome;
  }
  return { ...t, url, worker, send, row, settle, callback };
}

const apiProvider = () =>
  createSinchProvider({ servicePlanId: mock.servicePlanId, apiToken: mock.apiToken, region: 'us', apiUrl: mock.url, timeoutMs: 2000 });

function report(batchId: string, clientRef: string, status: string, code: number, at: string) {
  return {
    type: 'recipient_delivery_report_sms',
    batch_id: batchId,
    recipient: THEM.slice(1),
    status,
    code,
    at,
    client_reference: clientRef,
  };
}

describe('Sinch loop through the API (mock Sinch)', () => {
  it('queued → 201 → submitted; reports in shuffled order with a duplicate end delivered', async () => {
    const s = await startLoop(apiProvider);
    const m = await s.send();
    await s.settle(m.id, 'submitted');
    const [req] = mock.requests;
    const batchId = req?.batchId ?? '';
    expect((await s.row(m.id))?.providerMessageUuid).toBe(batchId);
    expect(req?.body).toMatchObject({
      to: [THEM],
      from: OUR,
      body: 'Hello from Parley via Sinch',
      type: 'mt_text',
      delivery_report: 'per_recipient',
    });
    const clientRef = (req?.body as { client_reference: string }).client_reference;
    expect(clientRef).toBe((await s.row(m.id))?.clientRef);

    const delivered = {
      ...report(batchId, clientRef, 'Delivered', 0, '2025-02-03T12:14:31.052Z'),
      operator_status_at: '2025-02-03T12:14:30Z',
    };
    const outcomes = [
      await s.callback('/status', delivered),
      await s.callback('/status', report(batchId, clientRef, 'Dispatched', 401, '2025-02-03T12:14:25.902Z')),
      await s.callback('/status', delivered),
    ];
    expect(outcomes).toEqual(['applied', 'unchanged', 'duplicate']);
    expect(await s.row(m.id)).toMatchObject({ status: 'delivered', errorCode: null });
    const history = await s.db.select().from(messageStatusHistory).where(eq(messageStatusHistory.messageId, m.id));
    expect(history.map((h) => [h.status, h.applied])).toEqual([
      ['delivered', true],
      ['submitted', false],
    ]);
    expect(await s.db.select().from(outbox)).toEqual([]);
  });

  it('a report that beats the 201 is matched by client_reference; the 201 then changes nothing', async () => {
    const s = await startLoop(apiProvider);
    const held = mock.hold();
    const m = await s.send();
    const req = await held.received;
    const clientRef = (req.body as { client_reference: string }).client_reference;
    expect(await s.callback('/status', report(req.batchId, clientRef, 'Delivered', 0, new Date().toISOString()))).toBe('applied');
    expect(await s.row(m.id)).toMatchObject({ status: 'delivered', providerMessageUuid: req.batchId });
    held.release();
    await vi.waitFor(async () => expect(await s.db.select().from(outbox)).toEqual([]), { timeout: 5000, interval: 10 });
    expect(await s.row(m.id)).toMatchObject({ status: 'delivered', providerMessageUuid: req.batchId });
  });

  it('429 (Retry-After 0) is retried, then accepted; a 400 fails the message with a readable reason', async () => {
    const s = await startLoop(apiProvider);
    mock.enqueue(sinchError(429, { headers: { 'retry-after': '0' } }));
    const retried = await s.send();
    await s.settle(retried.id, 'submitted');
    expect(mock.requests).toHaveLength(2);

    mock.enqueue(sinchError(400, { code: 'syntax_invalid_parameter_format', text: 'Invalid number' }));
    const failed = await s.send('+14155550198');
    await s.settle(failed.id, 'failed');
    expect(await s.row(failed.id)).toMatchObject({
      errorCode: 'syntax_invalid_parameter_format',
      errorReason: 'Invalid number or parameter',
      errorDetail: 'Invalid number',
    });
  });

  it('an inbound mo_text opens a sinch conversation on the `to` number; a HELP reply goes out through Sinch', async () => {
    const s = await startLoop(apiProvider);
    const inbound = {
      type: 'mo_text',
      id: '01JKX7Q2M9V4T8R3N6P1W5Z0YC',
      from: THEM.slice(1),
      to: OUR.slice(1),
      body: 'help',
      received_at: new Date().toISOString(),
    };
    expect(await s.callback('/inbound', inbound)).toBe('stored');
    const conv = (await s.db.select().from(conversations))[0];
    expect(conv).toMatchObject({ ourNumber: OUR, provider: 'sinch' });
    await vi.waitFor(() => expect(mock.requests).toHaveLength(1), { timeout: 5000, interval: 10 });
    expect(mock.requests[0]?.body).toMatchObject({ from: OUR, to: [THEM], body: 'Parley help' });
  });
});

describe('Sinch loop through the sandbox', () => {
  const sandboxLoop = () =>
    startLoop((baseUrl) =>
      createSinchSandbox({
        baseUrl: () => baseUrl,
        webhookSecret: SECRET,
        logger,
        delaysMs: { submitted: 20, delivered: 60 },
        retryDelayMs: 20,
      }),
    );

  it('documents its test numbers', () => {
    expect(SINCH_SANDBOX_TEST_NUMBERS.map((n) => n.number)).toEqual(['+447700900666', '+447700900429', '+447700900500']);
  });

  it('a normal number goes queued → submitted → delivered through signed callbacks', async () => {
    const s = await sandboxLoop();
    const m = await s.send();
    await s.settle(m.id, 'delivered');
    const row = await s.row(m.id);
    expect(row?.providerMessageUuid).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    const history = await s.db.select().from(messageStatusHistory).where(eq(messageStatusHistory.messageId, m.id));
    expect(history.map((h) => h.status)).toEqual(['submitted', 'delivered']);
    expect((await s.worker.stats()).depth).toBe(0);
  });

  it('+447700900666 ends rejected, +447700900500 undeliverable, +447700900429 delivered after two 429s', async () => {
    const s = await sandboxLoop();
    const rejected = await s.send('+447700900666');
    const undeliverable = await s.send('+447700900500');
    const throttled = await s.send('+447700900429');
    await s.settle(rejected.id, 'rejected');
    await s.settle(undeliverable.id, 'undeliverable');
    await s.settle(throttled.id, 'delivered');
    expect(await s.row(rejected.id)).toMatchObject({ errorCode: '11', errorTitle: 'Rejected' });
    expect(await s.row(undeliverable.id)).toMatchObject({
      errorCode: '27',
      errorTitle: 'Expired',
      errorReason: 'Operator reported Expired (SMPP error code 27)',
    });
  });

  it('simulateInbound posts a signed mo_text; a sandbox with the wrong secret is refused and throws', async () => {
    const s = await sandboxLoop();
    const sandbox = createSinchSandbox({ baseUrl: () => s.url, webhookSecret: SECRET, logger });
    cleanups.push(() => sandbox.close());
    await sandbox.simulateInbound({ from: '+447700900123', to: OUR, text: 'Hi 👋' });
    expect((await s.db.select().from(messages).where(eq(messages.direction, 'in')))[0]).toMatchObject({
      from: '+447700900123',
      to: OUR,
      text: 'Hi 👋',
    });
    expect((await s.db.select().from(conversations))[0]).toMatchObject({ ourNumber: OUR, provider: 'sinch' });

    const wrong = createSinchSandbox({ baseUrl: () => s.url, webhookSecret: 'wrong', logger });
    cleanups.push(() => wrong.close());
    await expect(wrong.simulateInbound({ from: '+447700900123', to: OUR, text: 'x' })).rejects.toThrow(/signature does not match/);
  });
});
