import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageDto } from '@parley/shared';
import { inboundPayload, startTestServer, type TestServer } from '../testing/harness';
import { trpcCall, type TrpcReply } from '../testing/trpc-http';
import { TEST_ADMIN } from '../config';
import { raw } from '../testing/raw';

/** Send later (scheduled, cancel, opt-out at send time, durable) and safe retry over real HTTP with the sandbox provider. */
const ADMIN = TEST_ADMIN;
const HOUR = 3_600_000;

let s: TestServer | undefined;
let dir = '';
afterEach(async () => {
  await s?.dispose();
  s = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

function call(path: string, input: unknown, cookie: string, method: 'GET' | 'POST' = 'POST'): Promise<TrpcReply> {
  if (!s) throw new Error('no server');
  return trpcCall(s.url, path, input, cookie, method);
}

const signIn = async () => (await call('auth.login', ADMIN, '')).cookie ?? '';

async function messageOf(cookie: string, m: MessageDto): Promise<MessageDto> {
  const r = await call('conversation.messages', { conversationId: m.conversationId }, cookie, 'GET');
  const found = (r.body.result?.data as { items: MessageDto[] }).items.find((x) => x.id === m.id);
  if (!found) throw new Error(`message ${m.id} not in its thread`);
  return found;
}

/** Polls until the message's status is one of `statuses` (generous bound for a loaded machine). */
async function until(cookie: string, m: MessageDto, statuses: string[]): Promise<MessageDto> {
  const deadline = Date.now() + 15_000;
  let now = await messageOf(cookie, m);
  while (!statuses.includes(now.status) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    now = await messageOf(cookie, m);
  }
  expect(statuses).toContain(now.status);
  return now;
}

async function send(cookie: string, input: Record<string, unknown>): Promise<MessageDto> {
  const r = await call('message.send', input, cookie);
  expect(r.status, r.body.error?.message).toBe(200);
  return r.body.result?.data as MessageDto;
}

async function stop(from: string): Promise<void> {
  const res = await s?.postWebhook('/webhooks/inbound', inboundPayload({ from: from.replace('+', ''), text: 'STOP' }));
  expect(res?.status).toBe(200);
}

describe('send later', () => {
  it('refuses bad times, shows scheduled, cancels, and checks the opt-out when due', async () => {
    let clock = Date.parse('2026-03-02T10:00:00Z');
    s = await startTestServer({ dueScanIntervalMs: 50 }, undefined, { now: () => clock });
    const cookie = await signIn();
    const at = (ms: number) => new Date(clock + ms).toISOString();

    const past = await call('message.send', { to: '+447700900201', text: 'late', sendAt: at(-1000) }, cookie);
    expect(past.status).toBe(400);
    expect(past.body.error?.message).toMatch(/past/);
    const far = await call('message.send', { to: '+447700900201', text: 'far', sendAt: at(367 * 24 * HOUR) }, cookie);
    expect(far.status).toBe(400);
    expect(far.body.error?.message).toMatch(/year/);

    const later = await send(cookie, { to: '+447700900201', text: 'Your order ships today', sendAt: at(HOUR) });
    expect(later).toMatchObject({ status: 'scheduled', sendAt: at(HOUR) });
    const cancelMe = await send(cookie, { to: '+447700900202', text: 'never mind', sendAt: at(HOUR) });
    const cancelled = await call('message.cancelScheduled', { id: cancelMe.id }, cookie);
    expect(cancelled.body.result?.data).toMatchObject({ status: 'failed', errorCode: 'CANCELLED' });
    const again = await call('message.cancelScheduled', { id: cancelMe.id }, cookie);
    expect(again.status).toBe(409);

    // Not due yet: still scheduled, nothing in the outbox.
    await new Promise((r) => setTimeout(r, 300));
    expect((await messageOf(cookie, later)).status).toBe('scheduled');
    expect(await raw(s.db).get('select count(*) as n from outbox')).toEqual({ n: 0 });

    // The contact opts out meanwhile (allowed at scheduling time); at its time it is refused, with why.
    await stop('+447700900201');
    clock += HOUR;
    const refused = await until(cookie, later, ['failed']);
    expect(refused.errorCode).toBe('OPTED_OUT');
    expect(refused.errorReason).toMatch(/opted out.*before this scheduled message was due/);
    expect((await messageOf(cookie, cancelMe)).status).toBe('failed');
  });

  it('is durable: a restart after its time sends it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-later-'));
    let clock = Date.parse('2026-03-02T10:00:00Z');
    s = await startTestServer({}, dir, { now: () => clock });
    let cookie = await signIn();
    const later = await send(cookie, { to: '+447700900203', text: 'see you tomorrow', sendAt: new Date(clock + 2 * HOUR).toISOString() });
    await s.dispose();
    clock += 3 * HOUR;
    s = await startTestServer({}, dir, { now: () => clock });
    cookie = await signIn();
    const sent = await until(cookie, later, ['delivered']);
    expect(sent.providerMessageId).not.toBeNull();
  });
});

