/**
 * SmsProvider on Plivo's Message API: `POST {apiUrl}/v1/Account/{authId}/Message/`, Basic auth, JSON.
 *
 * Plain `fetch`, not the `plivo` SDK: on 429, 502 and 503 the SDK rejects with a bare
 * `Error('AxiosError: Request failed with status code 429')` and loses the HTTP status, so the
 * outbox could not tell "retry later" from "never". It is one POST.
 *
 * Correlation: the 202's `message_uuid[0]`, and for callbacks that beat it the `?ref=<our id>` in
 * the per-message status URL (V3 signatures cover that query string).
 */
import { describePlivoHttpError } from './errors';
import { isRecord, parseRetryAfter, readBody } from '../http';
import { ProviderError } from '../types';
import type { OutboundSms, ProviderFailure, SendResult, SmsProvider } from '../types';

export interface PlivoProviderOptions {
  authId: string;
  authToken: string;
  /** Default https://api.plivo.com */
  apiUrl?: string;
  /** The status callback URL for one message, e.g. `${PUBLIC_URL}/webhooks/plivo/status?ref=${clientRef}`. */
  statusUrl: (clientRef: string) => string;
  /** Abort a send after this long (default 10 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const DEFAULT_API_URL = 'https://api.plivo.com';
const DEFAULT_TIMEOUT_MS = 10_000;

/** E.164 `+14155550123` → `14155550123` (Plivo's form); an alphanumeric sender id passes unchanged. */
export function toPlivoAddress(value: string): string {
  const trimmed = value.trim();
  return /^\+\d+$/.test(trimmed) ? trimmed.slice(1) : trimmed;
}

/** Plivo's `error` is a human string; tolerate an object (per-parameter errors) by flattening it. */
function errorText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (value === undefined || value === null) return undefined;
  return JSON.stringify(value);
}

const NOT_CONNECTED = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EADDRNOTAVAIL|UND_ERR_CONNECT_TIMEOUT)\b/;

function errorCodes(error: Error): string[] {
  const codes: string[] = [];
  const own = (error as { code?: unknown }).code;
  if (typeof own === 'string') codes.push(own);
  const cause = error.cause;
  if (isRecord(cause) || cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    // undici wraps a failed connect to several addresses in an AggregateError.
    const inner = (cause as { errors?: unknown }).errors;
    if (Array.isArray(inner)) {
      for (const e of inner) if (isRecord(e) && typeof e.code === 'string') codes.push(e.code);
    }
  }
  return codes;
}

/** True when the transport error proves the request never reached Plivo (so a retry cannot double-send). */
function neverConnected(error: Error): boolean {
  if (errorCodes(error).some((c) => NOT_CONNECTED.test(c))) return true;
  const causeMessage = error.cause instanceof Error ? error.cause.message : '';
  return NOT_CONNECTED.test(`${error.message} ${causeMessage}`);
}

function transportDetail(error: Error): string {
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  const codes = errorCodes(error);
  return [error.message, cause, codes.length > 0 ? codes.join(',') : undefined].filter((p) => p !== undefined && p !== '').join(': ');
}

export function createPlivoProvider(opts: PlivoProviderOptions): SmsProvider {
  const apiUrl = (opts.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, '');
  const endpoint = `${apiUrl}/v1/Account/${encodeURIComponent(opts.authId)}/Message/`;
  const authorization = `Basic ${Buffer.from(`${opts.authId}:${opts.authToken}`, 'utf8').toString('base64')}`;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const doFetch = opts.fetch ?? fetch;

  /** Whatever Plivo or the network said, never with the token in it. */
  const scrub = (text: string | undefined): string | undefined =>
    text === undefined || opts.authToken === '' ? text : text.split(opts.authToken).join('[redacted]');

  async function httpFailure(response: Response): Promise<ProviderError> {
    const { json, text } = await readBody(response);
    const plivoError = scrub(json ? errorText(json.error) : text);
    const described = describePlivoHttpError(response.status, plivoError);
    const failure: ProviderFailure = { ...described, httpStatus: response.status };
    if (plivoError !== undefined) failure.detail = plivoError;
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    if (retryAfterMs !== undefined) failure.retryAfterMs = retryAfterMs;
    return new ProviderError(failure);
  }

  function transportFailure(error: unknown): ProviderError {
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      // The request may have been written and taken: a resend could text twice.
      return new ProviderError({
        retryable: true,
        code: 'network',
        requestSent: true,
        reason: `Plivo did not answer within ${timeoutMs} ms`,
      });
    }
    if (error instanceof Error) {
      return new ProviderError({
        retryable: true,
        code: 'network',
        requestSent: !neverConnected(error),
        reason: 'Could not reach Plivo',
        detail: scrub(transportDetail(error)),
      });
    }
    return new ProviderError({
      retryable: false,
      code: 'unknown',
      reason: 'Unexpected error while sending via Plivo',
      detail: scrub(String(error)),
    });
  }

  async function send(msg: OutboundSms): Promise<SendResult> {
    const body = JSON.stringify({
      src: toPlivoAddress(msg.from),
      dst: toPlivoAddress(msg.to),
      text: msg.text,
      // MMS: `type: mms` with the media's URLs (Plivo fetches them); the text is optional then.
      ...(msg.media && msg.media.length > 0 ? { type: 'mms', media_urls: msg.media.map((m) => m.url) } : { type: 'sms' }),
      url: opts.statusUrl(msg.messageId),
      method: 'POST',
    });
    let response: Response;
    try {
      response = await doFetch(endpoint, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json', accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw transportFailure(error);
    }
    if (!response.ok) throw await httpFailure(response);

    let uuid: unknown;
    try {
      const { json } = await readBody(response);
      uuid = Array.isArray(json?.message_uuid) ? (json.message_uuid as unknown[])[0] : undefined;
    } catch {
      uuid = undefined;
    }
    if (typeof uuid !== 'string' || uuid === '') {
      // Plivo accepted it (2xx) but the id is missing: never retry (it would send twice); the status
      // callback still finds the message through the ?ref= in its URL.
      throw new ProviderError({
        retryable: false,
        code: 'invalid_response',
        httpStatus: response.status,
        reason: 'Plivo accepted the message but returned no message_uuid',
      });
    }
    return { providerMessageId: uuid };
  }

  return { name: 'plivo', send };
}
