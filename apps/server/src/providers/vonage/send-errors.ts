/**
 * A failed Vonage send as a ProviderError: an HTTP error answer (status, Vonage's problem body,
 * Retry-After), a timeout, a transport error (and whether the request can have reached Vonage).
 * Still accepts what the SDK throws, since tests and the sandbox drive the SDK. SDK facts found by
 * experiment with @vonage/server-sdk 3.27.0 / @vonage/server-client 1.20.0, which fetches with
 * node-fetch 3 (not the global fetch):
 * - non-2xx → `VetchError` (its `.name` is plain 'Error'); status and body only on `.response`, a
 *   node-fetch Response whose body is still unread. `.config` holds the request incl. the JWT: never log it.
 * - connection refused / DNS → node-fetch `FetchError` (name 'FetchError', type 'system', code 'ECONNREFUSED').
 * - the `timeout` option aborts with node-fetch `AbortError` (name 'AbortError', type 'aborted').
 */
import { describeVonageError } from './errors';
import { isRecord, parseRetryAfter, readBody } from '../http';
import { ProviderError } from '../types';
import type { ProviderFailure } from '../types';

export interface HttpResponseLike {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

function httpResponseOf(error: unknown): HttpResponseLike | undefined {
  const response = isRecord(error) ? error.response : undefined;
  if (!isRecord(response) || typeof response.status !== 'number') return undefined;
  const headers = response.headers;
  if (!isRecord(headers) || typeof headers.get !== 'function' || typeof response.text !== 'function') return undefined;
  return response as unknown as HttpResponseLike;
}

function stringField(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (typeof value === 'string') return value;
  return typeof value === 'number' ? String(value) : undefined;
}

function invalidParameters(value: unknown): ProviderFailure['invalidParameters'] {
  if (!Array.isArray(value)) return undefined;
  const params = value.filter(isRecord).map((p) => ({
    name: typeof p.name === 'string' ? p.name : '',
    reason: typeof p.reason === 'string' ? p.reason : '',
  }));
  return params.length > 0 ? params : undefined;
}

export async function fromHttpResponse(response: HttpResponseLike): Promise<ProviderError> {
  const httpStatus = response.status;
  const { json, text } = await readBody(response);
  const title = json ? stringField(json, 'title') : undefined;
  const detail = json ? stringField(json, 'detail') : text;
  // Only a numeric title is a Vonage error code (as in status webhooks); the `type` URL fragments
  // of send errors do not follow the x-errors numbering (the spec shows #1000 on a 500, #1010 on a 429).
  const code = title !== undefined && /^\d+$/.test(title.trim()) ? title.trim() : undefined;
  const described = describeVonageError({ httpStatus, code, title, detail });
  const failure: ProviderFailure = { ...described, httpStatus };
  if (title !== undefined) failure.title = title;
  if (detail !== undefined) failure.detail = detail;
  const params = json ? invalidParameters(json.invalid_parameters) : undefined;
  if (params) failure.invalidParameters = params;
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  if (retryAfterMs !== undefined) failure.retryAfterMs = retryAfterMs;
  return new ProviderError(failure);
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function isNetworkError(error: Error): boolean {
  if (error.name === 'FetchError') return true; // node-fetch, used by the SDK
  if (error instanceof TypeError && error.message === 'fetch failed') return true; // global fetch
  const code = (error as { code?: unknown }).code;
  const causeCode = isRecord(error.cause) ? error.cause.code : undefined;
  return (typeof code === 'string' && NETWORK_CODES.has(code)) || (typeof causeCode === 'string' && NETWORK_CODES.has(causeCode));
}

const NOT_CONNECTED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** True when the transport error proves the request never reached Vonage (so a retry cannot double-send). */
function neverConnected(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  const causeCode = isRecord(error.cause) ? error.cause.code : undefined;
  if (typeof code === 'string' && NOT_CONNECTED_CODES.has(code)) return true;
  if (typeof causeCode === 'string' && NOT_CONNECTED_CODES.has(causeCode)) return true;
  return /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)\b/.test(error.message);
}

/** Map anything the SDK throws to a ProviderError. */
export async function toProviderError(error: unknown, timeoutMs: number): Promise<ProviderError> {
  if (error instanceof ProviderError) return error;
  const response = httpResponseOf(error);
  if (response) return fromHttpResponse(response);
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
    return new ProviderError({
      retryable: true,
      code: 'network',
      requestSent: true,
      reason: `Vonage did not answer within ${timeoutMs} ms`,
    });
  }
  if (error instanceof Error && isNetworkError(error)) {
    return new ProviderError({
      retryable: true,
      code: 'network',
      requestSent: !neverConnected(error),
      reason: 'Could not reach Vonage',
      detail: error.message,
    });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new ProviderError({ retryable: false, code: 'unknown', reason: 'Unexpected error while sending via Vonage', detail });
}
