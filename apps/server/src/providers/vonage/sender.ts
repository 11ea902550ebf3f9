/**
 * SmsProvider on the Vonage Messages API (JWT auth with the application's RSA key).
 *
 * Sends go out directly (createVonageProvider below) in the shape the SDK sends; error mapping
 * still accepts what the SDK throws (toProviderError), since tests and the sandbox drive the SDK.
 * SDK facts found by experiment with @vonage/server-sdk 3.27.0 / @vonage/server-client 1.20.0,
 * which fetches with node-fetch 3 (not the global fetch):
 * - non-2xx → `VetchError` (its `.name` is plain 'Error'); status and body only on `.response`, a
 *   node-fetch Response whose body is still unread. `.config` holds the request incl. the JWT: never log it.
 * - connection refused / DNS → node-fetch `FetchError` (name 'FetchError', type 'system', code 'ECONNREFUSED').
 * - the `timeout` option aborts with node-fetch `AbortError` (name 'AbortError', type 'aborted').
 * - a 2xx whose Content-Type is not application/json resolves with `messageUUID: undefined`.
 */
import { createPrivateKey } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { describeVonageError } from './errors';
import { isRecord, parseRetryAfter, readBody } from '../http';
import { ReusedJwtAuth } from './auth';
import { ProviderError } from '../types';
import type { OutboundSms, ProviderFailure, SendResult, SmsProvider } from '../types';

export interface VonageProviderOptions {
  applicationId: string;
  /** PEM contents or a path to the PEM file. */
  privateKey: string;
  /** Default https://api.nexmo.com; the SDK posts to `${apiHost}/v1/messages`. */
  apiHost?: string;
  /** Abort a send after this long (default 10 s). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_API_HOST = 'https://api.nexmo.com';
const NOT_PEM = 'VONAGE_PRIVATE_KEY: not a PEM private key (expected -----BEGIN PRIVATE KEY-----)';

/** Echo a path in errors only if it cannot be key material pasted in the wrong format. */
function printablePath(value: string): string | undefined {
  return value.length <= 255 && !/[\r\n]/.test(value) ? value : undefined;
}

function readKeyFile(path: string): string {
  const shown = printablePath(path);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (shown === undefined) throw new Error('VONAGE_PRIVATE_KEY: neither a PEM private key nor a readable file path (value not shown)');
    const code = isRecord(error) ? error.code : undefined;
    if (code === 'ENOENT') throw new Error(`VONAGE_PRIVATE_KEY: file ${shown} not found`);
    throw new Error(`VONAGE_PRIVATE_KEY: file ${shown} is not readable (${typeof code === 'string' ? code : 'error'})`);
  }
}

/**
 * The PEM from `value` (PEM contents, or a file path), checked with node:crypto to be an RSA private
 * key. Errors say what is wrong and never include key material.
 */
export function readVonagePrivateKey(value: string): string {
  if (value.trim() === '') throw new Error('VONAGE_PRIVATE_KEY: empty');
  let pem = value.includes('-----BEGIN') ? value : readKeyFile(value.trim());
  // An env var often carries the PEM on one line with literal \n sequences.
  if (!pem.includes('\n') && pem.includes('\\n')) pem = pem.replace(/\\n/g, '\n');
  if (!pem.includes('-----BEGIN')) throw new Error(NOT_PEM);
  let key;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    const code = isRecord(error) ? error.code : undefined;
    if (code === 'ERR_MISSING_PASSPHRASE') throw new Error('VONAGE_PRIVATE_KEY: the PEM private key is encrypted; give an unencrypted key');
    throw new Error(NOT_PEM);
  }
  if (key.asymmetricKeyType !== 'rsa') throw new Error('VONAGE_PRIVATE_KEY: not an RSA private key (Vonage signs its JWTs with RS256)');
  return pem;
}

/** E.164 `+447700900000` → `447700900000`; an alphanumeric sender passes unchanged. */
export function toVonageAddress(value: string): string {
  return value.startsWith('+') ? value.slice(1) : value;
}

