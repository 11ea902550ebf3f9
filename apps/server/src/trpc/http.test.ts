import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { WebSocket as WsWebSocket, type ClientOptions } from 'ws';
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink, type TRPCClientError } from '@trpc/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { vonageInboundSchema, type ParleyEvent } from '@parley/shared';
import { TEST_PASSWORD_COST, hashPassword } from '../auth/password';
import { createApiToken } from '../auth/tokens';
import type { Db } from '../db/client';
import { testAppDeps } from '../testing/app-deps';
import { openTestDb, type TempDb } from '../testing/temp-db';
import { insertAgent, type AgentDto } from '../domain/agents';
import { setOptOut } from '../domain/optout';
import { receiveInbound } from '../domain/receive';
import type { EventLog } from '../events/log';
import { inboundPayload } from '../testing/harness';
import { attachTrpc, type AttachedTrpc } from './attach';
import { appRouter, type AppRouter } from './root';

let t: TempDb;
let db: Db;
let log: EventLog;
let server: Server;
let trpc: AttachedTrpc;
let base: string;
let alice: AgentDto;
let token: string;

beforeEach(async () => {
  t = await openTestDb('parley-http-');
  ({ db, log } = t);
  const deps = testAppDeps(t);
  alice = await insertAgent(db, {
    email: 'alice@x.test',
    name: 'Alice',
    passwordHash: await hashPassword('alice-password', TEST_PASSWORD_COST),
    role: 'agent',
  });
  token = (await createApiToken({ db, agentId: alice.id, name: 'test' })).token;
  const app = express();
  server = createServer(app);
  trpc = attachTrpc({ app, server, deps });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await trpc.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await t.dispose();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
const get = (path: string, input: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers });
const bearer = () => ({ authorization: `Bearer ${token}` });
const login = () => post('auth.login', { email: 'alice@x.test', password: 'alice-password' });
async function inbound(from = '447700900001', text = 'hello'): Promise<number> {
  const r = await receiveInbound({ log, inbound: vonageInboundSchema.parse(inboundPayload({ from, text })), helpText: 'help' });
  if (r.duplicate) throw new Error('duplicate');
  return r.message.conversationId;
}

describe('tRPC over HTTP', () => {
  it('answers 401 to every procedure but auth.login without a session or token', async () => {
    const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>);
    expect(procedures.length).toBeGreaterThan(15);
    for (const [path, proc] of procedures) {
      // The public ones: login, and acceptInvite (its token is the credential).
      if (path === 'auth.login' || path === 'auth.acceptInvite') continue;
      const res = proc._def.type === 'mutation' ? await post(path, {}) : await get(path, {});
      expect({ path, status: res.status }).toEqual({ path, status: 401 });
      await res.body?.cancel();
    }
    // A wrong token is not rescued by anything.
    expect((await get('auth.me', null, { authorization: 'Bearer pk_nope' })).status).toBe(401);
    expect((await get('auth.me', null, { cookie: 'parley_session=nope' })).status).toBe(401);
  });

  it('login sets an HttpOnly SameSite=Lax cookie that auth.me accepts; logout ends it', async () => {
    const res = await login();
    expect(res.status).toBe(200);
    expect(((await res.json()) as { result: { data: { agent: AgentDto } } }).result.data.agent.id).toBe(alice.id);
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^parley_session=[\w-]+;/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    expect(setCookie).not.toMatch(/Secure/);
    const cookie = setCookie.split(';')[0] ?? '';
    const me = await get('auth.me', null, { cookie });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { result: { data: AgentDto } }).result.data.email).toBe('alice@x.test');

    const out = await post('auth.logout', null, { cookie });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/parley_session=; .*Max-Age=0/);
    expect((await get('auth.me', null, { cookie })).status).toBe(401);
  });

  it('wrong password is 401; the sixth rapid failure is 429', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await post('auth.login', { email: 'alice@x.test', password: 'wrong' });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe('Wrong email or password');
    }
    const res = await login();
    expect(res.status).toBe(429);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/Too many failed sign-in attempts/);
  });

  it('takes a Bearer token with a plain JSON POST (curl-style), errors as plain JSON with appCode/zodError', async () => {
    const res = await post('message.send', { to: '+447700900001', text: 'hi' }, bearer());
    expect(res.status).toBe(200);
    const sent = ((await res.json()) as { result: { data: { status: string; to: string; conversationId: number } } }).result.data;
    expect(sent).toMatchObject({ status: 'queued', to: '+447700900001' });

    const bad = await post('message.send', { to: 'not a number', text: 'hi' }, bearer());
    expect(bad.status).toBe(400);
    const badBody = (await bad.json()) as { error: { data: { zodError: { fieldErrors: Record<string, string[]> } | null } } };
    expect(badBody.error.data.zodError).not.toBeNull();

    const contact = (
      (await (await get('conversation.get', { id: sent.conversationId }, bearer())).json()) as {
        result: { data: { contactId: number } };
      }
    ).result.data;
    // Manual opt-out is admin-only (403 for an agent's token); the opt-out itself as STOP would record it.
    expect((await post('contact.setOptOut', { id: contact.contactId, optedOut: true }, bearer())).status).toBe(403);
    await setOptOut({ log, contactId: contact.contactId, optedOut: true, source: 'keyword' });
    const refused = await post('message.send', { conversationId: sent.conversationId, text: 'again' }, bearer());
    expect(refused.status).toBe(412);
    const refusedBody = (await refused.json()) as { error: { message: string; data: { appCode: string; stack?: string } } };
    expect(refusedBody.error.message).toMatch(/opted out/);
    expect(refusedBody.error.data.appCode).toBe('OPTED_OUT');
    expect(refusedBody.error.data.stack).toBeUndefined();
  });
});

