import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { contacts, messages, outbox } from '../db/tables';
import { PRIORITY, RESTART_REASON } from '../domain/outbox';
import { queueMessage } from '../domain/send';
import { loadMessage } from '../domain/media';
import { createVonageProvider } from '../providers/vonage/sender';
import { accepted, startMockVonage, vonageProblem } from '../testing/mock-vonage';
import type { MockVonage } from '../testing/mock-vonage';
import type { SmsProvider } from '../providers/types';
import { startTestServer, statusPayload } from '../testing/harness';
import type { TestServer } from '../testing/harness';
import { TokenBucket } from './token-bucket';
import { createOutboxWorker } from './worker';
import type { OutboxWorker, OutboxWorkerOptions } from './worker';

const APP_ID = 'aaaaaaaa-bbbb-cccc-dddd-0123456789ab';
const US = '+447700900000';
const THEM = '+447700900001';

let mock: MockVonage;
const cleanups: (() => Promise<void>)[] = [];
beforeAll(async () => {
  mock = await startMockVonage({ applicationId: APP_ID });
});
afterAll(() => mock.close());
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  expect(mock.specViolations()).toEqual([]);
  mock.reset();
});

type Setup = Partial<Omit<OutboxWorkerOptions, 'db' | 'log' | 'logger' | 'provider'>> & {
  dir?: string;
  timeoutMs?: number;
  apiHost?: string;
  start?: boolean;
  /** Wraps the Vonage provider (e.g. to see when each send starts). */
  wrap?: (provider: SmsProvider) => SmsProvider;
};

async function setup(o: Setup = {}): Promise<{ server: TestServer; worker: OutboxWorker }> {
  const { dir, timeoutMs, apiHost, start, wrap, ...rest } = o;
  const server = await startTestServer({}, dir, { worker: false });
  const provider = createVonageProvider({
    applicationId: APP_ID,
    privateKey: mock.keyPair.privateKeyPem,
    apiHost: apiHost ?? mock.url,
    timeoutMs: timeoutMs ?? 2000,
  });
  const worker = createOutboxWorker({
    db: server.db,
    log: server.events,
    logger: server.logger,
    provider: wrap ? wrap(provider) : provider,
    ratePerSecond: 1000,
    pollMs: 50,
    backoff: { baseMs: 5, capMs: 20 },
    ...rest,
  });
  cleanups.push(async () => {
    await worker.stop();
    await server.dispose();
  });
  if (start !== false) await worker.start();
  return { server, worker };
}

async function queue(server: TestServer, worker: OutboxWorker, over: { to?: string; text?: string; priority?: number } = {}) {
  const { message } = await queueMessage({
    log: server.events,
    ourNumber: US,
    to: over.to ?? THEM,
    text: over.text ?? 'Hello from Parley',
    agentId: 1,
    priority: over.priority,
  });
  worker.wake();
  return message;
}