interface HttpResponseLike {
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

async function fromHttpResponse(response: HttpResponseLike): Promise<ProviderError> {
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

/**
 * The body the SDK sends for `new SMS(...)` / `new MMSImage(...)` (snake_case, in the SDK's key
 * order), built directly. sender.test.ts checks it byte for byte against the SDK's own request.
 */
export function vonageSendBody(msg: OutboundSms): string {
  const to = toVonageAddress(msg.to);
  const from = toVonageAddress(msg.from);
  const [image] = msg.media ?? [];
  // MMS (the spec's MMS variant): channel `mms`, message_type `image`, the text as the caption.
  if (image) {
    const caption = msg.text.trim() !== '' ? { caption: msg.text } : {};
    return JSON.stringify({
      to,
      from,
      client_ref: msg.messageId,
      message_type: 'image',
      image: { url: image.url, ...caption },
      channel: 'mms',
    });
  }
  return JSON.stringify({ to, from, client_ref: msg.messageId, message_type: 'text', text: msg.text, channel: 'sms' });
}

/** The SDK's user agent (@vonage/server-client: the parts joined with a comma). */
const USER_AGENT = ['@vonage/server-sdk/3.0.0', ` node/${process.version.replace('v', '')}`, ''].join();

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function decoded(res: IncomingMessage): NodeJS.ReadableStream {
  const encoding = String(res.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') return res.pipe(createGunzip());
  if (encoding === 'deflate') return res.pipe(createInflate());
  if (encoding === 'br') return res.pipe(createBrotliDecompress());
  return res;
}

/**
 * SmsProvider on the Vonage Messages API: `POST {apiHost}/v1/messages` with the application JWT
 * (reused for a minute, see ./auth), as the SDK sends it (URL, method, headers, JSON body), over
 * node:http(s) with a keep-alive agent. Not the SDK's own client: per send it cost several times
 * what the rest of the outbox does (node-fetch, an AbortController + DOMException, its response
 * parsing); measured in bench/outbox.ts. Global fetch measured no cheaper than the SDK.
 */
export function createVonageProvider(opts: VonageProviderOptions): SmsProvider {
  const privateKey = readVonagePrivateKey(opts.privateKey);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const auth = new ReusedJwtAuth({ applicationId: opts.applicationId, privateKey });
  const endpoint = new URL(`${(opts.apiHost ?? DEFAULT_API_HOST).replace(/\/+$/, '')}/v1/messages`);
  const secure = endpoint.protocol === 'https:';
  const agent = secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const send1 = secure ? httpsRequest : httpRequest;

  function post(body: string, authorization: string): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const req = send1(
        endpoint,
        {
          method: 'POST',
          agent,
          headers: {
            'user-agent': USER_AGENT,
            'content-type': 'application/json',
            authorization,
            accept: '*/*',
            'accept-encoding': 'gzip, deflate, br',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          const stream = decoded(res);
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', (err) => req.destroy(err));
          stream.on('end', () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
          });
        },
      );
      const timer = setTimeout(() => {
        const err = new Error(`no answer within ${timeoutMs} ms`);
        err.name = 'TimeoutError';
        req.destroy(err);
      }, timeoutMs);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end(body);
    });
  }

  async function send(msg: OutboundSms): Promise<SendResult> {
    let response: RawResponse;
    try {
      response = await post(vonageSendBody(msg), await auth.createBearerHeader());
    } catch (error) {
      throw await toProviderError(error, timeoutMs);
    }
    const header = (name: string): string | null => {
      const value = response.headers[name];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    };
    if (response.status < 200 || response.status >= 300) {
      throw await fromHttpResponse({ status: response.status, headers: { get: header }, text: () => Promise.resolve(response.body) });
    }
    // As the SDK: the body is read only when it is JSON.
    let messageUUID: unknown;
    if ((header('content-type') ?? '').split(';')[0]?.trim() === 'application/json') {
      try {
        const json: unknown = JSON.parse(response.body);
        messageUUID = isRecord(json) ? json.message_uuid : undefined;
      } catch {
        messageUUID = undefined;
      }
    }
    if (typeof messageUUID !== 'string' || messageUUID === '') {
      // Vonage accepted it (2xx) but the id is missing: do not retry (it would send twice); the
      // status webhook still finds the message through client_ref.
      throw new ProviderError({
        retryable: false,
        code: 'invalid_response',
        reason: 'Vonage accepted the message but returned no message id',
      });
    }
    return { providerMessageId: messageUUID };
  }

  return { name: 'vonage', send };
}
