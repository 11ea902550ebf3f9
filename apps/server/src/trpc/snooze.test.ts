import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConversationDto } from '@parley/shared';
import { inboundPayload, startTestServer, type TestServer } from '../testing/harness';
import { trpcCall, type TrpcReply } from '../testing/trpc-http';
import { TEST_ADMIN } from '../config';
import { raw } from '../testing/raw';

/** Pending and snoozed over real HTTP: validation, list filters, inbound reopens, the durable wake-up. */
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

async function signIn(): Promise<string> {
  const r = await call('auth.login', ADMIN, '');
  expect(r.status).toBe(200);
  return r.cookie ?? '';
}

async function inbound(from: string, text = 'hello'): Promise<void> {
  const res = await s?.postWebhook('/webhooks/inbound', inboundPayload({ from, text }));
  expect(res?.status).toBe(200);
}

async function list(cookie: string, filter: string): Promise<ConversationDto[]> {
  const r = await call('conversation.list', { filter }, cookie, 'GET');
  expect(r.status).toBe(200);
  return (r.body.result?.data as { items: ConversationDto[] }).items;
}

async function theOnly(cookie: string): Promise<ConversationDto> {
  const items = await list(cookie, 'all');
  expect(items).toHaveLength(1);
  return items[0] as ConversationDto;
}

describe('pending and snoozed conversations', () => {
  it('refuse a snooze without a future time, filter by status, and reopen when the contact writes', async () => {
    let clock = Date.parse('2026-03-02T10:00:00Z');
    s = await startTestServer({}, undefined, { now: () => clock });
    const cookie = await signIn();
    await inbound('447700900001');
    const c = await theOnly(cookie);

    const noTime = await call('conversation.setStatus', { id: c.id, status: 'snoozed' }, cookie);
    expect(noTime.status).toBe(400);
    expect(noTime.body.error?.message).toMatch(/snoozeUntil/);
    const past = await call(
      'conversation.setStatus',
      { id: c.id, status: 'snoozed', snoozeUntil: new Date(clock - 1000).toISOString() },
      cookie,
    );
    expect(past.status).toBe(400);
    expect(past.body.error?.message).toMatch(/future/);
    const garbage = await call('conversation.setStatus', { id: c.id, status: 'snoozed', snoozeUntil: 'tomorrow' }, cookie);
    expect(garbage.status).toBe(400);
    expect(garbage.body.error?.message).toMatch(/ISO/);

    const pending = await call('conversation.setStatus', { id: c.id, status: 'pending' }, cookie);
    expect(pending.status).toBe(200);
    expect(pending.body.result?.data).toMatchObject({ status: 'pending', snoozeUntil: null });
    expect((await list(cookie, 'pending')).map((x) => x.id)).toEqual([c.id]);
    expect(await list(cookie, 'open')).toEqual([]);

    // The contact writes: open again, an event says so.
    const before = await s.events.lastId();
    await inbound('447700900001', 'any news?');
    expect((await theOnly(cookie)).status).toBe('open');
    const updates = (await raw(s.db).all("select payload from events where id > ? and type = 'conversation.updated'", before)) as {
      payload: string;
    }[];
    expect(updates.map((u) => (JSON.parse(u.payload) as { conversation: ConversationDto }).conversation.status)).toContain('open');

    // Snoozed for an hour; the contact writes first: open, the snooze time gone.
    const until = new Date(clock + HOUR).toISOString();
    const snoozed = await call('conversation.setStatus', { id: c.id, status: 'snoozed', snoozeUntil: until }, cookie);
    expect(snoozed.status).toBe(200);
    expect(snoozed.body.result?.data).toMatchObject({ status: 'snoozed', snoozeUntil: until });
    expect((await list(cookie, 'snoozed')).map((x) => x.id)).toEqual([c.id]);
    await inbound('447700900001', 'me again');
    expect(await theOnly(cookie)).toMatchObject({ status: 'open', snoozeUntil: null });
    clock += 2 * HOUR;
    await s.dispose();
    s = undefined;
  });

  it('a snoozed conversation wakes at its time, even when the server was down when it fell due', async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-snooze-'));
    let clock = Date.parse('2026-03-02T10:00:00Z');
    s = await startTestServer({}, dir, { now: () => clock });
    let cookie = await signIn();
    await inbound('447700900002');
    const c = await theOnly(cookie);
    const until = new Date(clock + HOUR).toISOString();
    expect((await call('conversation.setStatus', { id: c.id, status: 'snoozed', snoozeUntil: until }, cookie)).status).toBe(200);
    await s.dispose();

    // Restart before it is due: still snoozed.
    clock += HOUR / 2;
    s = await startTestServer({}, dir, { now: () => clock });
    cookie = await signIn();
    expect((await theOnly(cookie)).status).toBe('snoozed');
    await s.dispose();

    // Down while it fell due, restarted after: the first scan reopens it, with an event.
    clock += HOUR;
    s = await startTestServer({}, dir, { now: () => clock });
    cookie = await signIn();
    const deadline = Date.now() + 10_000;
    let now = await theOnly(cookie);
    while (now.status !== 'open' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      now = await theOnly(cookie);
    }
    expect(now).toMatchObject({ status: 'open', snoozeUntil: null });
    const woke = (await raw(s.db).get("select payload from events where type = 'conversation.updated' order by id desc limit 1")) as {
      payload: string;
    };
    expect((JSON.parse(woke.payload) as { conversation: ConversationDto }).conversation).toMatchObject({ id: c.id, status: 'open' });
  });

  it('the due scan wakes a snooze while running when the clock reaches it', async () => {
    let clock = Date.parse('2026-03-02T10:00:00Z');
    s = await startTestServer({ dueScanIntervalMs: 50 }, undefined, { now: () => clock });
    const cookie = await signIn();
    await inbound('447700900003');
    const c = await theOnly(cookie);
    await call('conversation.setStatus', { id: c.id, status: 'snoozed', snoozeUntil: new Date(clock + HOUR).toISOString() }, cookie);
    await new Promise((r) => setTimeout(r, 300));
    expect((await theOnly(cookie)).status).toBe('snoozed');
    clock += HOUR;
    const deadline = Date.now() + 10_000;
    let now = await theOnly(cookie);
    while (now.status !== 'open' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      now = await theOnly(cookie);
    }
    expect(now.status).toBe('open');
  });
});
