/**
 * A programmable stand-in for `POST {apiHost}/v1/messages` (a real node:http server on 127.0.0.1, on a
 * worker thread of its own).
 *
 * Like Vonage it checks the RS256 JWT bearer (against the mock's key pair) and the JSON body (against
 * the published spec via ./openapi), then answers from a per-test script: queued responses first,
 * then the `respond` function, else `202 {"message_uuid"}`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Worker } from 'node:worker_threads';
import { generateKeyPairSync, randomUUID, verify } from 'node:crypto';
import { validateSendRequest } from './openapi';

export interface TestKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

/** A fresh RSA key pair, as a Vonage application has (PKCS#8 private, SPKI public). */
export function generateTestKeyPair(): TestKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
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
  /** Decoded (and, unless verifyJwt is false, verified) bearer token. */
  jwt?: { header: Record<string, unknown>; payload: Record<string, unknown> };
  authError?: string;
  /** Where the request breaks the spec; empty when it conforms. */
  specErrors: string[];
  /** The id the default 202 answers with (known on arrival, e.g. for a status webhook sent while held). */
  messageUuid: string;
}

export interface MockResponse {
  status: number;
  /** Objects are sent as JSON; strings as they are. */
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  /** Destroy the connection without answering. */
  drop?: boolean;
}

export type Responder = (req: RecordedRequest, n: number) => MockResponse | Promise<MockResponse>;

export interface HeldRequest {
  /** Resolves when the held request has arrived. */
  received: Promise<RecordedRequest>;
  /** Let the request go on to its scripted answer. */
  release(): void;
}

export interface MockVonageOptions {
  /** Default: a freshly generated pair (see `mock.keyPair`). */
  keyPair?: TestKeyPair;
  /** When set, the JWT's application_id must equal it. */
  applicationId?: string;
  /** Verify the JWT signature and claims (default true); false only requires a bearer token. */
  verifyJwt?: boolean;
  /** Answer spec violations with 422 (default true); they are recorded either way. */
  rejectInvalid?: boolean;
}

export interface MockVonage {
  url: string;
  keyPair: TestKeyPair;
  requests: RecordedRequest[];
  enqueue(...responses: MockResponse[]): void;
  respond(fn: Responder): void;
  hold(): HeldRequest;
  specViolations(): RecordedRequest[];
  reset(): void;
  close(): Promise<void>;
}

const TRACE = 'bf0ca0bf927b3b52e3cb03217e1a1ddf';

/** `202 {"message_uuid"}` with Content-Type application/json (the SDK ignores other types). */
export function accepted(messageUuid: string = randomUUID()): MockResponse {
  return { status: 202, body: { message_uuid: messageUuid } };
}

/** A problem body as the spec's examples give it for 401/402/422/429/500, with overrides. */
export function vonageProblem(status: number, overrides: Record<string, unknown> = {}): MockResponse {
  const base: Record<number, { type: string; title: string; detail: string }> = {
    401: {
      type: 'https://developer.nexmo.com/api-errors/#unathorized',
      title: 'You did not provide correct credentials.',
      detail: "Check that you're using the correct credentials, and that your account has this feature enabled",
    },
    402: {
      type: 'https://developer.nexmo.com/api-errors/#low-balance',
      title: 'Low balance',
      detail: 'This request could not be performed due to your account balance being low.',
    },
    422: {
      type: 'https://developer.nexmo.com/api-errors/messages-olympus#1150',
      title: 'Invalid params',
      detail: 'The value of one or more parameters is invalid.',
    },
    429: {
      type: 'https://developer.nexmo.com/api-errors/messages-olympus#1010',
      title: 'Rate Limit Hit',
      detail: 'Please wait, then retry your request',
    },
    500: {
      type: 'https://developer.nexmo.com/api-errors/messages-olympus#1000',
      title: 'Internal error',
      detail: 'There was an error processing your request in the Platform.',
    },
  };
  const body = base[status] ?? { type: 'https://developer.nexmo.com/api-errors', title: `HTTP ${status}`, detail: '' };
  return { status, body: { ...body, instance: TRACE, ...overrides } };
}

function decodeSegment(segment: string | undefined): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment ?? '', 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The reason the bearer token is refused, or undefined; records the decoded token on `req`. */
function checkJwt(req: RecordedRequest, opts: MockVonageOptions, publicKeyPem: string): string | undefined {
  const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
  if (!match?.[1]) return 'missing Bearer token';
  const [h, p, s] = match[1].split('.');
  const header = decodeSegment(h);
  const payload = decodeSegment(p);
  if (!header || !payload || !s) return 'malformed JWT';
  req.jwt = { header, payload };
  if (opts.verifyJwt === false) return undefined;
  if (header.alg !== 'RS256') return `JWT alg ${String(header.alg)}, expected RS256`;
  if (!verify('RSA-SHA256', Buffer.from(`${h}.${p}`), publicKeyPem, Buffer.from(s, 'base64url'))) {
    return 'JWT signature does not verify';
  }
  if (typeof payload.exp === 'number' && payload.exp <= Math.floor(Date.now() / 1000)) return 'JWT expired';
  if (typeof payload.application_id !== 'string') return 'JWT has no application_id';
  if (opts.applicationId !== undefined && payload.application_id !== opts.applicationId) {
    return 'JWT application_id does not match';
  }
  return undefined;
}

function checkSpec(req: RecordedRequest): void {
  if (req.method !== 'POST' || req.url !== '/v1/messages') {
    req.specErrors.push(`expected POST /v1/messages, got ${req.method} ${req.url}`);
    return;
  }
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
    req.specErrors.push(`content-type: expected application/json, got ${req.headers['content-type'] ?? 'none'}`);
  }
  if (req.body === undefined) req.specErrors.push('(body): not JSON');
  else req.specErrors.push(...validateSendRequest(req.body));
}

