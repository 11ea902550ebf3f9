/**
 * The unauthenticated flood of `bench/abuse.ts`, in a process of its own (so its work never delays
 * the legitimate client's clock). Started with fork(); args: JSON FloodArgs. Runs until told
 * `{ type: 'stop' }`, then reports `{ type: 'report', ... }` and exits.
 *
 * - unsigned: 60 KB JSON bodies without a signature to /webhooks/inbound (Vonage: 503), and forged
 *   signatures to /webhooks/plivo/inbound and /webhooks/sinch/inbound (401);
 * - oversized: 1 MB bodies (413 once 64 KB were read);
 * - sockets: WebSocket clients that subscribe to event.stream from the first event and never read
 *   (a few with a valid API token — slow consumers — and many without any credential).
 */
import { request, Agent } from 'node:http';
import { WebSocket } from 'ws';

export interface FloodArgs {
  url: string;
  /** An API token for the authenticated slow consumers. */
  token: string;
  /** Concurrent request loops per kind. */
  loops: number;
  readers: { authenticated: number; anonymous: number };
}

export interface FloodReport {
  type: 'report';
  byStatus: Record<string, number>;
  errors: number;
  sentBytes: number;
  sockets: { opened: number; closedByServer: number; failed: number };
}

const args = JSON.parse(process.argv[2] ?? '{}') as FloodArgs;
const agent = new Agent({ keepAlive: true, maxSockets: args.loops * 4 });
const byStatus: Record<string, number> = {};
let errors = 0;
let sentBytes = 0;
let stopping = false;
const sockets = { opened: 0, closedByServer: 0, failed: 0 };

const big = Buffer.from(JSON.stringify({ message_uuid: 'flood', text: 'x'.repeat(60_000) }));
const huge = Buffer.alloc(1024 * 1024, 'y');
const form = Buffer.from(`From=447700900999&To=14155550100&Text=${'STOP'.repeat(2000)}&MessageUUID=x`);

function post(path: string, body: Buffer, headers: Record<string, string>): Promise<void> {
  return new Promise((resolve) => {
    const target = new URL(path, args.url);
    const req = request(
      {
        agent,
        method: 'POST',
        hostname: target.hostname,
        port: target.port,
        path: target.pathname,
        headers: { ...headers, 'content-length': String(body.length) },
      },
      (res) => {
        byStatus[String(res.statusCode)] = (byStatus[String(res.statusCode)] ?? 0) + 1;
        res.resume();
        res.on('end', resolve);
        res.on('error', resolve);
      },
    );
    req.on('error', () => {
      errors += 1;
      resolve();
    });
    sentBytes += body.length;
    req.end(body);
  });
}

async function loop(kind: number): Promise<void> {
  while (!stopping) {
    if (kind === 0) await post('/webhooks/inbound', big, { 'content-type': 'application/json' });
    else if (kind === 1) await post('/webhooks/inbound', huge, { 'content-type': 'application/json', authorization: 'Bearer forged' });
    else if (kind === 2)
      await post('/webhooks/plivo/inbound', form, {
        'content-type': 'application/x-www-form-urlencoded',
        'x-plivo-signature-v3': 'Zm9yZ2Vk',
        'x-plivo-signature-v3-nonce': String(Math.random()).slice(2),
      });
    else
      await post('/webhooks/sinch/inbound', big, {
        'content-type': 'application/json',
        'x-sinch-webhook-signature': 'Zm9yZ2Vk',
        'x-sinch-webhook-signature-algorithm': 'HmacSHA256',
        'x-sinch-webhook-signature-nonce': String(Math.random()).slice(2),
        'x-sinch-webhook-signature-timestamp': String(Math.floor(Date.now() / 1000)),
      });
  }
}

/** A WebSocket that subscribes from the first event and then stops reading its socket. */
function slowReader(token: string | undefined): void {
  const ws = new WebSocket(`${args.url.replace(/^http/, 'ws')}/trpc`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  ws.on('open', () => {
    sockets.opened += 1;
    ws.send(JSON.stringify({ id: 1, method: 'subscription', params: { path: 'event.stream', input: { lastEventId: '1' } } }));
    // Never read again: the server's writes pile up in its buffers unless it bounds them.
    const raw = (ws as unknown as { _socket?: { pause(): void } })._socket;
    setTimeout(() => raw?.pause(), 50);
  });
  ws.on('close', () => {
    if (!stopping) sockets.closedByServer += 1;
  });
  ws.on('error', () => {
    sockets.failed += 1;
  });
}

const loops: Promise<void>[] = [];
for (let kind = 0; kind < 4; kind++) for (let i = 0; i < args.loops; i++) loops.push(loop(kind));
for (let i = 0; i < args.readers.authenticated; i++) slowReader(args.token);
for (let i = 0; i < args.readers.anonymous; i++) slowReader(undefined);

process.on('message', (m: unknown) => {
  if (typeof m !== 'object' || m === null || (m as { type?: unknown }).type !== 'stop') return;
  stopping = true;
  void Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 3000))]).then(() => {
    const report: FloodReport = { type: 'report', byStatus, errors, sentBytes, sockets };
    process.send?.(report, () => process.exit(0));
  });
});
process.on('disconnect', () => process.exit(0));
