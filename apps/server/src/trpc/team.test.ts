import { eq } from 'drizzle-orm';
import { WebSocket as WsWebSocket, type ClientOptions } from 'ws';
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink } from '@trpc/client';
import { afterEach, describe, expect, it } from 'vitest';
import type { ParleyEvent, PresenceEntry } from '@parley/shared';
import { agentInvites, agents } from '../db/tables';
import { createVonageProvider } from '../providers/vonage/sender';
import { accepted, startMockVonage, type MockVonage } from '../testing/mock-vonage';
import { inboundPayload, startTestServer, type TestServer } from '../testing/harness';
import type { AppRouter } from './root';
import { TEST_ADMIN } from '../config';

/** The team inbox over real HTTP and WebSocket against a real server (issue 12). */
const ADMIN = TEST_ADMIN;

let s: TestServer | undefined;
let mock: MockVonage | undefined;
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await s?.dispose();
  await mock?.close();
  s = mock = undefined;
});

type Json = { result?: { data: unknown }; error?: { message: string; data: { code: string; httpStatus: number } } };
interface Reply<T = unknown> {
  status: number;
  body: Json;
  data: T;
  cookie: string | null;
}

function server(): TestServer {
  if (!s) throw new Error('no server');
  return s;
}

async function call<T = unknown>(
  path: string,
  input: unknown,
  auth: { cookie?: string; token?: string } = {},
  method?: 'GET',
): Promise<Reply<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (auth.cookie) headers.cookie = auth.cookie;
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  const url = `${server().url}/trpc/${path}`;
  const res =
    method === 'GET'
      ? await fetch(`${url}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers })
      : await fetch(url, { method: 'POST', headers, body: JSON.stringify(input) });
  const body = (await res.json()) as Json;
  const setCookie = res.headers.get('set-cookie');
  return { status: res.status, body, data: body.result?.data as T, cookie: setCookie ? (setCookie.split(';')[0] ?? null) : null };
}
const query = <T = unknown>(path: string, input: unknown, auth: { cookie?: string; token?: string } = {}) =>
  call<T>(path, input, auth, 'GET');

async function signIn(who: { email: string; password: string }): Promise<string> {
  const r = await call('auth.login', who);
  expect(r.status).toBe(200);
  if (!r.cookie) throw new Error('no cookie');
  return r.cookie;
}

interface Agent {
  id: number;
  name: string;
  email: string;
  role: string;
  disabledAt: string | null;
}

const tokenOf = (inviteUrl: string) => new URL(inviteUrl).hash.replace(/^#token=/, '');

/** Admin invites `name`; the invitee accepts with `password`. Returns the new agent and their session cookie. */
async function invited(admin: string, name: string, role: 'admin' | 'agent' = 'agent', password = 'correct horse battery') {
  const email = `${name.toLowerCase().replace(/\s+/g, '.')}@x.test`;
  const inv = await call<{ agent: Agent; inviteUrl: string }>('agent.invite', { email, name, role }, { cookie: admin });
  expect(inv.status).toBe(200);
  const acc = await call<{ agent: Agent }>('auth.acceptInvite', { token: tokenOf(inv.data.inviteUrl), password });
  expect(acc.status).toBe(200);
  if (!acc.cookie) throw new Error('no cookie');
  return { agent: acc.data.agent, cookie: acc.cookie, email, password };
}

/** `ws`'s WebSocket with an upgrade cookie (a browser sends it by itself). */
function wsWithHeaders(headers: Record<string, string>): typeof WebSocket {
  class WithHeaders extends WsWebSocket {
    constructor(url: string, protocols?: string | string[], opts?: ClientOptions) {
      super(url, protocols, { ...opts, headers: { ...opts?.headers, ...headers } });
    }
  }
  return WithHeaders as unknown as typeof WebSocket;
}

function wsClientFor(cookie: string) {
  const base = server().url;
  const wsClient = createWSClient({
    url: `${base.replace('http', 'ws')}/trpc`,
    WebSocket: wsWithHeaders({ cookie, origin: base }),
    retryDelayMs: () => 50,
  });
  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink({ client: wsClient }),
        false: httpBatchLink({ url: `${base}/trpc`, headers: { cookie } }),
      }),
    ],
  });
  closers.push(() => wsClient.close());
  return client;
}

async function waitFor<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('agents and roles', () => {
  it('invite → accept (signed in) → sign in with the chosen password; the link works once', async () => {
    s = await startTestServer();
    const admin = await signIn(ADMIN);
    const inv = await call<{ agent: Agent; inviteUrl: string }>(
      'agent.invite',
      { email: 'Bob@X.test', name: 'Bob Stone', role: 'agent' },
      { cookie: admin },
    );
    expect(inv.status).toBe(200);
    expect(inv.data.agent).toMatchObject({ email: 'bob@x.test', name: 'Bob Stone', role: 'agent', disabledAt: null });
    // Without PUBLIC_URL the link is built from the request's origin; the token sits in the fragment.
    expect(inv.data.inviteUrl).toMatch(new RegExp(`^${server().url}/invite#token=[\\w-]{43}$`));
    const token = tokenOf(inv.data.inviteUrl);
    // Only the hash is stored.
    expect(JSON.stringify(await server().db.select().from(agentInvites))).not.toContain(token);

    const listed = await query<(Agent & { invitePending: boolean })[]>('agent.list', null, { cookie: admin });
    expect(listed.data.find((a) => a.email === 'bob@x.test')?.invitePending).toBe(true);

    const dup = await call('agent.invite', { email: 'bob@x.test', name: 'Bob again', role: 'agent' }, { cookie: admin });
    expect(dup.status).toBe(409);

    const short = await call('auth.acceptInvite', { token, password: 'short' });
    expect(short.status).toBe(400);
    expect(short.body.error?.message).toMatch(/at least 10 characters/);

    const ok = await call<{ agent: Agent }>('auth.acceptInvite', { token, password: 'bob-long-password' });
    expect(ok.status).toBe(200);
    expect(ok.cookie).toMatch(/^parley_session=/);
    const me = await query<Agent>('auth.me', null, { cookie: ok.cookie ?? '' });
    expect(me.data).toMatchObject({ id: inv.data.agent.id, email: 'bob@x.test' });
    expect((await call('auth.login', { email: 'bob@x.test', password: 'bob-long-password' })).status).toBe(200);

    // Used twice: 401 with a reason, and the password stays the first one.
    const again = await call('auth.acceptInvite', { token, password: 'attacker-password' });
    expect(again.status).toBe(401);
    expect(again.body.error?.message).toMatch(/already used/);
    expect((await call('auth.login', { email: 'bob@x.test', password: 'attacker-password' })).status).toBe(401);
    expect((await call('auth.login', { email: 'bob@x.test', password: 'bob-long-password' })).status).toBe(200);

    const after = await query<(Agent & { invitePending: boolean; lastSeenAt: string | null })[]>('agent.list', null, { cookie: admin });
    const bob = after.data.find((a) => a.email === 'bob@x.test');
    expect(bob?.invitePending).toBe(false);
    expect(bob?.lastSeenAt).not.toBeNull();
  });

  it('a forged or expired link is 401 with its reason and changes nothing; a reset link replaces the password once', async () => {
    s = await startTestServer();
    const admin = await signIn(ADMIN);
    const inv = await call<{ agent: Agent; inviteUrl: string }>(
      'agent.invite',
      { email: 'cy@x.test', name: 'Cy', role: 'agent' },
      { cookie: admin },
    );
    const hashBefore = (await server().db.select().from(agents).where(eq(agents.id, inv.data.agent.id)))[0]?.passwordHash;

    const forged = await call('auth.acceptInvite', {
      token: `${tokenOf(inv.data.inviteUrl).slice(0, -2)}xx`,
      password: 'cy-long-password',
    });
    expect(forged.status).toBe(401);
    expect(forged.body.error?.message).toMatch(/not valid/);
    expect(forged.cookie).toBeNull();

    await server()
      .db.update(agentInvites)
      .set({ expiresAt: Date.now() - 1 })
      .where(eq(agentInvites.agentId, inv.data.agent.id));
    const expired = await call('auth.acceptInvite', { token: tokenOf(inv.data.inviteUrl), password: 'cy-long-password' });
    expect(expired.status).toBe(401);
    expect(expired.body.error?.message).toMatch(/expired/);
    expect((await server().db.select().from(agents).where(eq(agents.id, inv.data.agent.id)))[0]?.passwordHash).toBe(hashBefore);
    expect((await call('auth.login', { email: 'cy@x.test', password: 'cy-long-password' })).status).toBe(401);

    // A reset link (also for a never-accepted invitation) sets a password and signs in; old sessions end.
    const reset = await call<{ inviteUrl: string }>('agent.resetPassword', { id: inv.data.agent.id }, { cookie: admin });
    expect(reset.status).toBe(200);
    const used = await call('auth.acceptInvite', { token: tokenOf(reset.data.inviteUrl), password: 'cy-new-long-password' });
    expect(used.status).toBe(200);
    const cySession = used.cookie ?? '';
    const second = await call<{ inviteUrl: string }>('agent.resetPassword', { id: inv.data.agent.id }, { cookie: admin });
    expect((await call('auth.acceptInvite', { token: tokenOf(second.data.inviteUrl), password: 'cy-third-long-password' })).status).toBe(
      200,
    );
    expect((await query('auth.me', null, { cookie: cySession })).status).toBe(401);
    expect((await call('auth.login', { email: 'cy@x.test', password: 'cy-third-long-password' })).status).toBe(200);
  });

  it('builds the link from PUBLIC_URL when set', async () => {
    s = await startTestServer({ publicUrl: 'https://parley.example.com/' });
    // Secure cookies over plain http are still sent back by fetch here (no cookie jar).
    const admin = await signIn(ADMIN);
    const inv = await call<{ inviteUrl: string }>('agent.invite', { email: 'd@x.test', name: 'Di', role: 'agent' }, { cookie: admin });
    expect(inv.data.inviteUrl).toMatch(/^https:\/\/parley\.example\.com\/invite#token=[\w-]{43}$/);
  });

  it('an agent gets 403 from every admin procedure (and the UI data they may see still answers)', async () => {
    s = await startTestServer();
    const admin = await signIn(ADMIN);
    const ann = await invited(admin, 'Ann');
    const adminId = (await query<Agent>('auth.me', null, { cookie: admin })).data.id;
    const adminOnly: [string, unknown, 'GET'?][] = [
      ['agent.invite', { email: 'e@x.test', name: 'Eve', role: 'admin' }],
      ['agent.update', { id: ann.agent.id, role: 'admin' }],
      ['agent.update', { id: adminId, name: 'Demoted' }],
      ['agent.setDisabled', { id: adminId, disabled: true }],
      ['agent.resetPassword', { id: adminId }],
      ['contact.setOptOut', { id: 1, optedOut: true }],
      ['contact.exportOptOuts', null, 'GET'],
    ];
    for (const [path, input, method] of adminOnly) {
      const r = await call(path, input, { cookie: ann.cookie }, method);
      expect({ path, status: r.status, code: r.body.error?.data.code }).toEqual({ path, status: 403, code: 'FORBIDDEN' });
    }
    // Nothing changed: still one admin, Ann still an agent, no Eve.
    const list = await query<Agent[]>('agent.list', null, { cookie: ann.cookie });
    expect(list.status).toBe(200);
    expect(list.data.map((a) => [a.name, a.role])).toEqual([
      ['Admin', 'admin'],
      ['Ann', 'agent'],
    ]);
  });

  it('disabling cuts the next HTTP call of that agent and their API tokens; they cannot sign in', async () => {
    s = await startTestServer();
    const admin = await signIn(ADMIN);
    const ann = await invited(admin, 'Ann');
    const other = await signIn(ann);
    const created = await call<{ token: string }>('apiToken.create', { name: 'script' }, { cookie: ann.cookie });
    const token = created.data.token;
    expect((await query('auth.me', null, { token })).status).toBe(200);

    const off = await call<Agent>('agent.setDisabled', { id: ann.agent.id, disabled: true }, { cookie: admin });
    expect(off.status).toBe(200);
    expect(off.data.disabledAt).not.toBeNull();
    for (const auth of [{ cookie: ann.cookie }, { cookie: other }, { token }]) {
      expect((await query('conversation.list', {}, auth)).status).toBe(401);
    }
    const login = await call('auth.login', { email: ann.email, password: ann.password });
    expect(login.status).toBe(403);
    expect(login.body.error?.message).toMatch(/disabled/);

    // Re-enabled: she signs in again; the token stays revoked (re-enabling does not revive scripts).
    expect((await call('agent.setDisabled', { id: ann.agent.id, disabled: false }, { cookie: admin })).status).toBe(200);
    expect((await call('auth.login', { email: ann.email, password: ann.password })).status).toBe(200);
    expect((await query('auth.me', null, { token })).status).toBe(401);
  });

  it('the last active admin cannot be demoted or disabled; with a second admin they can', async () => {
    s = await startTestServer();
    const admin = await signIn(ADMIN);
    const adminId = (await query<Agent>('auth.me', null, { cookie: admin })).data.id;
    const demote = await call('agent.update', { id: adminId, role: 'agent' }, { cookie: admin });
    expect(demote.status).toBe(409);
    expect(demote.body.error?.message).toMatch(/last active admin/);
    const disable = await call('agent.setDisabled', { id: adminId, disabled: true }, { cookie: admin });
    expect(disable.status).toBe(409);

    const bea = await invited(admin, 'Bea', 'admin');
    // A disabled admin does not count: with Bea disabled, Admin is the last active one again.
    expect((await call('agent.setDisabled', { id: bea.agent.id, disabled: true }, { cookie: admin })).status).toBe(200);
    expect((await call('agent.update', { id: adminId, role: 'agent' }, { cookie: admin })).status).toBe(409);
    expect((await call('agent.setDisabled', { id: bea.agent.id, disabled: false }, { cookie: admin })).status).toBe(200);

    const beaCookie = await signIn(bea);
    const renamed = await call<Agent>('agent.update', { id: adminId, role: 'agent', name: 'Former admin' }, { cookie: beaCookie });
    expect(renamed.status).toBe(200);
    expect(renamed.data).toMatchObject({ role: 'agent', name: 'Former admin' });
    // The demoted admin's next call already runs as an agent.
    expect((await call('agent.invite', { email: 'f@x.test', name: 'F', role: 'agent' }, { cookie: admin })).status).toBe(403);
    expect((await call('agent.update', { id: bea.agent.id, role: 'agent' }, { cookie: beaCookie })).status).toBe(409);
  });

  it('changing one’s own password keeps this session, ends the others, and checks the current password', async () => {
    s = await startTestServer();
    const admin = await signIn(ADMIN);
    const ann = await invited(admin, 'Ann');
    const laptop = await signIn(ann);
    const { token } = (await call<{ token: string }>('apiToken.create', { name: 'script' }, { cookie: ann.cookie })).data;

    const short = await call('auth.changePassword', { currentPassword: ann.password, newPassword: 'tooshort' }, { cookie: ann.cookie });
    expect(short.status).toBe(400);
    expect(short.body.error?.message).toMatch(/at least 10 characters/);
    const wrong = await call(
      'auth.changePassword',
      { currentPassword: 'not it at all', newPassword: 'a-new-long-password' },
      { cookie: ann.cookie },
    );
    expect(wrong.status).toBe(400);
    expect(wrong.body.error?.message).toMatch(/current password is wrong/);

    const ok = await call(
      'auth.changePassword',
      { currentPassword: ann.password, newPassword: 'a-new-long-password' },
      { cookie: ann.cookie },
    );
    expect(ok.status).toBe(200);
    expect((await query('auth.me', null, { cookie: ann.cookie })).status).toBe(200);
    expect((await query('auth.me', null, { cookie: laptop })).status).toBe(401);
    // API tokens are not sessions: they stay (revoke them with apiToken.revoke).
    expect((await query('auth.me', null, { token })).status).toBe(200);
    expect((await call('auth.login', { email: ann.email, password: ann.password })).status).toBe(401);
    expect((await call('auth.login', { email: ann.email, password: 'a-new-long-password' })).status).toBe(200);
  });

  it('keeps each agent’s notification preferences server-side', async () => {
    s = await startTestServer();
    const admin = await signIn(ADMIN);
    const ann = await invited(admin, 'Ann');
    expect((await query('agent.preferences', null, { cookie: ann.cookie })).data).toEqual({ desktop: false, sound: false });
    expect((await call('agent.setPreferences', { desktop: true }, { cookie: ann.cookie })).data).toEqual({ desktop: true, sound: false });
    expect((await query('agent.preferences', null, { cookie: await signIn(ann) })).data).toEqual({ desktop: true, sound: false });
    expect((await query('agent.preferences', null, { cookie: admin })).data).toEqual({ desktop: false, sound: false });
  });
});

