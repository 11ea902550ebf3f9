/**
 * A programmable stand-in for `POST {apiUrl}/xms/v1/{service_plan_id}/batches` (a real node:http
 * server on 127.0.0.1). Like Sinch it checks the path, the Bearer token and the Content-Type, and
 * validates the batch body against the contract in apps/server/test/fixtures/sinch/README.md; then it answers
 * from a per-test script: queued responses first, then `respond`, else `201` with the batch (the
 * shape of examples/send-response-201.json) under a fresh ULID-like id.
 */
import { startMockApi, type HeldRequest, type MockApi, type MockResponse, type RecordedRequest } from './mock-api';
import { ulidLike } from '../providers/sinch/signature';

export interface SinchRecordedRequest extends RecordedRequest {
  /** The batch id the default 201 answers with (known on arrival, e.g. for a report sent while held). */
  batchId: string;
}

export type SinchMockResponse = MockResponse;
export type SinchResponder = (req: SinchRecordedRequest, n: number) => SinchMockResponse | Promise<SinchMockResponse>;
export type SinchHeldRequest = HeldRequest<SinchRecordedRequest>;

export interface MockSinchOptions {
  /** Default 'test-plan'. */
  servicePlanId?: string;
  /** Default 'test-token'. */
  apiToken?: string;
  /** Answer contract violations with 400 (default true); they are recorded either way. */
  rejectInvalid?: boolean;
}

export interface MockSinch extends MockApi<SinchRecordedRequest> {
  servicePlanId: string;
  apiToken: string;
  specViolations(): SinchRecordedRequest[];
}

/** Error bodies as Sinch gives them (`{ code, text }`), by HTTP status; `code`/`text` override. */
export function sinchError(
  status: number,
  over: { code?: string; text?: string; headers?: Record<string, string> } = {},
): SinchMockResponse {
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
  return {
    status,
    body: { code: over.code ?? body.code, text: over.text ?? body.text },
    ...(over.headers ? { headers: over.headers } : {}),
  };
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
  'to',
  'from',
  'body',
  'type',
  'delivery_report',
  'client_reference',
  'callback_url',
  'send_at',
  'expire_at',
  'flash_message',
  'truncate_concat',
  'max_number_of_message_parts',
  'feedback_enabled',
  'from_ton',
  'from_npi',
  'parameters',
]);
const DELIVERY_REPORTS = new Set(['none', 'summary', 'full', 'per_recipient', 'per_recipient_final']);

/** The batch body's contract violations (text batches only). */
export function validateBatch(body: unknown): string[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return ['(body): not a JSON object'];
  const b = body as Record<string, unknown>;
  const errors: string[] = [];
  for (const key of Object.keys(b)) if (!BODY_FIELDS.has(key)) errors.push(`${key}: unknown field`);
  if (!Array.isArray(b.to) || b.to.length < 1 || b.to.length > 1000) errors.push('to: an array of 1–1000 numbers');
  else
    for (const to of b.to)
      if (typeof to !== 'string' || !/^\+[1-9]\d{6,14}$/.test(to)) errors.push(`to: ${JSON.stringify(to)} is not E.164`);
  if (typeof b.from !== 'string' || b.from === '') errors.push('from: required string');
  if (b.type === 'mt_media') {
    // MMS (MediaRequest): body is { url, message?, subject? }; "text only media messages will be rejected".
    const m = b.body as Record<string, unknown> | null;
    if (typeof m !== 'object' || m === null || Array.isArray(m))
      errors.push('body: an object { url, message?, subject? } with type mt_media');
    else {
      if (typeof m.url !== 'string' || !URL.canParse(m.url)) errors.push('body.url: required absolute URL');
      for (const key of Object.keys(m)) if (!['url', 'message', 'subject'].includes(key)) errors.push(`body.${key}: unknown field`);
      if (m.message !== undefined && (typeof m.message !== 'string' || Array.from(m.message).length > 5000))
        errors.push('body.message: a string of at most 5000 characters');
    }
  } else {
    if (typeof b.body !== 'string') errors.push('body: required string');
    else if (Array.from(b.body).length > 2000) errors.push('body: at most 2000 characters');
    if (b.type !== undefined && b.type !== 'mt_text') errors.push(`type: expected mt_text or mt_media, got ${JSON.stringify(b.type)}`);
  }
  if (b.delivery_report !== undefined && !DELIVERY_REPORTS.has(String(b.delivery_report))) errors.push('delivery_report: unknown value');
  if (b.client_reference !== undefined && (typeof b.client_reference !== 'string' || b.client_reference.length > 2048)) {
    errors.push('client_reference: a string of at most 2048 characters');
  }
  if (b.callback_url !== undefined && (typeof b.callback_url !== 'string' || !URL.canParse(b.callback_url)))
    errors.push('callback_url: not a URL');
  return errors;
}

export async function startMockSinch(opts: MockSinchOptions = {}): Promise<MockSinch> {
  const servicePlanId = opts.servicePlanId ?? 'test-plan';
  const apiToken = opts.apiToken ?? 'test-token';
  const path = `/xms/v1/${servicePlanId}/batches`;

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

  const api = await startMockApi<SinchRecordedRequest>({
    record: (base) => ({ ...base, batchId: ulidLike() }),
    check,
    accept: (req) => batchCreated(req),
    failure: (error) => ({ status: 500, body: { code: 'mock_failure', text: String(error) } }),
  });
  return {
    ...api,
    servicePlanId,
    apiToken,
    specViolations: () => api.requests.filter((r) => r.specErrors.length > 0 || r.authError !== undefined),
  };
}
