/**
 * A programmable stand-in for Plivo's `POST {apiUrl}/v1/Account/{auth_id}/Message/` (a real node:http
 * server on 127.0.0.1).
 *
 * Like Plivo it checks Basic auth (auth id in the path and in the credentials; the token when given)
 * and the JSON body against the documented send request (/work/shared/plivo/README.md "Sending"),
 * then answers from a per-test script: held requests wait, queued responses go first, then the
 * `respond` function, else `202` shaped like send-response-202.json.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

export interface PlivoRecordedRequest {
  /** 1-based arrival order. */
  n: number;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Parsed JSON, or undefined when the body is not JSON. */
  body: unknown;
  receivedAt: Date;
  /** Decoded Basic credentials. */
  auth?: { authId: string; authToken: string };
  /** Why the credentials are refused (→ 401), or undefined. */
  authError?: string;
  /** Where the request breaks the documented shape; empty when it conforms (→ 400 otherwise). */
  specErrors: string[];
  /** The uuid the default 202 answers with (known on arrival, e.g. to post a callback while held). */
  messageUuid: string;
}

export interface PlivoMockResponse {
  status: number;
  /** Objects are sent as JSON; strings as they are. */
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  /** Destroy the connection without answering. */
  drop?: boolean;
}

export type PlivoResponder = (req: PlivoRecordedRequest, n: number) => PlivoMockResponse | Promise<PlivoMockResponse>;

export interface PlivoHeldRequest {
  /** Resolves when the held request has arrived. */
  received: Promise<PlivoRecordedRequest>;
  /** Let the request go on to its scripted answer. */
  release(): void;
}

export interface MockPlivoOptions {
  /** When set, the path's and the credentials' auth id must equal it. */
  authId?: string;
  /** When set, the Basic password must equal it. */
  authToken?: string;
  /** Answer shape violations with 400 (default true); they are recorded either way. */
  rejectInvalid?: boolean;
}

export interface MockPlivo {
  url: string;
  requests: PlivoRecordedRequest[];
  enqueue(...responses: PlivoMockResponse[]): void;
  respond(fn: PlivoResponder): void;
  hold(): PlivoHeldRequest;
  specViolations(): PlivoRecordedRequest[];
  reset(): void;
  close(): Promise<void>;
}

/** 202 as in send-response-202.json. */
export function plivoAccepted(messageUuid: string = randomUUID()): PlivoMockResponse {
  return { status: 202, body: { api_id: randomUUID(), message: 'message(s) queued', message_uuid: [messageUuid] } };
}

const DEFAULT_ERRORS: Record<number, string> = {
  400: 'invalid_parameter',
  401: 'authentication_failed',
  403: 'This destination country is not enabled in your Geo Permissions.',
  404: 'not found',
  429: 'rate_limit_exceeded',
  500: 'internal server error',
};

/** `{ api_id, error }` as in error-response.json, with a status-appropriate default text. */
export function plivoError(status: number, error: string = DEFAULT_ERRORS[status] ?? `HTTP ${status}`, headers?: Record<string, string>): PlivoMockResponse {
  return { status, body: { api_id: randomUUID(), error }, ...(headers ? { headers } : {}) };
}

const PATH = /^\/v1\/Account\/([^/?]+)\/Message\/$/;
const KNOWN_FIELDS = new Set([
  'src', 'dst', 'text', 'type', 'url', 'method', 'log', 'trackable', 'powerpack_uuid', 'message_expiry', 'media_urls',
  'media_ids', 'dlt_entity_id', 'dlt_template_id', 'dlt_template_category',
]);

function checkAuth(req: PlivoRecordedRequest, opts: MockPlivoOptions): string | undefined {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? '');
  if (!match?.[1]) return 'missing Basic credentials';
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'malformed Basic credentials';
  req.auth = { authId: decoded.slice(0, colon), authToken: decoded.slice(colon + 1) };
  const pathId = PATH.exec(req.url)?.[1];
  if (pathId !== undefined && decodeURIComponent(pathId) !== req.auth.authId) return 'auth id in the path differs from the credentials';
  if (opts.authId !== undefined && req.auth.authId !== opts.authId) return 'unknown auth id';
  if (opts.authToken !== undefined && req.auth.authToken !== opts.authToken) return 'wrong auth token';
  return undefined;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Plivo's `dst`/`src` numbers: country code and digits, no `+` (`<` separates several destinations). */
const DIGITS = /^\d{6,15}$/;

