import { connect } from 'node:net';
import { WebSocket as WsWebSocket, type ClientOptions } from 'ws';
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink, type TRPCClientError } from '@trpc/client';
import { afterEach, describe, expect, it } from 'vitest';
import type { ParleyEvent } from '@parley/shared';
import type { LiveConfig } from '../config';
import { inboundPayload, startTestServer, type TestServer } from '../testing/harness';
import type { AppRouter } from './root';
import { raw } from '../testing/raw';

let parley: TestServer | undefined;
const closers: Array<() => void> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await parley?.dispose();
  parley = undefined;
});

async function start(live: Partial<LiveConfig> = {}): Promise<TestServer> {
  parley = await startTestServer({ live });
  return parley;
}

const wsUrl = (s: TestServer) => `${s.url.replace('http', 'ws')}/trpc`;

async function login(s: TestServer): Promise<string> {
  const res = await fetch(`${s.url}/trpc/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'admin@parley.test', password: 'parley-test-password' }),
  });
  expect(res.status).toBe(200);
  return (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
}

/** `ws`'s WebSocket with extra upgrade headers (a browser sends its cookie and Origin by itself). */
function wsWithHeaders(headers: Record<string, string>): typeof WebSocket {
  class WithHeaders extends WsWebSocket {
    constructor(url: string, protocols?: string | string[], opts?: ClientOptions) {
      super(url, protocols, { ...opts, headers: { ...opts?.headers, ...headers } });
    }
  }
  return WithHeaders as unknown as typeof WebSocket;
}

/** The browser's setup: cookie on the upgrade, wsLink for subscriptions, HTTP for the rest. */
function client(s: TestServer, auth: { cookie?: string; token?: string }) {
  const headers: Record<string, string> = auth.cookie ? { cookie: auth.cookie, origin: s.url } : {};
  const wsClient = createWSClient({
    url: wsUrl(s),
    WebSocket: wsWithHeaders(headers),
    ...(auth.token ? { connectionParams: { token: auth.token } } : {}),
    retryDelayMs: () => 50,
  });
  const trpcClient = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink({ client: wsClient }),
        false: httpBatchLink({
          url: `${s.url}/trpc`,
          headers: auth.token ? { authorization: `Bearer ${auth.token}` } : auth.cookie ? { cookie: auth.cookie } : {},
        }),
      }),
    ],
  });
  closers.push(() => void wsClient.close());
  return { trpcClient, wsClient };
}

interface Stream {
  seen: ParleyEvent[];
  /** Settles when the subscription ends: its error, or null when it completed. */
  ended: Promise<TRPCClientError<AppRouter> | null>;
  unsubscribe(): void;
}

async function stream(c: ReturnType<typeof client>['trpcClient'], lastEventId: string | null = null): Promise<Stream> {
  const seen: ParleyEvent[] = [];
  let finish!: (e: TRPCClientError<AppRouter> | null) => void;
  const ended = new Promise<TRPCClientError<AppRouter> | null>((resolve) => (finish = resolve));
  let sub: { unsubscribe(): void } | undefined;
  await new Promise<void>((resolve, reject) => {
    sub = c.event.stream.subscribe(
      { lastEventId },
      {
        onStarted: () => resolve(),
        onData: (tracked) => seen.push(tracked.data),
        onError: (err) => {
          reject(err);
          finish(err);
        },
        onComplete: () => finish(null),
      },
    );
  });
  return { seen, ended, unsubscribe: () => sub?.unsubscribe() };
}

async function until(check: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const inbound = async (s: TestServer, text: string) => {
  const res = await s.postWebhook('/webhooks/inbound', inboundPayload({ text }));
  expect(res.status).toBe(200);
};

/** Resolves with the ms it took `p` to settle, or rejects after `ms`. */
async function within<T>(p: Promise<T>, ms: number): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const value = await Promise.race([
    p,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`not within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
  return { value, ms: Date.now() - started };
}

describe('a live stream ends with its credential', () => {
  it('logout over HTTP ends the open event.stream at once, and no later event reaches it', async () => {
    // A long re-check interval: only the immediate signal can end it within the second.
    const s = await start({ credentialRecheckMs: 60_000 });
    const cookie = await login(s);
    const { trpcClient } = client(s, { cookie });
    const live = await stream(trpcClient);
    await inbound(s, 'before logout');
    await until(() => live.seen.length >= 2, 5000, 'the first inbound');

    const out = await fetch(`${s.url}/trpc/auth.logout`, {
      method: 'POST',
      headers: { cookie, origin: s.url, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(out.status).toBe(200);
    const { value: error, ms } = await within(live.ended, 1000);
    expect(ms).toBeLessThan(1000);
    expect(error?.data?.code).toBe('UNAUTHORIZED');
    const count = live.seen.length;
    await inbound(s, 'after logout');
    await new Promise((r) => setTimeout(r, 300));
    expect(live.seen.length).toBe(count);
    expect(live.seen.some((e) => e.type === 'message.created' && e.payload.message.text === 'after logout')).toBe(false);
  });

  it('logout also ends an HTTP (SSE) stream of event.stream', async () => {
    const s = await start({ credentialRecheckMs: 60_000 });
    const cookie = await login(s);
    const sse = await fetch(`${s.url}/trpc/event.stream?input=${encodeURIComponent(JSON.stringify({ lastEventId: null }))}`, {
      headers: { cookie, accept: 'text/event-stream' },
    });
    expect(sse.status).toBe(200);
    const reader = sse.body?.getReader();
    if (!reader) throw new Error('no body');
    let text = '';
    const done = (async () => {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) return text;
        text += new TextDecoder().decode(chunk.value);
      }
    })();
    await until(() => text.includes('connected'), 5000, 'the stream to open');
    const out = await fetch(`${s.url}/trpc/auth.logout`, {
      method: 'POST',
      headers: { cookie, origin: s.url, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(out.status).toBe(200);
    const { value: all } = await within(done, 1000);
    expect(all).toContain('UNAUTHORIZED');
  });

  it('a revoked API token ends its stream at once', async () => {
    const s = await start({ credentialRecheckMs: 60_000 });
    const admin = await login(s);
    const created = (await (
      await fetch(`${s.url}/trpc/apiToken.create`, {
        method: 'POST',
        headers: { cookie: admin, origin: s.url, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'script' }),
      })
    ).json()) as { result: { data: { id: number; token: string } } };
    const { id, token } = created.result.data;
    const { trpcClient } = client(s, { token });
    const live = await stream(trpcClient);

    const revoke = await fetch(`${s.url}/trpc/apiToken.revoke`, {
      method: 'POST',
      headers: { cookie: admin, origin: s.url, 'content-type': 'application/json' },
      body: JSON.stringify({ id }),
    });
    expect(revoke.status).toBe(200);
    const { value: error } = await within(live.ended, 1000);
    expect(error?.data?.code).toBe('UNAUTHORIZED');
    await inbound(s, 'after revoke');
    await new Promise((r) => setTimeout(r, 300));
    expect(live.seen).toEqual([]);
  });

  it('an expired session ends its stream within a second, with no signal (the periodic re-check)', async () => {
    const s = await start({ credentialRecheckMs: 250 });
    const cookie = await login(s);
    const { trpcClient } = client(s, { cookie });
    const live = await stream(trpcClient);
    // The session's time runs out (as if the clock moved past its expiry): nothing calls revoked().
    await raw(s.db).run('update sessions set expires_at = ?', Date.now() - 1);
    const { value: error, ms } = await within(live.ended, 1500);
    expect(ms).toBeLessThan(1000);
    expect(error?.data?.code).toBe('UNAUTHORIZED');
    await inbound(s, 'after expiry');
    await new Promise((r) => setTimeout(r, 300));
    expect(live.seen).toEqual([]);
  });

  it('a disabled agent’s stream ends within a second (anything that makes resolveCredential say no)', async () => {
    const s = await start({ credentialRecheckMs: 250 });
    const cookie = await login(s);
    const { trpcClient } = client(s, { cookie });
    const live = await stream(trpcClient);
    // As the team inbox's "disable agent" will do (it also calls deps.credentials.revoked() for at once).
    await raw(s.db).run('update agents set disabled_at = ?', Date.now());
    const { value: error, ms } = await within(live.ended, 1500);
    expect(ms).toBeLessThan(1000);
    expect(error?.data?.code).toBe('UNAUTHORIZED');
  });
});

/** A bare `ws` connection speaking tRPC's wire format (what an attacker's script would do). */
async function rawSocket(s: TestServer, headers: Record<string, string> = {}): Promise<WsWebSocket> {
  const ws = new WsWebSocket(wsUrl(s), { headers });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  closers.push(() => ws.terminate());
  return ws;
}
const closeOf = (ws: WsWebSocket) => new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
const subscribeMessage = (id: number, lastEventId: string | null) =>
  JSON.stringify({ id, method: 'subscription', params: { path: 'event.stream', input: { lastEventId } } });
const messagesOf = (ws: WsWebSocket) => {
  const got: Array<{ id: number | null; result?: { type: string; id?: string }; error?: { data?: { code?: string } } }> = [];
  ws.on('message', (data: Buffer) => {
    const text = data.toString();
    if (text !== 'PING' && text !== 'PONG') got.push(JSON.parse(text) as (typeof got)[number]);
  });
  return got;
};

describe('WebSocket limits', () => {
  it('a message over WS_MAX_PAYLOAD_BYTES closes the connection (1009) without buffering it', async () => {
    const s = await start();
    const cookie = await login(s);
    const rssBefore = process.memoryUsage().rss;
    for (let i = 0; i < 5; i++) {
      const ws = await rawSocket(s, { cookie, origin: s.url });
      const closed = closeOf(ws);
      ws.send(Buffer.alloc(2 * 1024 * 1024, 0x61).toString());
      expect(await closed).toBe(1009);
    }
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100 * 1024 * 1024);
    // The server is fine: a normal message on a new connection is answered.
    const ws = await rawSocket(s, { cookie, origin: s.url });
    const got = messagesOf(ws);
    ws.send(subscribeMessage(1, null));
    await until(() => got.some((m) => m.result?.type === 'started'), 5000, 'started');
  });

  it('no subscription without a credential, and such a connection is closed after WS_AUTH_TIMEOUT_MS', async () => {
    const s = await start({ wsAuthTimeoutMs: 400 });
    const base = s.events.stats.subscribers; // the campaign feeder follows the log too
    const ws = await rawSocket(s);
    const got = messagesOf(ws);
    const closed = closeOf(ws);
    ws.send(subscribeMessage(1, null));
    await until(() => got.length > 0, 5000, 'an answer');
    expect(got[0]?.error?.data?.code).toBe('UNAUTHORIZED');
    expect(s.events.stats.subscribers).toBe(base);
    const { value: code } = await within(closed, 3000);
    expect(code).toBe(1008);
  });

  it('caps open connections (WS_MAX_CONNECTIONS): the next upgrade is answered 503', async () => {
    const s = await start({ wsMaxConnections: 2 });
    const first = await rawSocket(s);
    await rawSocket(s);
    const refused = await new Promise<number>((resolve, reject) => {
      const ws = new WsWebSocket(wsUrl(s));
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => reject(new Error('a third connection was accepted')));
      ws.once('error', () => undefined);
    });
    expect(refused).toBe(503);
    // A slot frees when a connection closes.
    const closed = closeOf(first);
    first.close();
    await closed;
    await new Promise((r) => setTimeout(r, 50));
    await rawSocket(s);
  });

  it('caps subscriptions per connection', async () => {
    const s = await start({ wsMaxSubscriptionsPerConnection: 3 });
    const base = s.events.stats.subscribers; // the campaign feeder follows the log too
    const cookie = await login(s);
    const ws = await rawSocket(s, { cookie, origin: s.url });
    const got = messagesOf(ws);
    for (let id = 1; id <= 5; id++) ws.send(subscribeMessage(id, null));
    await until(() => got.filter((m) => m.result?.type === 'started' || m.error).length >= 5, 5000, 'five answers');
    // Three of the five start (which three: the order their credential checks finish, on PostgreSQL
    // not always the order sent), each once; the other two are refused.
    const started = got.filter((m) => m.result?.type === 'started').map((m) => Number(m.id));
    expect(started).toHaveLength(3);
    expect(new Set(started).size).toBe(3);
    expect(got.filter((m) => m.error).map((m) => m.error?.data?.code)).toEqual(['TOO_MANY_REQUESTS', 'TOO_MANY_REQUESTS']);
    expect(s.events.stats.subscribers).toBe(base + 3);
    // Stopping one frees its slot.
    ws.send(JSON.stringify({ id: started[0], method: 'subscription.stop' }));
    await until(() => s.events.stats.subscribers === base + 2, 5000, 'the stop');
    ws.send(subscribeMessage(6, null));
    await until(() => got.some((m) => m.id === 6 && m.result?.type === 'started'), 5000, 'a sixth start');
  });
});

/** `n` events of ~1 KB each (contact.updated with a long name), in one transaction. */
async function appendMany(s: TestServer, n: number): Promise<void> {
  const name = 'x'.repeat(900);
  await s.events.write((_tx, append) => {
    for (let i = 1; i <= n; i++) {
      append({
        type: 'contact.updated',
        payload: {
          contact: {
            id: i,
            phone: `+4477009${String(i % 100000).padStart(5, '0')}`,
            name,
            optedOutAt: null,
            optOutSource: null,
            createdAt: new Date(0).toISOString(),
          },
        },
      });
    }
  });
}

describe('backpressure and replay', () => {
  it('a client that subscribes 3× from lastEventId "1" over 40,000 events and never reads is disconnected, RSS stays flat', async () => {
    const s = await start({ wsSlowConsumerMs: 1500 });
    const base = s.events.stats.subscribers; // the campaign feeder follows the log too
    await appendMany(s, 40_000);
    const cookie = await login(s);
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    // What the server holds unsent for this client, seen at every frame it sends: the quantity the
    // pacing bounds. RSS alone is a noisy witness (garbage not yet collected, other workers on the
    // machine: +26 to +101 MB for the same paced run), so it gets a looser bound below.
    let peakBuffered = 0;
    const send = WsWebSocket.prototype.send;
    WsWebSocket.prototype.send = function (this: WsWebSocket, ...args: unknown[]) {
      Reflect.apply(send, this, args);
      peakBuffered = Math.max(peakBuffered, this.bufferedAmount);
    } as WsWebSocket['send'];
    try {
      const ws = await rawSocket(s, { cookie, origin: s.url });
      for (const id of [1, 2, 3]) ws.send(subscribeMessage(id, '1'));
      // Never read: stop taking data off the socket.
      (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      await until(() => s.events.stats.subscribers === base + 3, 5000, 'three subscriptions');
      // Disconnected as a slow consumer: its subscriptions end.
      await until(() => s.events.stats.subscribers === base, 15_000, 'the slow consumer to be disconnected');
    } finally {
      clearInterval(sampler);
      WsWebSocket.prototype.send = send;
    }
    // Unpaced, the three replays (~120 MB of frames) were buffered whole: +450 MB of RSS in the issue.
    // Paced, a socket never holds much past WS_MAX_BUFFERED_BYTES (4 MB): the check comes between frames.
    expect(peakBuffered).toBeGreaterThan(0);
    expect(peakBuffered).toBeLessThan(2 * s.config.live.wsMaxBufferedBytes);
    expect(peak - rssBefore).toBeLessThan(200 * 1024 * 1024);
  });

  it('an HTTP (SSE) stream that stops reading lets go of its place in the log after WS_SLOW_CONSUMER_MS', async () => {
    const s = await start({ wsSlowConsumerMs: 1000 });
    const base = s.events.stats.subscribers; // the campaign feeder follows the log too
    await appendMany(s, 40_000);
    const cookie = await login(s);
    const { port } = new URL(s.url);
    const socket = connect(Number(port), '127.0.0.1');
    closers.push(() => socket.destroy());
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const input = encodeURIComponent(JSON.stringify({ lastEventId: '1' }));
    socket.write(
      `GET /trpc/event.stream?input=${input} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nCookie: ${cookie}\r\nAccept: text/event-stream\r\n\r\n`,
    );
    // Never read.
    socket.pause();
    await until(() => s.events.stats.subscribers === base + 1, 5000, 'the stream to start');
    expect(s.events.oldestCursor()).toBeLessThan(40_000);
    await until(() => s.events.stats.subscribers === base, 10_000, 'the stalled stream to let go');
  });

  it('a normal client still replays 40,000 events from lastEventId in order, then follows live', async () => {
    const s = await start();
    await appendMany(s, 40_000);
    const cookie = await login(s);
    const { trpcClient } = client(s, { cookie });
    const live = await stream(trpcClient, '1');
    await until(() => live.seen.length >= 39_999, 60_000, 'the replay');
    await inbound(s, 'live after replay');
    await until(() => live.seen.length >= 40_001, 5000, 'the live events');
    const ids = live.seen.map((e) => e.id);
    expect(ids.slice(0, 39_999)).toEqual(Array.from({ length: 39_999 }, (_, i) => i + 2));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('after compaction a client asking for a compacted lastEventId gets RESYNC; without an id it follows the tail', async () => {
    const s = await start({ eventsRetentionCount: 100 });
    const base = s.events.stats.subscribers; // the campaign feeder follows the log too
    await appendMany(s, 1000);
    const cookie = await login(s);
    // An open stream holds its cursor: compaction stops behind it.
    const { trpcClient } = client(s, { cookie });
    const holder = await stream(trpcClient, '500');
    await until(() => holder.seen.length >= 500, 10_000, 'the holder replay');
    holder.unsubscribe();
    await until(() => s.events.stats.subscribers === base, 5000, 'the holder to stop');
    expect(await s.compactEvents()).toBe(900);
    expect(await s.events.firstId()).toBe(901);

    const error = await stream(trpcClient, '10').then(
      () => null,
      (e: unknown) => e as TRPCClientError<AppRouter>,
    );
    expect(error?.data?.code).toBe('CONFLICT');
    expect((error?.data as { appCode?: string } | undefined)?.appCode).toBe('RESYNC');
    // The last compacted id itself still resumes (nothing after it is gone).
    const edge = await stream(trpcClient, '900');
    await until(() => edge.seen.length >= 100, 5000, 'the edge replay');
    expect(edge.seen[0]?.id).toBe(901);
    edge.unsubscribe();
    // From the tail: only what comes next.
    const fresh = await stream(trpcClient, null);
    await inbound(s, 'after resync');
    await until(() => fresh.seen.length >= 2, 5000, 'live events');
    expect(fresh.seen[0]?.id).toBe(1001);
  });
});