/** `ws`'s WebSocket with extra upgrade headers (a browser sends its cookie and Origin by itself). */
function wsWithHeaders(headers: Record<string, string>): typeof WebSocket {
  class WithHeaders extends WsWebSocket {
    constructor(url: string, protocols?: string | string[], opts?: ClientOptions) {
      super(url, protocols, { ...opts, headers: { ...opts?.headers, ...headers } });
    }
  }
  return WithHeaders as unknown as typeof WebSocket;
}

function client(opts: { token?: string; headers?: Record<string, string> }) {
  const wsClient = createWSClient({
    url: `${base.replace('http', 'ws')}/trpc`,
    WebSocket: wsWithHeaders(opts.headers ?? {}),
    ...(opts.token ? { connectionParams: { token: opts.token } } : {}),
    retryDelayMs: () => 50,
  });
  const trpcClient = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink({ client: wsClient }),
        false: httpBatchLink({ url: `${base}/trpc`, headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {} }),
      }),
    ],
  });
  return { trpcClient, wsClient };
}

type Seen = { id: string; event: ParleyEvent };
/** Subscribes; resolves once the server has started the stream, rejects with its error. */
async function subscribe(
  c: ReturnType<typeof client>['trpcClient'],
  lastEventId: string | null,
  seen: Seen[],
): Promise<{ unsubscribe(): void }> {
  let sub: { unsubscribe(): void } | undefined;
  await new Promise<void>((resolve, reject) => {
    sub = c.event.stream.subscribe(
      { lastEventId },
      {
        onStarted: () => resolve(),
        onData: (tracked) => seen.push({ id: tracked.id, event: tracked.data }),
        onError: reject,
      },
    );
  });
  return { unsubscribe: () => sub?.unsubscribe() };
}

async function until(check: () => boolean | Promise<boolean>, ms = 1000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('event.stream over a real WebSocket', () => {
  it('delivers an appended event within a second, and resumes from lastEventId with exactly what it missed', async () => {
    const { trpcClient, wsClient } = client({ token });
    const seen: Seen[] = [];
    const first = await subscribe(trpcClient, null, seen);
    const conversationId = await inbound();
    await until(() => seen.length >= 2); // message.created + conversation.updated, within a second
    expect(seen.map((s) => s.event.type)).toEqual(['message.created', 'conversation.updated']);
    expect(seen.map((s) => s.id)).toEqual(seen.map((s) => String(s.event.id)));
    first.unsubscribe();

    const lastSeen = seen.at(-1)?.id ?? null;
    const missedFrom = await log.lastId();
    await inbound('447700900002', 'while away');
    await trpcClient.conversation.markRead.mutate({ id: conversationId });
    const missed = (await log.readAfter(missedFrom)).map((e) => String(e.id));
    expect(missed).toHaveLength(3);

    const again: Seen[] = [];
    const second = await subscribe(trpcClient, lastSeen, again);
    await until(() => again.length >= 3);
    await inbound('447700900003', 'live again');
    await until(() => again.length >= 5);
    await new Promise((r) => setTimeout(r, 100));
    const ids = again.map((s) => s.id);
    expect(ids.slice(0, 3)).toEqual(missed);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual((await log.readAfter(Number(lastSeen))).map((e) => String(e.id)));
    second.unsubscribe();
    await wsClient.close();
  });

  it('authenticates a same-origin cookie on the upgrade, ignores a cross-origin one, refuses no credential', async () => {
    const cookie = ((await login()).headers.get('set-cookie') ?? '').split(';')[0] ?? '';

    const same = client({ headers: { cookie, origin: base } });
    const seen: Seen[] = [];
    const sub = await subscribe(same.trpcClient, null, seen);
    await inbound();
    await until(() => seen.length >= 1);
    sub.unsubscribe();
    await same.wsClient.close();

    const crossSite: Record<string, string> = { cookie, origin: 'https://evil.example' };
    for (const headers of [crossSite, {}]) {
      const other = client({ headers });
      const error = await subscribe(other.trpcClient, null, []).then(
        () => null,
        (e: unknown) => e as TRPCClientError<AppRouter>,
      );
      expect(error?.data?.code).toBe('UNAUTHORIZED');
      await other.wsClient.close();
    }
  });

  it('re-checks the credential per call on an open connection: a revoked token stops working', async () => {
    const { trpcClient, wsClient } = client({ token });
    const ok = await subscribe(trpcClient, null, []);
    ok.unsubscribe();
    const [row] = await trpcClient.apiToken.list.query();
    if (!row) throw new Error('no token');
    await trpcClient.apiToken.revoke.mutate({ id: row.id });
    const error = await subscribe(trpcClient, null, []).then(
      () => null,
      (e: unknown) => e as TRPCClientError<AppRouter>,
    );
    expect(error?.data?.code).toBe('UNAUTHORIZED');
    expect(trpc.subscriberCount()).toBe(1);
    await wsClient.close();
  });
});
