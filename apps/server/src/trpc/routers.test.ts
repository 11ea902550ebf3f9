import { isTrackedEnvelope, TRPCError } from '@trpc/server';
import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from 'vitest';
import { vonageInboundSchema, type ParleyEvent } from '@parley/shared';
import { TEST_PASSWORD_COST, hashPassword } from '../auth/password';
import type { Db } from '../db/client';
import { testAppDeps } from '../testing/app-deps';
import { openTestDb, type TempDb } from '../testing/temp-db';
import { insertAgent, type AgentDto } from '../domain/agents';
import { receiveInbound } from '../domain/receive';
import type { EventLog } from '../events/log';
import { inboundPayload } from '../testing/harness';
import { createContextInner, type AppDeps } from './context';
import { adminProcedure, createCallerFactory, router } from './init';
import { createCaller } from './root';

let t: TempDb;
let db: Db;
let log: EventLog;
let deps: AppDeps;
let wake: Mock<() => void>;
let alice: AgentDto;
let admin: AgentDto;

beforeEach(async () => {
  t = await openTestDb('parley-trpc-');
  ({ db, log } = t);
  wake = vi.fn<() => void>();
  deps = testAppDeps(t, wake);
  alice = await insertAgent(db, {
    email: 'alice@x.test',
    name: 'Alice',
    passwordHash: await hashPassword('alice-password', TEST_PASSWORD_COST),
    role: 'agent',
  });
  admin = await insertAgent(db, { email: 'root@x.test', name: 'Root', passwordHash: 'x', role: 'admin' });
});
afterEach(async () => await t.dispose());

const as = (agent: AgentDto | null, extra: Partial<Parameters<typeof createContextInner>[0]> = {}) =>
  createCaller(createContextInner({ deps, agent, ...extra }));

async function trpcError(p: Promise<unknown>): Promise<TRPCError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof TRPCError)) throw new Error(`expected a TRPCError, got ${String(e)}`);
  return e;
}

async function inbound(from: string, text = 'hello'): Promise<number> {
  const r = await receiveInbound({ log, inbound: vonageInboundSchema.parse(inboundPayload({ from, text })), helpText: 'help' });
  if (r.duplicate) throw new Error('duplicate');
  return r.message.conversationId;
}

describe('auth', () => {
  it('login sets the session cookie and returns the agent; me and logout work with that session', async () => {
    const cookies: string[] = [];
    const { agent } = await as(null, { setCookie: (c) => cookies.push(c) }).auth.login({
      email: 'Alice@x.test',
      password: 'alice-password',
    });
    expect(agent).toMatchObject({ id: alice.id, email: 'alice@x.test', role: 'agent' });
    expect(agent).not.toHaveProperty('passwordHash');
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatch(/^parley_session=[\w-]{43}; Path=\/; Max-Age=604800; HttpOnly; SameSite=Lax$/);
    expect(await as(alice).auth.me()).toEqual(alice);
  });

  it('wrong password is UNAUTHORIZED; the sixth failure TOO_MANY_REQUESTS; login over ws is refused', async () => {
    const caller = as(null, { setCookie: () => undefined, ip: '10.0.0.9' });
    for (let i = 0; i < 5; i++) {
      expect((await trpcError(caller.auth.login({ email: 'alice@x.test', password: 'wrong' }))).code).toBe('UNAUTHORIZED');
    }
    const limited = await trpcError(caller.auth.login({ email: 'alice@x.test', password: 'alice-password' }));
    expect(limited.code).toBe('TOO_MANY_REQUESTS');
    expect(limited.message).toMatch(/Too many failed sign-in attempts/);
    expect((await trpcError(as(null).auth.login({ email: 'alice@x.test', password: 'x' }))).message).toMatch(/over HTTP/);
  });

  it('every procedure but auth.login needs an agent', async () => {
    const anon = as(null);
    expect((await trpcError(anon.auth.me())).code).toBe('UNAUTHORIZED');
    expect((await trpcError(anon.conversation.list())).code).toBe('UNAUTHORIZED');
    expect((await trpcError(anon.message.send({ to: '+447700900001', text: 'x' }))).code).toBe('UNAUTHORIZED');
    expect((await trpcError(anon.event.stream({}))).code).toBe('UNAUTHORIZED');
  });

  it('adminProcedure refuses agents with FORBIDDEN', async () => {
    const make = createCallerFactory(router({ secret: adminProcedure.query(() => 'ok') }));
    expect((await trpcError(make(createContextInner({ deps, agent: alice })).secret())).code).toBe('FORBIDDEN');
    expect(await make(createContextInner({ deps, agent: admin })).secret()).toBe('ok');
  });
});

