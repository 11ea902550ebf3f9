/**
 * A programmable stand-in for `POST {apiUrl}/xms/v1/{service_plan_id}/batches` (a real node:http
 * server on 127.0.0.1). Like Sinch it checks the path, the Bearer token and the Content-Type, and
 * validates the batch body against the contract in /work/shared/sinch/README.md; then it answers
 * from a per-test script: queued responses first, then `respond`, else `201` with the batch (the
 * shape of examples/send-response-201.json) under a fresh ULID-like id.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ulidLike } from '../webhooks/sinch-signature';

export interface SinchRecordedRequest {
  /** 1-based arrival order. */
  n: number;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Parsed JSON, or undefined when the body is not JSON. */
  body: unknown;
  receivedAt: Date;
  authError?: string;
  /** Where the request breaks the contract; empty when it conforms. */
  specErrors: string[];
  /** The batch id the default 201 answers with (known on arrival, e.g. for a report sent while held). */
  batchId: string;
}

export interface SinchMockResponse {
  status: number;
  /** Objects are sent as JSON; strings as they are. */
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  /** Destroy the connection without answering. */
  drop?: boolean;
}

export type SinchResponder = (req: SinchRecordedRequest, n: number) => SinchMockResponse | Promise<SinchMockResponse>;

export interface SinchHeldRequest {
  received: Promise<SinchRecordedRequest>;
  release(): void;
}

export interface MockSinchOptions {
  /** Default 'test-plan'. */
  servicePlanId?: string;
  /** Default 'test-token'. */
  apiToken?: string;
  /** Answer contract violations with 400 (default true); they are recorded either way. */
  rejectInvalid?: boolean;
}

export interface MockSinch {
  url: string;
  servicePlanId: string;
  apiToken: string;
  requests: SinchRecordedRequest[];
  enqueue(...responses: SinchMockResponse[]): void;
  respond(fn: SinchResponder): void;
  hold(): SinchHeldRequest;
  specViolations(): SinchRecordedRequest[];
  reset(): void;
  close(): Promise<void>;
}

/** Error bodies as Sinch gives them (`{ code, text }`), by HTTP status; `code`/`text` override. */
export function sinchError(status: number, over: { code?: string; text?: string; headers?: Record<string, string> } = {}): SinchMockResponse {
  const base: Record<number, { code: string; text: string }> = {
    400: { code: 'syntax_invalid_parameter_format', text: 'The parameter format is invalid' },
    401: { code: 'unauthorized', text: 'Invalid credentials for this service plan' },
    403: { code: 'blocked_account', text: 'The account is blocked' },
    404: { code: 'not_found', text: 'Not found' },
    429: { code: 'too_many_requests', text: 'Too many outstanding requests' },
    500: { code: 'internal_error', text: 'Internal server error' },
    503: { code: 'service_unavailable', text: 'Service temporarily unavailable' },
  };
  const body = base[status] ?? { code: `http_${status}`, text: `HTTP ${status}` };
  return { status, body: { code: over.code ?? body.code, text: over.text ?? body.text }, ...(over.headers ? { headers: over.headers } : {}) };
}

/** The 201 Sinch answers a batch with: the batch echoed (numbers without '+'), with `id`. */
export function batchCreated(req: SinchRecordedRequest, id: string = req.batchId): SinchMockResponse {
  const b = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
  const digits = (v: unknown) => (typeof v === 'string' ? v.replace(/^\+/, '') : v);
  const now = new Date();
  return {
    status: 201,
    body: {
      id,
      to: Array.isArray(b.to) ? b.to.map(digits) : [],
      from: digits(b.from),
      canceled: false,
      body: b.body,
      type: b.type ?? 'mt_text',
      created_at: now.toISOString(),
      modified_at: now.toISOString(),
      delivery_report: b.delivery_report ?? 'none',
      expire_at: new Date(now.getTime() + 3 * 24 * 3600_000).toISOString(),
      ...(b.client_reference !== undefined ? { client_reference: b.client_reference } : {}),
      flash_message: false,
    },
  };
}

const BODY_FIELDS = new Set([
  'to', 'from', 'body', 'type', 'delivery_report', 'client_reference', 'callback_url', 'send_at', 'expire_at',
  'flash_message', 'truncate_concat', 'max_number_of_message_parts', 'feedback_enabled', 'from_ton', 'from_npi', 'parameters',
]);
const DELIVERY_REPORTS = new Set(['none', 'summary', 'full', 'per_recipient', 'per_recipient_final']);