const row = async (server: TestServer, id: number) => (await server.db.select().from(messages).where(eq(messages.id, id)))[0];
const outboxRows = async (server: TestServer) => await server.db.select().from(outbox);
const refOf = (body: unknown) => (body as { client_ref?: string }).client_ref;
const drained = (server: TestServer) =>
  vi.waitFor(async () => expect(await outboxRows(server)).toEqual([]), { timeout: 8000, interval: 10 });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('outbox worker against the Vonage mock', () => {
  it('202: submitted, provider id stored, one request carrying our client_ref', async () => {
    const { server, worker } = await setup();
    const m = await queue(server, worker);
    await drained(server);
    const [req] = mock.requests;
    expect(mock.requests).toHaveLength(1);
    expect(refOf(req?.body)).toBe(m.clientRef);
    expect(await loadMessage(server.db, m.id)).toMatchObject({ status: 'submitted', providerMessageId: req?.messageUuid });
    expect((await server.events.readAfter(0)).map((e) => e.type)).toEqual(['message.created', 'conversation.updated', 'message.status']);
    expect(await worker.stats()).toEqual({ depth: 0, oldestQueuedAgeMs: null, inFlight: 0, state: 'running' });
  });

  it('429 twice then 202: three requests, submitted', async () => {
    const { server, worker } = await setup();
    mock.enqueue(vonageProblem(429), vonageProblem(429));
    const m = await queue(server, worker);
    await drained(server);
    expect(mock.requests).toHaveLength(3);
    expect(new Set(mock.requests.map((r) => refOf(r.body)))).toEqual(new Set([m.clientRef]));
    expect((await row(server, m.id))?.status).toBe('submitted');
  });

  it('422: failed with the reason and the invalid parameters, one request', async () => {
    const { server, worker } = await setup();
    mock.enqueue(
      vonageProblem(422, {
        title: 'Invalid recipient',
        detail: 'The `to` parameter is invalid.',
        invalid_parameters: [{ name: 'to', reason: 'Not a valid number' }],
      }),
    );
    const m = await queue(server, worker);
    await drained(server);
    await pause(100);
    expect(mock.requests).toHaveLength(1);
    expect(await row(server, m.id)).toMatchObject({
      status: 'failed',
      errorCode: 'http_422',
      errorTitle: 'Invalid recipient',
      errorReason: 'Vonage refused the message as invalid',
      errorDetail: 'The `to` parameter is invalid. — invalid parameters: to: Not a valid number',
    });
  });

  it('gives up after maxAttempts retryable failures', async () => {
    const { server, worker } = await setup({ maxAttempts: 3 });
    mock.respond(() => vonageProblem(500));
    const m = await queue(server, worker);
    await drained(server);
    expect(mock.requests).toHaveLength(3);
    expect(await row(server, m.id)).toMatchObject({
      status: 'failed',
      errorReason: 'Vonage had an internal error (gave up after 3 attempts)',
    });
  });

  it('a delivered webhook that beats the 202 is not regressed by it', async () => {
    const { server, worker } = await setup();
    const held = mock.hold();
    const m = await queue(server, worker);
    const req = await held.received;
    const res = await server.postWebhook(
      '/webhooks/status',
      statusPayload({ message_uuid: req.messageUuid, status: 'delivered', client_ref: refOf(req.body) }),
    );
    expect(res.status).toBe(200);
    expect((await row(server, m.id))?.status).toBe('delivered');
    held.release();
    await drained(server);
    expect(await server.db.select().from(messages)).toHaveLength(1);
    expect(await loadMessage(server.db, m.id)).toMatchObject({ status: 'delivered', providerMessageId: req.messageUuid });
    const statuses = (await server.events.readAfter(0)).flatMap((e) => (e.type === 'message.status' ? [e.payload.message.status] : []));
    expect(statuses).toEqual(['delivered']);
  });

  it('a timeout, a dropped connection or a 202 without an id is interrupted, never resent; a later status webhook settles it', async () => {
    const { server, worker } = await setup({ timeoutMs: 150, concurrency: 1 });
    mock.enqueue({ ...accepted(), delayMs: 400 }, { status: 202, drop: true }, { status: 202, body: '{"message_uuid":"x"}' });
    const slow = await queue(server, worker);
    const dropped = await queue(server, worker);
    const noId = await queue(server, worker);
    await drained(server);
    await pause(100);
    expect(mock.requests).toHaveLength(3);
    expect((await row(server, noId.id))?.status).toBe('interrupted');
    expect(await row(server, slow.id)).toMatchObject({
      status: 'interrupted',
      errorReason: expect.stringMatching(/did not answer within 150 ms; the message may or may not have been sent/) as string,
    });
    expect((await row(server, dropped.id))?.status).toBe('interrupted');
    const req = mock.requests.find((r) => refOf(r.body) === slow.clientRef);
    await server.postWebhook(
      '/webhooks/status',
      statusPayload({ message_uuid: req?.messageUuid ?? 'x', status: 'delivered', client_ref: slow.clientRef }),
    );
    // Settled as a success: it learns its provider id, and the "may not have been sent" note is gone.
    expect(await row(server, slow.id)).toMatchObject({
      status: 'delivered',
      providerMessageUuid: req?.messageUuid,
      errorCode: null,
      errorReason: null,
    });
  });

  it('connection refused is retried (nothing was sent), then fails after maxAttempts', async () => {
    const dead = await startMockVonage({ keyPair: mock.keyPair });
    await dead.close();
    const { server, worker } = await setup({ apiHost: dead.url, maxAttempts: 2 });
    const m = await queue(server, worker);
    await drained(server);
    expect(await row(server, m.id)).toMatchObject({
      status: 'failed',
      errorCode: 'network',
      errorReason: 'Could not reach Vonage (gave up after 2 attempts)',
    });
  });

  it('sends replies before campaign messages and skips contacts who opted out since', async () => {
    const { server, worker } = await setup({ start: false, concurrency: 1 });
    const campaign = [
      await queue(server, worker, { priority: PRIORITY.campaign }),
      await queue(server, worker, { priority: PRIORITY.campaign }),
    ];
    const reply = await queue(server, worker, { to: '+447700900002' });
    const gone = await queue(server, worker, { to: '+447700900003' });
    await server.db
      .update(contacts)
      .set({ optedOutAt: Date.now() + 1 })
      .where(eq(contacts.phone, '+447700900003'));
    expect(await worker.stats()).toMatchObject({ depth: 4, inFlight: 0, state: 'stopped' });
    expect((await worker.stats()).oldestQueuedAgeMs).toBeGreaterThanOrEqual(0);
    await worker.start();
    await drained(server);
    expect(mock.requests.map((r) => refOf(r.body))).toEqual([reply.clientRef, ...campaign.map((c) => c.clientRef)]);
    expect(await row(server, gone.id)).toMatchObject({ status: 'failed', errorCode: 'OPTED_OUT' });
  });

  it('stop() waits for the send in flight', async () => {
    const { server, worker } = await setup();
    const held = mock.hold();
    const m = await queue(server, worker);
    await held.received;
    let stopped = false;
    const stopping = worker.stop().then(() => (stopped = true));
    await pause(50);
    expect(stopped).toBe(false);
    held.release();
    await stopping;
    expect((await row(server, m.id))?.status).toBe('submitted');
    expect((await worker.stats()).state).toBe('stopped');
  });

  it('keeps to the configured rate over a burst', async () => {
    const { server, worker } = await setup({ start: false, ratePerSecond: 30 });
    for (let i = 0; i < 90; i++) await queue(server, worker, { to: `+4477009${10000 + i}` });
    await worker.start();
    await drained(server);
    const times = mock.requests.map((r) => r.receivedAt.getTime());
    expect(times).toHaveLength(90);
    const seconds = (Math.max(...times) - Math.min(...times)) / 1000;
    const rate = 89 / seconds;
    expect(rate).toBeGreaterThan(30 * 0.93);
    expect(rate).toBeLessThan(30 * 1.07);
  });
});