describe('safe retry', () => {
  it('resends a message the provider refused, once, linked to the original, and refuses every forbidden case with the reason', async () => {
    s = await startTestServer();
    const cookie = await signIn();

    // +447700900422 (sandbox): the first send of a text is refused (422) before acceptance.
    const original = await send(cookie, { to: '+447700900422', text: 'Your code is 1234' });
    const refused = await until(cookie, original, ['failed']);
    expect(refused.providerMessageId).toBeNull();

    const retried = await call('message.retry', { id: original.id }, cookie);
    expect(retried.status, retried.body.error?.message).toBe(200);
    const copy = retried.body.result?.data as MessageDto;
    expect(copy).toMatchObject({
      status: 'queued',
      retryOf: original.id,
      text: 'Your code is 1234',
      conversationId: original.conversationId,
    });
    expect(copy.clientRef).not.toBe(original.clientRef);
    await until(cookie, copy, ['delivered']);
    // The thread shows both.
    const thread = await call('conversation.messages', { conversationId: original.conversationId }, cookie, 'GET');
    expect((thread.body.result?.data as { items: MessageDto[] }).items.map((m) => m.id)).toEqual(
      expect.arrayContaining([original.id, copy.id]),
    );

    const twice = await call('message.retry', { id: original.id }, cookie);
    expect(twice.status).toBe(409);
    expect(twice.body.error?.message).toMatch(/retried already/);
    const ofDelivered = await call('message.retry', { id: copy.id }, cookie);
    expect(ofDelivered.status).toBe(409);

    // Undeliverable after acceptance: it may have arrived.
    const undeliverable = await send(cookie, { to: '+447700900500', text: 'hello there' });
    await until(cookie, undeliverable, ['undeliverable']);
    const noUndeliverable = await call('message.retry', { id: undeliverable.id }, cookie);
    expect(noUndeliverable.status).toBe(409);
    expect(noUndeliverable.body.error?.message).toMatch(/may have reached the handset/);

    // Refused, then the contact opted out: never.
    const second = await send(cookie, { to: '+447700900422', text: 'A different text' });
    await until(cookie, second, ['failed']);
    await stop('+447700900422');
    const optedOut = await call('message.retry', { id: second.id }, cookie);
    expect(optedOut.status).toBe(409);
    expect(optedOut.body.error?.message).toMatch(/opted out/);

    // An inbound text, and a message that does not exist.
    const inbound = (await call('conversation.messages', { conversationId: second.conversationId }, cookie, 'GET')).body.result?.data as {
      items: MessageDto[];
    };
    const stopText = inbound.items.find((m) => m.direction === 'in');
    expect((await call('message.retry', { id: stopText?.id }, cookie)).status).toBe(409);
    expect((await call('message.retry', { id: 999_999 }, cookie)).status).toBe(404);
  });
});