describe('apiToken', () => {
  it('creates a token shown once, lists without it, revokes; agents see their own, admins all', async () => {
    const created = await as(alice).apiToken.create({ name: 'ci' });
    expect(created.token).toMatch(/^pk_/);
    const listed = await as(alice).apiToken.list();
    expect(listed.map((t) => t.id)).toEqual([created.id]);
    expect(JSON.stringify(listed)).not.toContain(created.token);
    await as(admin).apiToken.create({ name: 'admin-only' });
    expect((await as(alice).apiToken.list()).length).toBe(1);
    expect((await as(admin).apiToken.list()).length).toBe(2);
    expect((await as(alice).apiToken.revoke({ id: created.id })).revokedAt).not.toBeNull();
  });

  it('input errors come back BAD_REQUEST with flattened zod errors', async () => {
    const e = await trpcError(as(alice).apiToken.create({ name: '   ' }));
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.cause?.name).toBe('ZodError');
  });
});

describe('conversation', () => {
  it('list/get/messages/markRead/assign/setStatus', async () => {
    const id = await inbound('447700900001', 'first');
    await inbound('447700900001', 'second');
    const c = as(alice);
    const list = await c.conversation.list({ filter: 'unassigned' });
    expect(list.items.map((x) => x.id)).toEqual([id]);
    expect((await c.conversation.get({ id })).unreadCount).toBe(2);
    expect((await c.conversation.messages({ conversationId: id })).items.map((m) => m.text)).toEqual(['second', 'first']);
    expect((await c.conversation.markRead({ id })).unreadCount).toBe(0);
    expect((await c.conversation.assign({ id, agentId: alice.id })).assignedAgentId).toBe(alice.id);
    expect((await c.conversation.list({ filter: 'mine' })).items).toHaveLength(1);
    expect((await c.conversation.setStatus({ id, status: 'closed' })).status).toBe('closed');
    const missing = await trpcError(c.conversation.get({ id: 999 }));
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toBe('Conversation 999 not found');
  });
});

describe('message.send', () => {
  it('queues to a number or a conversation and wakes the outbox', async () => {
    const c = as(alice);
    const m = await c.message.send({ to: '+44 7700 900001', text: 'hi' });
    expect(m).toMatchObject({ direction: 'out', status: 'queued', to: '+447700900001', from: '+447700900000', agentId: alice.id });
    const again = await c.message.send({ conversationId: m.conversationId, text: 'again' });
    expect(again.conversationId).toBe(m.conversationId);
    expect(wake).toHaveBeenCalledTimes(2);
  });

  it('refuses both or neither target, bad numbers, and opted-out contacts (PRECONDITION_FAILED, appCode OPTED_OUT)', async () => {
    const c = as(alice);
    expect((await trpcError(c.message.send({ to: '+447700900001', conversationId: 1, text: 'x' } as never))).code).toBe('BAD_REQUEST');
    expect((await trpcError(c.message.send({ to: '12', text: 'x' }))).code).toBe('BAD_REQUEST');
    const m = await c.message.send({ to: '+447700900001', text: 'hi' });
    const contactId = (await c.conversation.get({ id: m.conversationId })).contactId;
    // Manual opt-out is an admin's (issue 5).
    expect((await as(admin).contact.setOptOut({ id: contactId, optedOut: true })).optOutSource).toBe('agent');
    const e = await trpcError(c.message.send({ conversationId: m.conversationId, text: 'more' }));
    expect(e.code).toBe('PRECONDITION_FAILED');
    expect(e.message).toMatch(/opted out/);
    expect((await c.contact.get({ id: contactId })).conversations.every((x) => x.contactOptedOut)).toBe(true);
    expect(wake).toHaveBeenCalledTimes(1);
  });
});

describe('sandbox.simulateInbound', () => {
  it('calls the wired simulator in sandbox mode, refuses otherwise', async () => {
    const simulateInbound = vi.fn(async () => undefined);
    deps.simulateInbound = simulateInbound;
    expect(await as(alice).sandbox.simulateInbound({ from: '447700900001', text: 'hey' })).toEqual({ ok: true });
    expect(simulateInbound).toHaveBeenCalledWith({ from: '+447700900001', text: 'hey' });
    deps.config = { ...deps.config, provider: 'vonage' };
    const e = await trpcError(as(alice).sandbox.simulateInbound({ from: '447700900001', text: 'hey' }));
    expect(e.code).toBe('PRECONDITION_FAILED');
    expect(e.message).toMatch(/only with the sandbox provider/);
  });
});

describe('event.stream', () => {
  it('yields tracked events after lastEventId, then live ones', async () => {
    const id = await inbound('447700900001');
    const first = await log.lastId();
    const ac = new AbortController();
    const caller = createCaller(createContextInner({ deps, agent: alice }), { signal: ac.signal });
    const stream = await caller.event.stream({ lastEventId: String(first - 1) });
    const it = stream[Symbol.asyncIterator]();
    // createCaller hands out tracked envelopes as they are: [id, data, symbol].
    const envelope = async () => {
      const r = await it.next();
      if (r.done || !isTrackedEnvelope(r.value)) throw new Error('expected a tracked event');
      const [eventId, data] = r.value;
      return [eventId, data as ParleyEvent] as const;
    };
    const [aId, a] = await envelope();
    expect([aId, a.id]).toEqual([String(first), first]);
    const pending = envelope();
    await as(alice).conversation.markRead({ id });
    const [bId, b] = await pending;
    expect(bId).toBe(String(first + 1));
    expect(b.type).toBe('conversation.updated');
    ac.abort();
  });
});
