import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MessageDto, ParleyEvent } from '@parley/shared';
import { messageStatusHistory, messages, outbox } from '../../db/tables';
import { queueMessage } from '../../domain/send';
import { createOutboxWorker } from '../../outbox/worker';
import { startTestServer } from '../../testing/harness';
import type { TestServer } from '../../testing/harness';
import { createSignatureVerifier } from './signature';
import { SANDBOX_TEST_NUMBERS, createSandboxProvider } from './sandbox';
import type { SandboxProvider } from './sandbox';
import { ProviderError } from '../types';

const US = '+447700900000';
const logger = pino({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function setup() {
  const server = await startTestServer({}, undefined, { worker: false });
  const sandbox = createSandboxProvider({
    statusUrl: `${server.url}/webhooks/status`,
    signatureSecret: server.signatureSecret,
    delaysMs: { submitted: 20, delivered: 60 },
    retryDelayMs: 20,
    logger,
  });
  const outcomes: string[] = [];
  const worker = createOutboxWorker({
    db: server.db,
    log: server.events,
    logger,
    provider: sandbox,
    ratePerSecond: 100,
    pollMs: 50,
    backoff: { baseMs: 5, capMs: 20 },
    metrics: { onSend: (_ms, outcome) => void outcomes.push(outcome) },
  });
  await worker.start();
  cleanups.push(async () => {
    await worker.stop();
    await sandbox.close();
    await server.dispose();
  });
  const send = async (to: string) => {
    const { message } = await queueMessage({ log: server.events, ourNumber: US, to, text: 'Hello from the sandbox', agentId: 1 });
    worker.wake();
    return message;
  };
  return { server, sandbox, send, outcomes };
}

const messageRow = async (server: TestServer, id: number) => (await server.db.select().from(messages).where(eq(messages.id, id)))[0];
const settle = (server: TestServer, id: number, status: string) =>
  vi.waitFor(async () => expect((await messageRow(server, id))?.status).toBe(status), { timeout: 5000, interval: 10 });

describe('sandbox provider', () => {
  it('documents its test numbers', () => {
    expect(SANDBOX_TEST_NUMBERS.map((n) => n.number)).toEqual(['+447700900666', '+447700900429', '+447700900500', '+447700900422']);
    for (const n of SANDBOX_TEST_NUMBERS) expect(n.description.length).toBeGreaterThan(20);
  });

  it('a normal number goes queued → submitted → delivered through the signed /webhooks/status path', async () => {
    const { server, send } = await setup();
    const controller = new AbortController();
    const seen: MessageDto['status'][] = [];
    const watching = (async () => {
      for await (const event of server.events.subscribe(0, controller.signal) as AsyncGenerator<ParleyEvent>) {
        if (event.type === 'message.created' || event.type === 'message.status') seen.push(event.payload.message.status);
        if (event.type === 'message.status' && event.payload.message.status === 'delivered') break;
      }
    })();
    const m = await send('+447700900001');
    await watching;
    controller.abort();
    expect(seen.filter((s, i) => s !== seen[i - 1])).toEqual(['queued', 'submitted', 'delivered']);
    const row = await messageRow(server, m.id);
    expect(row).toMatchObject({ status: 'delivered', price: '0.0333', currency: 'EUR', errorCode: null });
    const history = await server.db.select().from(messageStatusHistory).where(eq(messageStatusHistory.messageId, m.id));
    expect(history.map((h) => [h.status, h.providerMessageUuid])).toEqual([
      ['submitted', row?.providerMessageUuid],
      ['delivered', row?.providerMessageUuid],
    ]);
  });

  it('+447700900666 ends rejected with error 1170', async () => {
    const { server, send } = await setup();
    const m = await send('+447700900666');
    await settle(server, m.id, 'rejected');
    expect(await messageRow(server, m.id)).toMatchObject({
      errorCode: '1170',
      errorReason: 'Number is invalid or missing',
      errorDetail: 'Invalid or missing number',
    });
  });

  it('+447700900429 is throttled twice, retried, then delivered', async () => {
    const { server, send, outcomes } = await setup();
    const m = await send('+447700900429');
    await settle(server, m.id, 'delivered');
    expect(outcomes).toEqual(['1000', '1000', 'ok']);
    expect(await server.db.select().from(outbox)).toEqual([]);
  });

  it('+447700900500 ends undeliverable with error 1190', async () => {
    const { server, send } = await setup();
    const m = await send('+447700900500');
    await settle(server, m.id, 'undeliverable');
    expect(await messageRow(server, m.id)).toMatchObject({
      errorCode: '1190',
      errorReason: 'Recipient number no longer active (absent subscriber)',
    });
  });

  it('the 429 number throws a retryable ProviderError per message id', async () => {
    const sandbox = createSandboxProvider({
      statusUrl: 'http://127.0.0.1:9/webhooks/status',
      signatureSecret: 's',
      delaysMs: { submitted: 10_000, delivered: 20_000 },
      logger,
    });
    const msg = { messageId: 'ref-1', from: US, to: '+447700900429', text: 'hi' };
    for (let i = 0; i < 2; i++) {
      const error: unknown = await sandbox.send(msg).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderError);
      expect((error as ProviderError).failure).toMatchObject({ retryable: true, httpStatus: 429, code: '1000' });
    }
    await expect(sandbox.send(msg)).resolves.toMatchObject({ providerMessageId: expect.any(String) as string });
    await expect(sandbox.send({ ...msg, messageId: 'ref-2' })).rejects.toBeInstanceOf(ProviderError);
    const started = Date.now();
    await sandbox.close(); // cancels the pending 10 s timers
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('retries a refused webhook and signs every attempt', async () => {
    const secret = 'test-secret';
    const verifier = createSignatureVerifier({ secret, maxAgeSeconds: 90_000 });
    const received: { ok: boolean; body: Record<string, unknown> }[] = [];
    const hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        void verifier.verify(req.headers.authorization, raw).then((v) => {
          received.push({ ok: v.ok, body: JSON.parse(raw.toString('utf8')) as Record<string, unknown> });
          res.writeHead(received.length <= 2 ? 503 : 200).end();
        });
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const sandbox: SandboxProvider = createSandboxProvider({
      statusUrl: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/webhooks/status`,
      signatureSecret: secret,
      delaysMs: { submitted: 0, delivered: 5_000 },
      retryDelayMs: 10,
      logger,
    });
    cleanups.push(async () => {
      await sandbox.close();
      await new Promise<void>((r) => hook.close(() => r()));
    });
    const { providerMessageId } = await sandbox.send({ messageId: 'ref-9', from: US, to: '+447700900002', text: 'hi' });
    await vi.waitFor(() => expect(received).toHaveLength(3), { timeout: 3000, interval: 10 });
    expect(received.every((r) => r.ok)).toBe(true);
    expect(received[2]?.body).toMatchObject({
      message_uuid: providerMessageId,
      status: 'submitted',
      client_ref: 'ref-9',
      to: '447700900002',
      from: '447700900000',
      channel: 'sms',
      usage: { currency: 'EUR', price: '0.0333' },
      sms: { count_total: '1' },
    });
  });
});