function checkSpec(req: PlivoRecordedRequest, opts: MockPlivoOptions): void {
  const errors = req.specErrors;
  if (req.method !== 'POST') errors.push(`method: expected POST, got ${req.method}`);
  const path = PATH.exec(req.url);
  if (!path) {
    errors.push(`path: expected /v1/Account/{auth_id}/Message/ (with the trailing slash), got ${req.url}`);
  } else if (opts.authId !== undefined && decodeURIComponent(path[1] ?? '') !== opts.authId) {
    errors.push(`path: auth id ${path[1] ?? ''} is not ${opts.authId}`);
  }
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
    errors.push(`content-type: expected application/json, got ${req.headers['content-type'] ?? 'none'}`);
  }
  const b = req.body;
  if (!isRecord(b)) {
    errors.push('(body): not a JSON object');
    return;
  }
  for (const key of Object.keys(b)) if (!KNOWN_FIELDS.has(key)) errors.push(`${key}: not a documented field`);
  if (b.powerpack_uuid !== undefined && b.src !== undefined) errors.push('src: give exactly one of src and powerpack_uuid');
  if (b.powerpack_uuid === undefined) {
    if (typeof b.src !== 'string' || b.src === '') errors.push('src: required');
    else if (b.src.startsWith('+')) errors.push('src: country code and digits, without +');
    else if (!DIGITS.test(b.src) && !/^[A-Za-z0-9 ]{1,11}$/.test(b.src)) errors.push('src: not a number or sender id');
  }
  if (typeof b.dst !== 'string' || b.dst === '') errors.push('dst: required');
  else if (!b.dst.split('<').every((d) => DIGITS.test(d))) errors.push('dst: country code and digits, without + (several joined by <)');
  if (typeof b.text !== 'string' || b.text === '') errors.push('text: required');
  else if (Array.from(b.text).length > 1600) errors.push('text: longer than 1600 characters');
  if (b.type !== undefined && !['sms', 'mms', 'whatsapp'].includes(String(b.type))) errors.push('type: sms, mms or whatsapp');
  if (b.url !== undefined) {
    if (typeof b.url !== 'string' || !/^https?:\/\//.test(b.url)) errors.push('url: an absolute http(s) URL');
    else {
      try {
        new URL(b.url);
      } catch {
        errors.push('url: not a URL');
      }
    }
  }
  if (b.method !== undefined && b.method !== 'POST' && b.method !== 'GET') errors.push('method: POST or GET');
}

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, r: PlivoMockResponse): void {
  const isText = typeof r.body === 'string';
  const payload = r.body === undefined ? '' : isText ? String(r.body) : JSON.stringify(r.body);
  const type = r.body === undefined ? {} : { 'content-type': isText ? 'text/plain' : 'application/json' };
  res.writeHead(r.status, { ...type, ...r.headers });
  res.end(payload);
}

export async function startMockPlivo(opts: MockPlivoOptions = {}): Promise<MockPlivo> {
  const requests: PlivoRecordedRequest[] = [];
  let queue: PlivoMockResponse[] = [];
  let responder: PlivoResponder | undefined;
  let holds: { arrived(req: PlivoRecordedRequest): void; gate: Promise<void> }[] = [];
  const pendingReleases = new Set<() => void>();

  async function answer(req: PlivoRecordedRequest): Promise<PlivoMockResponse> {
    const held = holds.shift();
    if (held) {
      held.arrived(req);
      await held.gate;
    }
    if (req.authError) return plivoError(401, `authentication_failed: ${req.authError}`);
    if (req.specErrors.length > 0 && opts.rejectInvalid !== false) return plivoError(400, req.specErrors.join('; '));
    const next = queue.shift();
    if (next) return next;
    return responder ? responder(req, req.n) : plivoAccepted(req.messageUuid);
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
      const req: PlivoRecordedRequest = {
        n: requests.length + 1, method: incoming.method ?? '', url: incoming.url ?? '', headers: incoming.headers,
        rawBody, body, receivedAt: new Date(), specErrors: [], messageUuid: randomUUID(),
      };
      requests.push(req);
      const authError = checkAuth(req, opts);
      if (authError) req.authError = authError;
      checkSpec(req, opts);
      const response = await answer(req);
      if (response.delayMs) await new Promise((r) => setTimeout(r, response.delayMs));
      if (response.drop) incoming.socket.destroy();
      else send(res, response);
    })().catch((error: unknown) => {
      if (!res.headersSent) send(res, plivoError(500, `mock-plivo failure: ${String(error)}`));
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
      let arrived: (req: PlivoRecordedRequest) => void = () => {};
      let release: () => void = () => {};
      const received = new Promise<PlivoRecordedRequest>((r) => (arrived = r));
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
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
