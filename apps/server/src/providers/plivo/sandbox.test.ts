import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { asc, eq } from 'drizzle-orm';
import express from 'express';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { conversations, messageStatusHistory, messages, webhookLog } from '../../db/tables';
import { queueMessage } from '../../domain/send';
import { createOutboxWorker } from '../../outbox/worker';
import { openTestDb, type TempDb } from '../../testing/temp-db';
import { createNonceStore } from '../../webhooks/nonces';
import { plivoWebhookRouter } from './webhooks';
import { PLIVO_SANDBOX_TEST_NUMBERS, createPlivoSandbox, plivoTimestamp, type PlivoSandbox } from './sandbox';
import { ProviderError } from '../types';

const TOKEN = 'SandboxPlivoTokenSandboxPlivoToken0001';
const OUR = '+14155550100';
const logger = pino({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

interface Loop {
  tmp: TempDb;
  url: string;
  sandbox: PlivoSandbox;
  outcomes: string[];
  sends: string[];
  send(to: string): Promise<number>;
}

/** Parley's Plivo path in miniature: router on 127.0.0.1:0, the sandbox posting to it, an outbox worker sending through it. */
async function startLoop(opts: { sandboxToken?: string } = {}): Promise<Loop> {
  const tmp = await openTestDb('parley-plivo-sandbox-');
  const outcomes: string[] = [];
  let url = '';
  const app = express();
  app.use(
    '/webhooks/plivo',
    await plivoWebhookRouter({
      db: tmp.db,
      log: tmp.log,
      logger,
      helpText: 'help',
      maxBodyBytes: 64 * 1024,
      nonces: createNonceStore(tmp.db),
      authToken: TOKEN,
      publicUrl: () => url,
      onOutcome: (path, outcome) => void outcomes.push(`${path} ${outcome}`),
    }),
  );
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sandbox = createPlivoSandbox({
    baseUrl: () => url,
    authToken: opts.sandboxToken ?? TOKEN,
    logger,
    delaysMs: { submitted: 20, delivered: 60 },
    retryDelayMs: 10,
  });
  const sends: string[] = [];
  const worker = createOutboxWorker({
    db: tmp.db,
    log: tmp.log,
    provider: sandbox,
    queue: 'plivo',
    ratePerSecond: 100,
    logger,
    pollMs: 50,
    backoff: { baseMs: 5, capMs: 20 },
    metrics: { onSend: (_ms, outcome) => void sends.push(outcome) },
  });
  await worker.start();
  cleanups.push(async () => {
    await worker.stop();
    await sandbox.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await tmp.dispose();
  });
  return {
    tmp,
    url,
    sandbox,
    outcomes,
    sends,
    async send(to) {
      const { message } = await queueMessage({
        log: tmp.log,
        ourNumber: OUR,
        provider: 'plivo',
        to,
        text: 'Hello from the Plivo sandbox',
        agentId: 1,
      });
      worker.wake();
      return message.id;
    },
  };
}

const row = async (l: Loop, id: number) => (await l.tmp.db.select().from(messages).where(eq(messages.id, id)))[0];
const settle = (l: Loop, id: number, status: string) =>
  vi.waitFor(async () => expect((await row(l, id))?.status).toBe(status), { timeout: 5000, interval: 10 });
const historyOf = async (l: Loop, id: number) =>
  await l.tmp.db
    .select()
    .from(messageStatusHistory)
    .where(eq(messageStatusHistory.messageId, id))
    .orderBy(asc(messageStatusHistory.providerTimestamp));

describe('Plivo sandbox', () => {
  it('is named sandbox:plivo and documents the same test numbers as the Vonage sandbox', async () => {
    const l = await startLoop();
    expect(l.sandbox.name).toBe('sandbox:plivo');
    expect(PLIVO_SANDBOX_TEST_NUMBERS.map((n) => n.number)).toEqual(['+447700900666', '+447700900429', '+447700900500']);
    expect(plivoTimestamp(Date.parse('2025-02-03T12:14:25.102Z'))).toBe('2025-02-03 12:14:25.102000');
  });

  it('a normal number: queued (ignored) → sent → delivered through the V3-signed /webhooks/plivo/status?ref= path', async () => {
    const l = await startLoop();
    const id = await l.send('+14155550123');
    await settle(l, id, 'delivered');
    const m = await row(l, id);
    expect(m).toMatchObject({ status: 'delivered', price: '0.00790', errorCode: null });
    expect((await historyOf(l, id)).map((h) => [h.status, h.providerMessageUuid, h.clientRef])).toEqual([
      ['submitted', m?.providerMessageUuid, m?.clientRef],
      ['delivered', m?.providerMessageUuid, m?.clientRef],
    ]);
    expect(l.outcomes).toContain('/webhooks/plivo/status ignored'); // the queued callback
    expect(l.outcomes.filter((o) => o.includes('bad_signature'))).toEqual([]);
    expect(await l.tmp.db.select().from(webhookLog)).toEqual([]);
  });

  it('+447700900666 ends rejected with ErrorCode 100', async () => {
    const l = await startLoop();
    const id = await l.send('+447700900666');
    await settle(l, id, 'rejected');
    expect(await row(l, id)).toMatchObject({ errorCode: '100', errorReason: 'Prohibited by the carrier' });
  });

  it('+447700900429 is throttled (HTTP 429) twice, then delivered', async () => {
    const l = await startLoop();
    const id = await l.send('+447700900429');
    await settle(l, id, 'delivered');
    expect(l.sends).toEqual(['http_429', 'http_429', 'ok']);
  });

  it('+447700900500 is sent, then undeliverable with ErrorCode 70', async () => {
    const l = await startLoop();
    const id = await l.send('+447700900500');
    await settle(l, id, 'undeliverable');
    expect(await row(l, id)).toMatchObject({ errorCode: '70', errorReason: 'Destination permanently unavailable' });
    expect((await historyOf(l, id)).map((h) => h.status)).toEqual(['submitted', 'undeliverable']);
  });

  it('the throttled send is a retryable ProviderError 429', async () => {
    const l = await startLoop();
    const msg = { messageId: 'm-1', from: OUR, to: '+447700900429', text: 'x' };
    const error = await l.sandbox.send(msg).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).failure).toMatchObject({ retryable: true, httpStatus: 429, code: 'http_429' });
  });

  it('simulateInbound posts a signed inbound form: a conversation on the To number with provider plivo', async () => {
    const l = await startLoop();
    await l.sandbox.simulateInbound({ from: '+14155550123', to: OUR, text: 'Hi from a phone 📱' });
    const m = (await l.tmp.db.select().from(messages).where(eq(messages.direction, 'in')))[0];
    expect(m).toMatchObject({ from: '+14155550123', to: OUR, text: 'Hi from a phone 📱', status: 'received' });
    expect((await l.tmp.db.select().from(conversations))[0]).toMatchObject({ ourNumber: OUR, provider: 'plivo' });
  });

  it('a refused callback is retried, re-signed with a fresh nonce each time; simulateInbound throws when refused', async () => {
    const l = await startLoop({ sandboxToken: 'NotTheRouterTokenNotTheRouterToken01' });
    await expect(l.sandbox.simulateInbound({ from: '+14155550123', to: OUR, text: 'x' })).rejects.toThrow(/HTTP 401/);
    const id = await l.send('+14155550123');
    await settle(l, id, 'submitted');
    await vi.waitFor(() => expect(l.tmp.db.$count(webhookLog)).resolves.toBeGreaterThanOrEqual(6), { timeout: 5000, interval: 10 });
    const nonces = (await l.tmp.db.select().from(webhookLog))
      .filter((r) => r.path.startsWith('/webhooks/plivo/status'))
      .map((r) => (JSON.parse(r.headers) as Record<string, string>)['x-plivo-signature-v3-nonce']);
    expect(nonces.length).toBeGreaterThanOrEqual(5);
    expect(new Set(nonces).size).toBe(nonces.length);
    expect(await historyOf(l, id)).toEqual([]);
  });
});
