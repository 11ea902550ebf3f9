/**
 * A programmable stand-in for Plivo's `POST {apiUrl}/v1/Account/{auth_id}/Message/` (a real node:http
 * server on 127.0.0.1).
 *
 * Like Plivo it checks Basic auth (auth id in the path and in the credentials; the token when given)
 * and the JSON body against the documented send request (apps/server/test/fixtures/plivo/README.md "Sending"),
 * then answers from a per-test script: held requests wait, queued responses go first, then the
 * `respond` function, else `202` shaped like send-response-202.json.
 */
import { randomUUID } from 'node:crypto';
import { startMockApi, type HeldRequest, type MockApi, type MockResponse, type RecordedRequest } from './mock-api';

export interface PlivoRecordedRequest extends RecordedRequest {
  /** Decoded Basic credentials. */
  auth?: { authId: string; authToken: string };
  /** The uuid the default 202 answers with (known on arrival, e.g. to post a callback while held). */
  messageUuid: string;
}

export type PlivoMockResponse = MockResponse;
export type PlivoResponder = (req: PlivoRecordedRequest, n: number) => PlivoMockResponse | Promise<PlivoMockResponse>;
export type PlivoHeldRequest = HeldRequest<PlivoRecordedRequest>;

export interface MockPlivoOptions {
  /** When set, the path's and the credentials' auth id must equal it. */
  authId?: string;
  /** When set, the Basic password must equal it. */
  authToken?: string;
  /** Answer shape violations with 400 (default true); they are recorded either way. */
  rejectInvalid?: boolean;
}

export interface MockPlivo extends MockApi<PlivoRecordedRequest> {
  specViolations(): PlivoRecordedRequest[];
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
export function plivoError(
  status: number,
  error: string = DEFAULT_ERRORS[status] ?? `HTTP ${status}`,
  headers?: Record<string, string>,
): PlivoMockResponse {
  return { status, body: { api_id: randomUUID(), error }, ...(headers ? { headers } : {}) };
}

const PATH = /^\/v1\/Account\/([^/?]+)\/Message\/$/;
const KNOWN_FIELDS = new Set([
  'src',
  'dst',
  'text',
  'type',
  'url',
  'method',
  'log',
  'trackable',
  'powerpack_uuid',
  'message_expiry',
  'media_urls',
  'media_ids',
  'dlt_entity_id',
  'dlt_template_id',
  'dlt_template_category',
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
  const mms = b.type === 'mms';
  // MMS: `media_urls` (1–10 absolute URLs Plivo fetches) and an optional text.
  if (mms) {
    if (!Array.isArray(b.media_urls) || b.media_urls.length < 1 || b.media_urls.length > 10)
      errors.push('media_urls: 1 to 10 URLs with type mms');
    else
      for (const u of b.media_urls)
        if (typeof u !== 'string' || !/^https?:\/\//.test(u) || !URL.canParse(u))
          errors.push(`media_urls: ${JSON.stringify(u)} is not an absolute URL`);
  } else if (b.media_urls !== undefined) errors.push('media_urls: only with type mms');
  if (mms && (b.text === undefined || b.text === '')) {
    // optional for MMS
  } else if (typeof b.text !== 'string' || b.text === '') errors.push('text: required');
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

export async function startMockPlivo(opts: MockPlivoOptions = {}): Promise<MockPlivo> {
  const api = await startMockApi<PlivoRecordedRequest>({
    record: (base) => ({ ...base, messageUuid: randomUUID() }),
    check(req) {
      const authError = checkAuth(req, opts);
      if (authError) req.authError = authError;
      checkSpec(req, opts);
      if (req.authError) return plivoError(401, `authentication_failed: ${req.authError}`);
      if (req.specErrors.length > 0 && opts.rejectInvalid !== false) return plivoError(400, req.specErrors.join('; '));
      return undefined;
    },
    accept: (req) => plivoAccepted(req.messageUuid),
    failure: (error) => plivoError(500, `mock-plivo failure: ${String(error)}`),
  });
  return { ...api, specViolations: () => api.requests.filter((r) => r.specErrors.length > 0) };
}
