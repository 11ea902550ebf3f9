import { updateSettings } from '../domain/settings';
import { eq } from 'drizzle-orm';
import { createTRPCClient, createWSClient, wsLink, type TRPCClientError } from '@trpc/client';
import { WebSocket as WsWebSocket } from 'ws';
import type { AppRouter } from './root';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../config';
import { apiTokens } from '../db/tables';
import { TEST_PASSWORD_COST, hashPassword } from '../auth/password';
import { insertAgent } from '../domain/agents';
import { startTestServer, type TestServer } from '../testing/harness';
import { TEST_ADMIN } from '../config';

const ADMIN = TEST_ADMIN;
const AGENT = { email: 'agent@x.test', password: 'agent-password' };
let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.dispose()));
  servers = [];
});

interface Api {
  s: TestServer;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  get(path: string, input: unknown, headers?: Record<string, string>): Promise<Response>;
  cookie(who?: { email: string; password: string }): Promise<string>;
  token(cookie: string, input: Record<string, unknown>): Promise<{ id: number; token: string; scopes: string[]; expiresAt: string | null }>;
}

async function start(overrides: Partial<Config> = {}): Promise<Api> {
  const s = await startTestServer(overrides);
  servers.push(s);
  // Not a quiet-hours test: sends must not depend on the hour the suite runs at (quiet-hours.http.test.ts covers them).
  await updateSettings({ log: s.events, agentId: null, patch: { quietHours: null } });
  await insertAgent(s.db, {
    email: AGENT.email,
    name: 'Agent',
    passwordHash: await hashPassword(AGENT.password, TEST_PASSWORD_COST),
    role: 'agent',
  });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${s.url}/trpc/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const get = (path: string, input: unknown, headers: Record<string, string> = {}) =>
    fetch(`${s.url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers });
  return {
    s,
    post,
    get,
    async cookie(who = ADMIN) {
      const res = await post('auth.login', who);
      expect(res.status).toBe(200);
      return (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    },
    async token(cookie, input) {
      const res = await post('apiToken.create', input, { cookie });
      const body = (await res.json()) as {
        result?: { data: { id: number; token: string; scopes: string[]; expiresAt: string | null } };
        error?: unknown;
      };
      if (!body.result) throw new Error(`apiToken.create: ${res.status} ${JSON.stringify(body.error)}`);
      return body.result.data;
    },
  };
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
async function failure(res: Response): Promise<{ status: number; message: string }> {
  const body = (await res.json()) as { error: { message: string } };
  return { status: res.status, message: body.error.message };
}

describe('API tokens: minted only by a session, scoped, expiring', () => {
  it('a token cannot mint tokens (so none outlives its revocation); a session can', async () => {
    const api = await start();
    const cookie = await api.cookie();
    const { token, scopes, expiresAt } = await api.token(cookie, { name: 'script' });
    expect(scopes).toEqual(['read', 'send']);
    expect(expiresAt).toBeNull();
    expect(await failure(await api.post('apiToken.create', { name: 'child' }, bearer(token)))).toEqual({
      status: 403,
      message: 'Only a signed-in session can do this, not an API token',
    });
    expect(await failure(await api.post('apiToken.create', { name: 'child', scopes: ['read'] }, bearer(token)))).toMatchObject({
      status: 403,
    });
    const list = (await (await api.get('apiToken.list', null, { cookie })).json()) as { result: { data: unknown[] } };
    expect(list.result.data).toHaveLength(1);
  });

  it('read: queries only; send: mutations; a token without the scope gets 403 naming it', async () => {
    const api = await start();
    const cookie = await api.cookie(AGENT);
    const reader = (await api.token(cookie, { name: 'reader', scopes: ['read'] })).token;
    const sender = (await api.token(cookie, { name: 'sender', scopes: ['send'] })).token;
    expect((await api.get('conversation.list', {}, bearer(reader))).status).toBe(200);
    expect(await failure(await api.post('message.send', { to: '+447700900001', text: 'hi' }, bearer(reader)))).toEqual({
      status: 403,
      message: 'This API token lacks the "send" scope',
    });
    const sent = await api.post('message.send', { to: '+447700900001', text: 'hi' }, bearer(sender));
    expect(sent.status).toBe(200);
    expect(await failure(await api.get('conversation.list', {}, bearer(sender)))).toEqual({
      status: 403,
      message: 'This API token lacks the "read" scope',
    });
    // An HTTP subscription (SSE) needs read too: its error comes inside the stream.
    const stream = await fetch(`${api.s.url}/trpc/event.stream?input=${encodeURIComponent('{}')}`, {
      headers: { ...bearer(sender), accept: 'text/event-stream' },
      signal: AbortSignal.timeout(10_000),
    });
    const body = stream.body?.getReader();
    let seen = '';
    while (body && !seen.includes('scope')) {
      const { value, done } = await body.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    await body?.cancel();
    expect(seen).toContain(String.raw`This API token lacks the \"read\" scope`);
  });

  it('admin procedures need an admin agent AND the admin scope; only an admin may grant it', async () => {
    const api = await start();
    const agentCookie = await api.cookie(AGENT);
    expect(await failure(await api.post('apiToken.create', { name: 'x', scopes: ['read', 'admin'] }, { cookie: agentCookie }))).toEqual({
      status: 403,
      message: 'Only an admin can create a token with the admin scope',
    });
    const adminCookie = await api.cookie();
    const plain = (await api.token(adminCookie, { name: 'plain' })).token;
    const admin = (await api.token(adminCookie, { name: 'ops', scopes: ['read', 'send', 'admin'] })).token;
    expect(await failure(await api.get('contact.exportOptOuts', null, bearer(plain)))).toEqual({
      status: 403,
      message: 'This API token lacks the "admin" scope',
    });
    expect((await api.get('contact.exportOptOuts', null, bearer(admin))).status).toBe(200);
    const campaign = { name: 'Launch', text: 'Hi', recipients: ['+447700900001'] };
    expect((await api.post('campaign.create', campaign, bearer(plain))).status).toBe(403);
    const created = await api.post('campaign.create', campaign, bearer(admin));
    expect(created.status).toBe(200);
    const { id } = ((await created.json()) as { result: { data: { id: number } } }).result.data;
    // An agent (session or token) cannot pause, cancel or create campaigns; it can read them.
    for (const [path, input] of [
      ['campaign.pause', { id }],
      ['campaign.cancel', { id }],
      ['campaign.resume', { id }],
      ['campaign.create', campaign],
    ] as const) {
      expect({ path, status: (await api.post(path, input, { cookie: agentCookie })).status }).toEqual({ path, status: 403 });
    }
    expect((await api.get('campaign.get', { id }, { cookie: agentCookie })).status).toBe(200);
    expect((await api.post('campaign.cancel', { id }, { cookie: adminCookie })).status).toBe(200);
  });

  it('an expired token stops working; expiry in the past or given twice is refused', async () => {
    const api = await start();
    const cookie = await api.cookie();
    const inDays = await api.token(cookie, { name: 'week', expiresInDays: 7 });
    const expected = Date.now() + 7 * 24 * 3600 * 1000;
    expect(Math.abs(Date.parse(inDays.expiresAt ?? '') - expected)).toBeLessThan(60_000);
    const at = new Date(Date.now() + 3600_000).toISOString();
    expect((await api.token(cookie, { name: 'hour', expiresAt: at })).expiresAt).toBe(at);
    expect((await api.get('auth.me', null, bearer(inDays.token))).status).toBe(200);
    await api.s.db
      .update(apiTokens)
      .set({ expiresAt: Date.now() - 1 })
      .where(eq(apiTokens.id, inDays.id));
    expect((await api.get('auth.me', null, bearer(inDays.token))).status).toBe(401);
    expect(await failure(await api.post('apiToken.create', { name: 'old', expiresAt: '2020-01-01T00:00:00Z' }, { cookie }))).toEqual({
      status: 400,
      message: 'expiresAt: must be in the future',
    });
    expect((await api.post('apiToken.create', { name: 'both', expiresAt: at, expiresInDays: 1 }, { cookie })).status).toBe(400);
  });
});