describe('outbox worker at high rates (batched claims and results)', () => {
  it('never starts more sends than the rate in any second, even with a bucket that allows a burst', async () => {
    // A bucket of 10 tokens at 20/s alone would start 10 + ~18 sends in the first 950 ms.
    const started: number[] = [];
    const { server, worker } = await setup({
      start: false,
      ratePerSecond: 20,
      bucket: new TokenBucket({ ratePerSecond: 20, capacity: 10 }),
      wrap: (p) => ({ ...p, send: (m) => (started.push(performance.now()), p.send(m)) }),
    });
    for (let i = 0; i < 45; i++) await queue(server, worker, { to: `+4477009${11000 + i}` });
    await pause(600); // idle: the bucket fills to its 10 tokens
    await worker.start();
    await drained(server);
    expect(started).toHaveLength(45);
    expect(mock.requests).toHaveLength(45);
    // Measured where the worker calls the provider (the claim between token and call takes a few
    // ms, hence 950 ms); at the mock, connection set-up of the first requests blurs the picture.
    let most = 0;
    for (let lo = 0, hi = 0; hi < started.length; hi++) {
      while ((started[lo] ?? 0) <= (started[hi] ?? 0) - 950) lo++;
      most = Math.max(most, hi - lo + 1);
    }
    expect(most).toBeLessThanOrEqual(20);
  });

  it('sends a bulk queue at a high rate exactly once, each recorded submitted with its own provider id', async () => {
    const { server, worker } = await setup({ start: false, ratePerSecond: 2000 });
    const queued = [];
    for (let i = 0; i < 300; i++) queued.push(await queue(server, worker, { to: `+4477009${12000 + (i % 40)}`, text: `bulk ${i}` }));
    await worker.start();
    await drained(server);
    const refs = mock.requests.map((r) => refOf(r.body));
    expect(refs).toHaveLength(300);
    expect(new Set(refs)).toEqual(new Set(queued.map((m) => m.clientRef)));
    const uuidByRef = new Map(mock.requests.map((r) => [refOf(r.body), r.messageUuid]));
    for (const m of queued) {
      expect(await row(server, m.id)).toMatchObject({ status: 'submitted', providerMessageUuid: uuidByRef.get(m.clientRef ?? '') });
    }
    const statusEvents = (await server.events.readAfter(0, 10_000)).filter((e) => e.type === 'message.status');
    expect(statusEvents).toHaveLength(300);
  });

  it('a send whose outcome cannot be recorded does not hold back the others answered with it', async () => {
    const { server, worker } = await setup({ start: false });
    const a = await queue(server, worker, { to: '+447700913000' });
    const b = await queue(server, worker, { to: '+447700913001' });
    const c = await queue(server, worker, { to: '+447700913002' });
    // The same message_uuid for a and b breaks the unique provider id: one of them cannot be recorded.
    const shared = '0bd4c3a8-0000-4000-8000-000000000001';
    mock.respond((req) => ({
      ...accepted(refOf(req.body) === c?.clientRef ? '0bd4c3a8-0000-4000-8000-000000000003' : shared),
      delayMs: 50,
    }));
    await worker.start();
    await vi.waitFor(() => expect(mock.requests).toHaveLength(3), { timeout: 8000 });
    await vi.waitFor(async () => expect((await worker.stats()).inFlight).toBe(0), { timeout: 8000 });
    const submitted = [];
    for (const m of [a, b, c]) if ((await row(server, m.id))?.status === 'submitted') submitted.push(m);
    // Whichever of the two with the shared id was recorded first keeps it; the third always goes through.
    expect(submitted).toHaveLength(2);
    expect(await row(server, c?.id ?? 0)).toMatchObject({
      status: 'submitted',
      providerMessageUuid: '0bd4c3a8-0000-4000-8000-000000000003',
    });
    expect(await Promise.all(submitted.map(async (m) => (await row(server, m?.id ?? 0))?.providerMessageUuid))).toContain(shared);
    expect(mock.requests).toHaveLength(3);
  });
});