/** The batch body's contract violations (text batches only). */
export function validateBatch(body: unknown): string[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return ['(body): not a JSON object'];
  const b = body as Record<string, unknown>;
  const errors: string[] = [];
  for (const key of Object.keys(b)) if (!BODY_FIELDS.has(key)) errors.push(`${key}: unknown field`);
  if (!Array.isArray(b.to) || b.to.length < 1 || b.to.length > 1000) errors.push('to: an array of 1–1000 numbers');
  else for (const to of b.to) if (typeof to !== 'string' || !/^\+[1-9]\d{6,14}$/.test(to)) errors.push(`to: ${JSON.stringify(to)} is not E.164`);
  if (typeof b.from !== 'string' || b.from === '') errors.push('from: required string');
  if (typeof b.body !== 'string') errors.push('body: required string');
  else if (Array.from(b.body).length > 2000) errors.push('body: at most 2000 characters');
  if (b.type !== undefined && b.type !== 'mt_text') errors.push(`type: expected mt_text, got ${JSON.stringify(b.type)}`);
  if (b.delivery_report !== undefined && !DELIVERY_REPORTS.has(String(b.delivery_report))) errors.push('delivery_report: unknown value');
  if (b.client_reference !== undefined && (typeof b.client_reference !== 'string' || b.client_reference.length > 2048)) {
    errors.push('client_reference: a string of at most 2048 characters');
  }
  if (b.callback_url !== undefined && (typeof b.callback_url !== 'string' || !URL.canParse(b.callback_url))) errors.push('callback_url: not a URL');
  return errors;
}

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, r: SinchMockResponse): void {
  const isText = typeof r.body === 'string';
  const payload = r.body === undefined ? '' : isText ? String(r.body) : JSON.stringify(r.body);
  const type = r.body === undefined ? {} : { 'content-type': isText ? 'text/plain' : 'application/json' };
  res.writeHead(r.status, { ...type, ...r.headers });
  res.end(payload);
}

export async function startMockSinch(opts: MockSinchOptions = {}): Promise<MockSinch> {
  const servicePlanId = opts.servicePlanId ?? 'test-plan';
  const apiToken = opts.apiToken ?? 'test-token';
  const path = `/xms/v1/${servicePlanId}/batches`;
  const requests: SinchRecordedRequest[] = [];
  let queue: SinchMockResponse[] = [];
  let responder: SinchResponder | undefined;
  let holds: { arrived(req: SinchRecordedRequest): void; gate: Promise<void> }[] = [];
  const pendingReleases = new Set<() => void>();

  function check(req: SinchRecordedRequest): SinchMockResponse | undefined {
    if (req.method !== 'POST' || req.url !== path) {
      req.specErrors.push(`expected POST ${path}, got ${req.method} ${req.url}`);
      return { status: 404, body: { code: 'not_found', text: `No such resource: ${req.url}` } };
    }
    if (req.headers.authorization !== `Bearer ${apiToken}`) {
      req.authError = /^Bearer \S+$/.test(req.headers.authorization ?? '') ? 'wrong Bearer token' : 'missing Bearer token';
      return sinchError(401);
    }
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      req.specErrors.push(`content-type: expected application/json, got ${req.headers['content-type'] ?? 'none'}`);
      return { status: 415, body: { code: 'unsupported_media_type', text: 'Content-Type must be application/json' } };
    }
    if (req.body === undefined) {
      req.specErrors.push('(body): not JSON');
      return sinchError(400, { code: 'syntax_invalid_json', text: 'The JSON is invalid' });
    }
    req.specErrors.push(...validateBatch(req.body));
    if (req.specErrors.length > 0 && opts.rejectInvalid !== false) {
      return sinchError(400, { code: 'syntax_constraint_violation', text: req.specErrors.join('; ') });
    }
    return undefined;
  }

  async function answer(req: SinchRecordedRequest): Promise<SinchMockResponse> {
    const held = holds.shift();
    if (held) {
      held.arrived(req);
      await held.gate;
    }
    const refused = check(req);
    if (refused) return refused;
    const next = queue.shift();
    if (next) return next;
    return responder ? responder(req, req.n) : batchCreated(req);
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
      const req: SinchRecordedRequest = {
        n: requests.length + 1, method: incoming.method ?? '', url: incoming.url ?? '', headers: incoming.headers,
        rawBody, body, receivedAt: new Date(), specErrors: [], batchId: ulidLike(),
      };
      requests.push(req);
      const response = await answer(req);
      if (response.delayMs) await new Promise((r) => setTimeout(r, response.delayMs));
      if (response.drop) incoming.socket.destroy();
      else send(res, response);
    })().catch((error: unknown) => {
      if (!res.headersSent) send(res, { status: 500, body: { code: 'mock_failure', text: String(error) } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    servicePlanId,
    apiToken,
    requests,
    enqueue: (...responses) => void queue.push(...responses),
    respond: (fn) => void (responder = fn),
    hold() {
      let arrived: (req: SinchRecordedRequest) => void = () => {};
      let release: () => void = () => {};
      const received = new Promise<SinchRecordedRequest>((r) => (arrived = r));
      const gate = new Promise<void>((r) => (release = r));
      pendingReleases.add(release);
      holds.push({ arrived, gate });
      return { received, release };
    },
    specViolations: () => requests.filter((r) => r.specErrors.length > 0 || r.authError !== undefined),
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
