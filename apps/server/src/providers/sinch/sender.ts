/**
 * SmsProvider on the Sinch SMS REST API (xms v1), service-plan auth: `POST
 * {apiUrl}/xms/v1/{service_plan_id}/batches` with `Authorization: Bearer {api_token}`, one recipient
 * per batch. Plain `fetch` (the Sinch SDK is not used). The token is only ever put in that header:
 * never in an error, a reason or a log line.
 */
import { describeSinchSendError } from './errors';
import { isRecord, parseRetryAfter, readBody } from '../http';
import { ProviderError } from '../types';
import type { OutboundSms, ProviderFailure, SendResult, SmsProvider } from '../types';

export const SINCH_REGIONS = ['us', 'eu', 'au', 'br', 'ca'] as const;

export interface SinchProviderOptions {
  servicePlanId: string;
  apiToken: string;
  /** us | eu | au | br | ca: the region the account lives in. */
  region: string;
  /** Default `https://${region}.sms.api.sinch.com`. */
  apiUrl?: string;
  /**
   * Per-batch `callback_url` for delivery reports. Leave undefined when HMAC signing is on: signed
   * callbacks go to the dashboard's URL, which the API cannot override.
   */
  callbackUrl?: string;
  /** Abort a send after this long (default 10 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const DEFAULT_TIMEOUT_MS = 10_000;

function stringOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  return typeof value === 'number' ? String(value) : undefined;
}

/** Both error shapes: `{ code, text }` (xms) and `{ error: { code, message, status } }` (OAuth2 front end). */
function errorFields(json: Record<string, unknown> | undefined): { code?: string; detail?: string } {
  if (!json) return {};
  const nested = json.error;
  if (isRecord(nested)) {
    return { code: stringOf(nested.status) ?? stringOf(nested.code), detail: stringOf(nested.message) };
  }
  return { code: stringOf(json.code), detail: stringOf(json.text) ?? stringOf(json.message) };
}

async function fromHttpResponse(response: Response): Promise<ProviderError> {
  const httpStatus = response.status;
  const { json, text } = await readBody(response);
  const fields = errorFields(json);
  const described = describeSinchSendError({ httpStatus, code: fields.code });
  const failure: ProviderFailure = { ...described, httpStatus };
  if (fields.code !== undefined) failure.title = fields.code;
  const detail = fields.detail ?? text;
  if (detail !== undefined) failure.detail = detail;
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  if (retryAfterMs !== undefined) failure.retryAfterMs = retryAfterMs;
  return new ProviderError(failure);
}

/** Codes proving the connection was never made: a retry cannot send twice. */
const NOT_CONNECTED = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EADDRNOTAVAIL|UND_ERR_CONNECT_TIMEOUT)\b/;

/** The transport error's codes and messages: the error, its cause, an AggregateError's errors (happy eyeballs). */
function transportFacts(error: Error): { codes: string[]; messages: string[] } {
  const codes: string[] = [];
  const messages: string[] = [];
  const visit = (e: unknown, depth: number) => {
    if (!isRecord(e) || depth > 3) return;
    if (typeof e.code === 'string') codes.push(e.code);
    if (typeof e.message === 'string' && e.message !== '') messages.push(e.message);
    if (Array.isArray(e.errors)) for (const inner of e.errors) visit(inner, depth + 1);
    visit(e.cause, depth + 1);
  };
  visit(error, 0);
  return { codes, messages };
}

/** Map anything fetch throws to a ProviderError (`requestSent` tells the outbox whether a retry is safe). */
function fromTransportError(error: unknown, timeoutMs: number): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return new ProviderError({
      retryable: true,
      code: 'network',
      requestSent: true,
      reason: `Sinch did not answer within ${timeoutMs} ms`,
    });
  }
  const facts = error instanceof Error ? transportFacts(error) : undefined;
  if (error instanceof Error && facts && (facts.codes.length > 0 || error.message === 'fetch failed')) {
    const { codes, messages } = facts;
    const neverConnected = [...codes, ...messages].some((t) => NOT_CONNECTED.test(t));
    // undici says only "fetch failed"; its cause says what happened ("connect ECONNREFUSED 127.0.0.1:9").
    const detail = messages.find((m) => m !== 'fetch failed') ?? codes[0] ?? error.message;
    return new ProviderError({ retryable: true, code: 'network', requestSent: !neverConnected, reason: 'Could not reach Sinch', detail });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new ProviderError({ retryable: false, code: 'unknown', reason: 'Unexpected error while sending via Sinch', detail });
}

/** `https://us.sms.api.sinch.com` for region `us`; refuses an unknown region unless `apiUrl` is given. */
export function sinchApiUrl(region: string, apiUrl?: string): string {
  if (apiUrl !== undefined && apiUrl.trim() !== '') return apiUrl.trim().replace(/\/+$/, '');
  const r = region.trim().toLowerCase();
  if (!(SINCH_REGIONS as readonly string[]).includes(r)) {
    throw new Error(`SINCH_REGION: must be one of ${SINCH_REGIONS.join(', ')} (got "${region}")`);
  }
  return `https://${r}.sms.api.sinch.com`;
}

export function createSinchProvider(opts: SinchProviderOptions): SmsProvider {
  if (opts.servicePlanId.trim() === '') throw new Error('SINCH_SERVICE_PLAN_ID: empty');
  if (opts.apiToken.trim() === '') throw new Error('SINCH_API_TOKEN: empty');
  const url = `${sinchApiUrl(opts.region, opts.apiUrl)}/xms/v1/${encodeURIComponent(opts.servicePlanId.trim())}/batches`;
  const authorization = `Bearer ${opts.apiToken.trim()}`;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const doFetch = opts.fetch ?? fetch;

  async function send(msg: OutboundSms): Promise<SendResult> {
    const body: Record<string, unknown> = {
      to: [msg.to],
      from: msg.from,
      // MMS: `mt_media` whose body is the media URL and the text as its message.
      ...(msg.media?.[0]
        ? { body: { url: msg.media[0].url, ...(msg.text.trim() !== '' ? { message: msg.text } : {}) }, type: 'mt_media' }
        : { body: msg.text, type: 'mt_text' }),
      delivery_report: 'per_recipient',
      client_reference: msg.messageId,
    };
    if (opts.callbackUrl !== undefined) body.callback_url = opts.callbackUrl;

    let response: Response;
    let json: Record<string, unknown> | undefined;
    try {
      response = await doFetch(url, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) throw await fromHttpResponse(response);
      ({ json } = await readBody(response));
    } catch (error) {
      throw fromTransportError(error, timeoutMs);
    }
    const id = json ? stringOf(json.id) : undefined;
    if (id === undefined) {
      // Sinch took the batch (2xx) but its id is unreadable: a retry would text twice; the delivery
      // reports still find the message through client_reference.
      throw new ProviderError({
        retryable: false,
        httpStatus: response.status,
        code: 'invalid_response',
        reason: 'Sinch accepted the message but returned no batch id',
      });
    }
    return { providerMessageId: id };
  }

  return { name: 'sinch', send };
}