function invalidParams(errors: string[]): { name: string; reason: string }[] {
  return errors.map((e) => {
    const i = e.indexOf(': ');
    return i < 0 ? { name: '(body)', reason: e } : { name: e.slice(0, i), reason: e.slice(i + 2) };
  });
}

/** A scripted response as the front writes it: status, headers, payload. */
function wire(r: MockResponse): { status: number; headers: Record<string, string>; payload: string } {
  const isText = typeof r.body === 'string';
  const payload = r.body === undefined ? '' : isText ? String(r.body) : JSON.stringify(r.body);
  const type: Record<string, string> = r.body === undefined ? {} : { 'content-type': isText ? 'text/plain' : 'application/json' };
  return { status: r.status, headers: { ...type, ...r.headers }, payload };
}

type FrontMessage =
  | { type: 'listening'; port: number }
  | { type: 'closed' }
  | { type: 'request'; id: number; method: string; url: string; headers: IncomingHttpHeaders; rawBody: string; receivedAt: number };

/** The worker thread's code: a node:http server on 127.0.0.1 that hands each whole request to the
 * script on the parent thread and writes back the answer it is given (or drops the connection). */
const FRONT = `
const { parentPort } = require('node:worker_threads');
const { createServer } = require('node:http');
const open = new Map();
let next = 0;
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const id = ++next;
    open.set(id, { req, res });
    res.on('close', () => open.delete(id));
    parentPort.postMessage({ type: 'request', id, method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawBody: Buffer.concat(chunks).toString('utf8'), receivedAt: Date.now() });
  });
});
parentPort.on('message', (m) => {
  if (m.type === 'answer') {
    const at = open.get(m.id);
    if (!at) return;
    open.delete(m.id);
    if (m.drop) at.req.socket.destroy();
    else {
      at.res.writeHead(m.status, m.headers);
      at.res.end(m.payload);
    }
  } else if (m.type === 'close') {
    server.closeAllConnections();
    server.close(() => parentPort.postMessage({ type: 'closed' }));
  }
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ type: 'listening', port: server.address().port }));
`;

export async function startMockVonage(opts: MockVonageOptions = {}): Promise<MockVonage> {
  const keyPair = opts.keyPair ?? generateTestKeyPair();
  const requests: RecordedRequest[] = [];
  let queue: MockResponse[] = [];
  let responder: Responder | undefined;
  let holds: { arrived(req: RecordedRequest): void; gate: Promise<void> }[] = [];
  const pendingReleases = new Set<() => void>();

  async function answer(req: RecordedRequest): Promise<MockResponse> {
    const held = holds.shift();
    if (held) {
      held.arrived(req);
      await held.gate;
    }
    if (req.authError) return vonageProblem(401, { detail: req.authError });
    if (req.specErrors.length > 0 && opts.rejectInvalid !== false) {
      return vonageProblem(422, { detail: req.specErrors.join('; '), invalid_parameters: invalidParams(req.specErrors) });
    }
    const next = queue.shift();
    if (next) return next;
    return responder ? responder(req, req.n) : accepted(req.messageUuid);
  }

  // The HTTP side runs on a worker thread with a loop of its own: Node accepts one connection per
  // event-loop turn, so a mock on the loop of a busy Parley (200 sends in flight under a loaded CI
  // machine) left fresh connections unaccepted for seconds and sends timed out. Vonage accepts
  // promptly; so does the worker. The script (queue, respond, hold) stays on this thread.
  const front = new Worker(FRONT, { eval: true });
  front.unref();
  front.on('message', (m: FrontMessage) => {
    if (m.type !== 'request') return;
    void (async () => {
      let body: unknown;
      try {
        body = JSON.parse(m.rawBody);
      } catch {
        body = undefined;
      }
      const req: RecordedRequest = {
        n: requests.length + 1,
        method: m.method,
        url: m.url,
        headers: m.headers,
        rawBody: m.rawBody,
        body,
        // Stamped by the front when the request arrived (this thread may see it later).
        receivedAt: new Date(m.receivedAt),
        specErrors: [],
        messageUuid: randomUUID(),
      };
      requests.push(req);
      const authError = checkJwt(req, opts, keyPair.publicKeyPem);
      if (authError) req.authError = authError;
      checkSpec(req);
      const response = await answer(req);
      if (response.delayMs) await new Promise((r) => setTimeout(r, response.delayMs));
      front.postMessage(response.drop ? { type: 'answer', id: m.id, drop: true } : { type: 'answer', id: m.id, ...wire(response) });
    })().catch((error: unknown) => {
      front.postMessage({
        type: 'answer',
        id: m.id,
        ...wire({ status: 500, body: { title: 'mock-vonage failure', detail: String(error) } }),
      });
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    front.once('error', reject);
    front.on('message', (m: FrontMessage) => m.type === 'listening' && resolve(m.port));
  });

  return {
    url: `http://127.0.0.1:${port}`,
    keyPair,
    requests,
    enqueue: (...responses) => void queue.push(...responses),
    respond: (fn) => void (responder = fn),
    hold() {
      let arrived: (req: RecordedRequest) => void = () => {};
      let release: () => void = () => {};
      const received = new Promise<RecordedRequest>((r) => (arrived = r));
      const gate = new Promise<void>((r) => (release = r));
      pendingReleases.add(release);
      holds.push({ arrived, gate });
      return { received, release };
    },
    specViolations: () => requests.filter((r) => r.specErrors.length > 0),
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
      const closed = new Promise<void>((resolve) => front.on('message', (m: FrontMessage) => m.type === 'closed' && resolve()));
      front.postMessage({ type: 'close' });
      await closed;
      await front.terminate();
    },
  };
}