describe('crash and restart', () => {
  it('sends every queued row exactly once; rows in flight at the crash become interrupted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-crash-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const first = await setup({ dir, start: false, concurrency: 3 });
    const holds = [mock.hold(), mock.hold(), mock.hold()];
    const queued = [];
    for (let i = 0; i < 10; i++) queued.push(await queue(first.server, first.worker, { to: `+44770090010${i}` }));
    await first.worker.start();
    const inFlight = await Promise.all(holds.map((h) => h.received));
    expect(await first.server.db.select().from(outbox).where(eq(outbox.state, 'sending'))).toHaveLength(3);

    // The crash: the database goes away with three sends unanswered.
    await first.server.close();
    const second = await setup({ dir });
    await drained(second.server);
    for (const h of holds) h.release(); // the dead process' answers land nowhere
    await first.worker.stop();

    const refs = mock.requests.map((r) => refOf(r.body));
    expect(refs).toHaveLength(10);
    expect(new Set(refs).size).toBe(10);
    expect(new Set(refs)).toEqual(new Set(queued.map((m) => m.clientRef)));
    const heldRefs = new Set(inFlight.map((r) => refOf(r.body)));
    for (const m of queued) {
      const r = await row(second.server, m.id);
      if (heldRefs.has(m.clientRef ?? '')) expect(r).toMatchObject({ status: 'interrupted', errorReason: RESTART_REASON });
      else expect(r?.status).toBe('submitted');
    }
    const late = inFlight[0];
    await second.server.postWebhook(
      '/webhooks/status',
      statusPayload({ message_uuid: late?.messageUuid ?? 'x', status: 'delivered', client_ref: refOf(late?.body) }),
    );
    const settled = await queued.find((m) => m.clientRef === refOf(late?.body));
    expect(await row(second.server, settled?.id ?? 0)).toMatchObject({ status: 'delivered', providerMessageUuid: late?.messageUuid });
  });
});
