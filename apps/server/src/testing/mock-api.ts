/**
 * The machinery the provider API mocks (mock-plivo.ts, mock-sinch.ts) share: a node:http server on
 * 127.0.0.1 that records every request, checks it (each mock's own auth and contract rules), then
 * answers from a per-test script — held requests wait, queued responses go first, then `respond`,
 * else the mock's default success.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MockResponse {
  status: number;
  /** Objects are sent as JSON; strings as they are. */
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  /** Destroy the connection without answering. */
  drop?: boolean;
}

export interface RecordedRequest {
  /** 1-based arrival order. */
  n: number;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Parsed JSON, or undefined when the body is not JSON. */
  body: unknown;
  receivedAt: Date;
  /** Why the credentials are refused, or undefined. */
  authError?: string;
  /** Where the request breaks the documented shape; empty when it conforms. */
  specErrors: string[];
}

export interface HeldRequest<R> {
  /** Resolves when the held request has arrived. */
  received: Promise<R>;
  /** Let the request go on to its scripted answer. */
  release(): void;
}

export interface MockApi<R extends RecordedRequest> {
  url: string;
  requests: R[];
  enqueue(...responses: MockResponse[]): void;
  respond(fn: (req: R, n: number) => MockResponse | Promise<MockResponse>): void;
  /** The next request waits until released (e.g. to post a callback before the send is answered). */
  hold(): HeldRequest<R>;
  reset(): void;
  close(): Promise<void>;
}

export interface MockApiSpec<R extends RecordedRequest> {
  /** The recorded request with the mock's own fields (e.g. the id its default answer will carry). */
  record(base: RecordedRequest): R;
  /** Checks auth and contract on arrival (recording what is wrong); a refusal to answer with, or undefined. */
  check(req: R): MockResponse | undefined;
  /** The default success answer. */
  accept(req: R): MockResponse;
  /** The answer when the mock itself fails. */
  failure(error: unknown): MockResponse;
}

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, r: MockResponse): void {
  const isText = typeof r.body === 'string';
  const payload = r.body === undefined ? '' : isText ? String(r.body) : JSON.stringify(r.body);
  const type = r.body === undefined ? {} : { 'content-type': isText ? 'text/plain' : 'application/json' };
  res.writeHead(r.status, { ...type, ...r.headers });
  res.end(payload);
}

export async function startMockApi<R extends RecordedRequest>(spec: MockApiSpec<R>): Promise<MockApi<R>> {
  const requests: R[] = [];
  let queue: MockResponse[] = [];
  let responder: ((req: R, n: number) => MockResponse | Promise<MockResponse>) | undefined;
  let holds: { arrived(req: R): void; gate: Promise<void> }[] = [];
  const pendingReleases = new Set<() => void>();

  async function answer(req: R, refused: MockResponse | undefined): Promise<MockResponse> {
    const held = holds.shift();
    if (held) {
      held.arrived(req);
      await held.gate;
    }
    if (refused) return refused;
    const next = queue.shift();
    if (next) return next;
    return responder ? responder(req, req.n) : spec.accept(req);
  }

  const server = createServer((incoming, res) => {
    void (async () => {
      const rawBody = await readAll(incoming);
      let body: unknown;
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = undefined;
      }
      const req = spec.record({
        n: requests.length + 1,
        method: incoming.method ?? '',
        url: incoming.url ?? '',
        headers: incoming.headers,
        rawBody,
        body,
        receivedAt: new Date(),
        specErrors: [],
      });
      requests.push(req);
      const response = await answer(req, spec.check(req));
      if (response.delayMs) await new Promise((r) => setTimeout(r, response.delayMs));
      if (response.drop) incoming.socket.destroy();
      else send(res, response);
    })().catch((error: unknown) => {
      if (!res.headersSent) send(res, spec.failure(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...responses) => void queue.push(...responses),
    respond: (fn) => void (responder = fn),
    hold() {
      let arrived: (req: R) => void = () => {};
      let release: () => void = () => {};
      const received = new Promise<R>((r) => (arrived = r));
      const gate = new Promise<void>((r) => (release = r));
      pendingReleases.add(release);
      holds.push({ arrived, gate });
      return { received, release };
    },
    reset() {
      requests.length = 0;
      queue = [];
      responder = undefined;
      holds = [];
      for (const release of pendingReleases) release();
      pendingReleases.clear();
    },
    async close() {
      for (const release of pendingReleases) release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
