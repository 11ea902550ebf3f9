/**
 * SmsProvider on the Vonage Messages API (JWT auth with the application's RSA key).
 *
 * Sends go out directly (createVonageProvider below, over ./http-transport) in the shape the SDK sends;
 * ./send-errors maps failures (and still accepts what the SDK throws, since tests and the sandbox drive it).
 * A 2xx whose Content-Type is not application/json resolves, in the SDK, with `messageUUID: undefined`.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isRecord } from '../http';
import { ReusedJwtAuth } from './auth';
import { createVonageTransport, headerOf, type RawResponse } from './http-transport';
import { fromHttpResponse, toProviderError } from './send-errors';
import { ProviderError } from '../types';
import type { OutboundSms, SendResult, SmsProvider } from '../types';

export { toProviderError } from './send-errors';

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
  const post = createVonageTransport(endpoint, timeoutMs);

  async function send(msg: OutboundSms): Promise<SendResult> {
    let response: RawResponse;
    try {
      response = await post(vonageSendBody(msg), await auth.createBearerHeader());
    } catch (error) {
      throw await toProviderError(error, timeoutMs);
    }
    const header = (name: string): string | null => headerOf(response, name);
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