describe('private notes', () => {
  it('reach another agent’s event.stream with their mention, never the provider, never the stats', async () => {
    mock = await startMockVonage();
    const keyPair = mock.keyPair;
    s = await startTestServer({}, undefined, {
      providers: {
        vonage: createVonageProvider({ applicationId: 'app', privateKey: keyPair.privateKeyPem, apiHost: mock.url, timeoutMs: 2000 }),
      },
    });
    const admin = await signIn(ADMIN);
    const bob = await invited(admin, 'Bob Stone');
    expect((await server().postWebhook('/webhooks/inbound', inboundPayload({ text: 'my order is late' }))).status).toBe(200);
    const [conversation] = (await query<{ items: { id: number }[] }>('conversation.list', {}, { cookie: admin })).data.items;
    if (!conversation) throw new Error('no conversation');
    expect((await query('conversation.unreadCount', null, { cookie: bob.cookie })).data).toEqual({ messages: 1, conversations: 1 });
    const window = { since: new Date(Date.now() - 3_600_000).toISOString(), until: new Date(Date.now() + 3_600_000).toISOString() };
    const statsBefore = (await query('stats.summary', window, { cookie: admin })).data;

    const seen: ParleyEvent[] = [];
    const bobClient = wsClientFor(bob.cookie);
    await new Promise<void>((resolve, reject) => {
      const sub = bobClient.event.stream.subscribe(
        {},
        { onStarted: () => resolve(), onData: (t) => seen.push(t.data as ParleyEvent), onError: reject },
      );
      closers.push(() => sub.unsubscribe());
    });

    const note = await call<{ id: number; mentions: number[]; text: string; agentId: number }>(
      'note.add',
      { conversationId: conversation.id, text: '@bob can you check the courier? cc admin@parley.test' },
      { cookie: admin },
    );
    expect(note.status).toBe(200);
    expect(note.data.mentions).toEqual([bob.agent.id]);
    const event = await waitFor(() => seen.find((e) => e.type === 'note.created'));
    expect(event).toMatchObject({
      type: 'note.created',
      payload: { mentions: [bob.agent.id], note: { id: note.data.id, conversationId: conversation.id } },
    });

    const notes = await query<{ id: number; text: string }[]>('note.list', { conversationId: conversation.id }, { cookie: bob.cookie });
    expect(notes.data.map((n) => n.id)).toEqual([note.data.id]);
    // Not a message: not in the thread's messages, not in the stats, not in the list's preview.
    const messages = await query<{ items: { text: string }[] }>(
      'conversation.messages',
      { conversationId: conversation.id },
      { cookie: admin },
    );
    expect(messages.data.items.map((m) => m.text)).toEqual(['my order is late']);
    expect((await query('stats.summary', window, { cookie: admin })).data).toEqual(statsBefore);
    const conv = await query<{ lastMessagePreview: string }>('conversation.get', { id: conversation.id }, { cookie: admin });
    expect(conv.data.lastMessagePreview).toBe('my order is late');
    expect((await query('conversation.unreadCount', null, { cookie: bob.cookie })).data).toEqual({ messages: 1, conversations: 1 });

    // The provider gets exactly the reply that follows, never the note.
    mock.enqueue(accepted());
    expect((await call('message.send', { conversationId: conversation.id, text: 'On it!' }, { cookie: admin })).status).toBe(200);
    await waitFor(() => mock?.requests.length === 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(mock.requests.map((r) => (r.body as { text: string }).text)).toEqual(['On it!']);

    expect((await call('note.add', { conversationId: 99_999, text: 'lost' }, { cookie: admin })).status).toBe(404);
    expect((await call('note.add', { conversationId: conversation.id, text: '   ' }, { cookie: admin })).status).toBe(400);
  });
});

describe('presence', () => {
  it('appears on another agent’s presence.stream (viewing, then typing) and expires after the TTL', async () => {
    s = await startTestServer({ presenceTtlMs: 1000 });
    const admin = await signIn(ADMIN);
    const bob = await invited(admin, 'Bob');
    const lists: PresenceEntry[][] = [];
    const bobClient = wsClientFor(bob.cookie);
    await new Promise<void>((resolve, reject) => {
      const sub = bobClient.presence.stream.subscribe(undefined, {
        onData: (l) => {
          lists.push(l);
          resolve();
        },
        onError: reject,
      });
      closers.push(() => sub.unsubscribe());
    });
    expect(lists[0]).toEqual([]);
    const adminId = (await query<Agent>('auth.me', null, { cookie: admin })).data.id;

    expect((await call('presence.update', { conversationId: 7, typing: false }, { cookie: admin })).status).toBe(200);
    await waitFor(() => lists.at(-1)?.some((e) => e.agentId === adminId));
    expect(lists.at(-1)).toEqual([{ agentId: adminId, name: 'Admin', conversationId: 7, typing: false }]);

    await call('presence.update', { conversationId: 7, typing: true }, { cookie: admin });
    await waitFor(() => lists.at(-1)?.[0]?.typing === true);

    // No more heartbeats (a closed tab): gone within the TTL, announced without any request.
    const n = lists.length;
    await waitFor(() => lists.length > n && lists.at(-1)?.length === 0, 8000);
    expect(lists.at(-1)).toEqual([]);

    expect((await call('presence.update', { conversationId: 7, typing: false })).status).toBe(401);
  });
});
