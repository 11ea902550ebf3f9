/**
 * The client side shared by the open-loop benches (latency, soak): pre-signed webhooks posted over
 * keep-alive node:http sockets, a real `event.stream` subscriber (tRPC wsLink over `ws`, signed in
 * with a session cookie), and reading a target process's CPU and memory from /proc.
 */
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import { WebSocket as WsWebSocket, type ClientOptions } from 'ws';
import { TEST_ADMIN } from '../src/config';
import type { AppRouter } from '../src/trpc/root';
import type { Target } from './target';

/** One webhook, signed ahead. `uuid` is the message_uuid it carries. */
export interface Signed {
  uuid: string;
  path: '/webhooks/inbound' | '/webhooks/status';
  body: Buffer;
  authorization: string;
}

/** One subscriber connection. */
export interface Subscriber {
  close(): Promise<void>;
  /** Times the stream errored or its socket closed (0 when it stayed up). */
  interruptions(): number;
}

/** Called per event: the inbound message's provider uuid ('' for any other event) and the stream id (null: no ids). */
export type OnEvent = (uuid: string, streamId: number | null) => void;

/** POST one signed webhook; `onSent` fires when the request has a socket and is written. */
export function post(agent: Agent, url: URL, req: Signed, onSent: () => void): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const r = httpRequest(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: req.path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': req.body.length, authorization: req.authorization },
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
        res.once('error', reject);
      },
    );
    r.once('socket', onSent);
    r.once('error', reject);
    r.end(req.body);
  });
}

/** Signs in as the test admin (the session cookie a browser would hold). */
export async function login(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/trpc/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: TEST_ADMIN.email, password: TEST_ADMIN.password }),
  });
  if (res.status !== 200) throw new Error(`auth.login answered ${res.status}: ${await res.text()}`);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  if (!cookie) throw new Error('auth.login set no cookie');
  return cookie;
}

/**
 * Parley's subscriber as the web app has it: tRPC wsLink, session cookie and Origin on the upgrade,
 * `event.stream` from now on. Resolves once the server has started the stream.
 */
export async function trpcSubscriber(target: Target, onEvent: OnEvent): Promise<Subscriber> {
  const headers = { cookie: await login(target.url), origin: target.url };
  class WithHeaders extends WsWebSocket {
    constructor(url: string, protocols?: string | string[], opts?: ClientOptions) {
      super(url, protocols, { ...opts, headers: { ...opts?.headers, ...headers } });
    }
  }
  let interruptions = 0;
  const wsClient = createWSClient({
    url: `${target.url.replace('http', 'ws')}/trpc`,
    WebSocket: WithHeaders as unknown as typeof WebSocket,
    retryDelayMs: () => 50,
    onClose: () => (interruptions += 1),
  });
  const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
  let sub: { unsubscribe(): void } | undefined;
  await new Promise<void>((resolve, reject) => {
    sub = client.event.stream.subscribe(
      { lastEventId: null },
      {
        onStarted: () => resolve(),
        onData: (t) => {
          const e = t.data;
          if (e.type === 'message.created' && e.payload.message.direction === 'in' && e.payload.message.providerMessageId !== null)
            onEvent(e.payload.message.providerMessageId, Number(t.id));
          else onEvent('', Number(t.id));
        },
        onError: (err) => {
          interruptions += 1;
          reject(err);
        },
      },
    );
  });
  return {
    interruptions: () => interruptions,
    async close() {
      sub?.unsubscribe();
      await wsClient.close();
    },
  };
}

/** utime + stime of a process, ms (Linux /proc; USER_HZ is 100 on every Linux this runs on). */
export function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size of a process, bytes (VmRSS in /proc/<pid>/status). */
export function procRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kb) * 1024;
}

/**
 * Keep-alive sockets for the generator. FIFO hands out the longest-idle socket first and idle ones are
 * closed after 4 s, before the server's 5 s keep-alive timeout could close one under a new request.
 */
export function keepAliveAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets, scheduling: 'fifo', timeout: 4_000 });
}