describe('scopes over a WebSocket', () => {
  it('event.stream needs read; a mutation over the socket needs send', async () => {
    const api = await start();
    const cookie = await api.cookie();
    const sendOnly = (await api.token(cookie, { name: 'send-only', scopes: ['send'] })).token;
    const wsClient = createWSClient({
      url: `${api.s.url.replace('http', 'ws')}/trpc`,
      connectionParams: { token: sendOnly },
      WebSocket: WsWebSocket as unknown as typeof WebSocket,
      retryDelayMs: () => 50,
    });
    const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
    const error = await new Promise<TRPCClientError<AppRouter>>((resolve) => {
      client.event.stream.subscribe({ lastEventId: null }, { onError: (e) => resolve(e as TRPCClientError<AppRouter>) });
    });
    expect(error.data?.code).toBe('FORBIDDEN');
    expect(error.message).toBe('This API token lacks the "read" scope');
    expect((await client.message.send.mutate({ to: '+447700900001', text: 'over ws' })).status).toBe('queued');
    const queryError = await client.auth.me.query().then(
      () => null,
      (e: unknown) => e as TRPCClientError<AppRouter>,
    );
    expect(queryError?.data?.code).toBe('FORBIDDEN');
    await wsClient.close();
  });
});

describe('per-credential rate limits: 429 with Retry-After', () => {
  it('a batch of 60 message.send is refused; batches of 20 with a token: the first 30 sends pass, the rest 429', async () => {
    const api = await start();
    const { token } = await api.token(await api.cookie(), { name: 'script' });
    const batch = (from: number, n: number) => {
      const input = Object.fromEntries(
        Array.from({ length: n }, (_, i) => [String(i), { to: `+4477009${String(from + i).padStart(5, '0')}`, text: 'hi' }]),
      );
      return api.post(`${Array(n).fill('message.send').join(',')}?batch=1`, input, bearer(token));
    };
    expect((await batch(0, 60)).status).toBe(400);
    const codes: number[] = [];
    let retryAfter: string | null = null;
    for (let b = 0; b < 3; b++) {
      const res = await batch(b * 20, 20);
      const items = (await res.json()) as Array<{ result?: unknown; error?: { data: { httpStatus: number; retryAfter: number | null } } }>;
      codes.push(...items.map((i) => (i.result ? 200 : (i.error?.data.httpStatus ?? 0))));
      if (res.headers.get('retry-after')) retryAfter = res.headers.get('retry-after');
      for (const i of items) if (i.error) expect(i.error.data.retryAfter).toBeGreaterThan(0);
    }
    expect(codes.filter((c) => c === 200)).toHaveLength(30);
    expect(codes.filter((c) => c === 429)).toHaveLength(30);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    // Reads are not sends: still allowed.
    expect((await api.get('conversation.list', {}, bearer(token))).status).toBe(200);
  });

  it('calls per minute per session and per token, each its own budget', async () => {
    const api = await start({ apiRateLimit: { perMinute: 10, sendsPerMinute: 30 } });
    const cookie = await api.cookie();
    const { token } = await api.token(cookie, { name: 'script' }); // call 1 of the session
    for (let i = 0; i < 9; i++) expect((await api.get('auth.me', null, { cookie })).status).toBe(200);
    const limited = await api.get('auth.me', null, { cookie });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await failure(limited)).message).toMatch(/Rate limit: 10 calls per minute/);
    // The token has its own budget.
    for (let i = 0; i < 10; i++) expect((await api.get('auth.me', null, bearer(token))).status).toBe(200);
    expect((await api.get('auth.me', null, bearer(token))).status).toBe(429);
  });
});
