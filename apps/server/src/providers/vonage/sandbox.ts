/**
 * The embedded sandbox provider: no account needed. It accepts sends and, like Vonage, delivers
 * signed status webhooks (submitted → delivered, or a failure for the test numbers below) to the
 * real `/webhooks/status` path, so the whole pipeline runs as it would against Vonage.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { countSms, toProviderNumber } from '@parley/shared';
import { signVonageWebhook } from './sign';
import { createSandboxKit, fetchOutboundMedia, SANDBOX_NUMBERS } from '../sandbox-kit';
import { ProviderError } from '../types';
import type { OutboundSms, SendResult, SmsProvider } from '../types';

/** Numbers with a scripted outcome (fictional UK range); every other number is delivered. */
export const SANDBOX_TEST_NUMBERS = [
  {
    number: SANDBOX_NUMBERS.rejected,
    outcome: 'rejected',
    description: 'The send is accepted, then the status webhook says `rejected` with error 1170 (invalid or missing number).',
  },
  {
    number: SANDBOX_NUMBERS.throttled,
    outcome: 'throttled',
    description:
      'The first 2 sends of a message fail with HTTP 429 / error 1000 (throttled, retryable); the 3rd is accepted and delivered.',
  },
  {
    number: SANDBOX_NUMBERS.undeliverable,
    outcome: 'undeliverable',
    description: 'Submitted, then `undeliverable` with error 1190 (absent subscriber, permanent).',
  },
  {
    number: '+447700900422',
    outcome: 'refused-once',
    description:
      'The first send of a given text to it (per sandbox start) is refused with HTTP 422 / error 1120 before acceptance (so Retry is offered); the same text again is accepted and delivered.',
  },
] as const;

/** Refused the first time a text is sent to it, delivered after (the Retry button's test number; Vonage sandbox only). */
export const REFUSED_ONCE = '+447700900422';

const { rejected: REJECTED, undeliverable: UNDELIVERABLE } = SANDBOX_NUMBERS;
const PRICE_PER_SEGMENT = 0.0333;
const ERROR_TYPE = 'https://developer.nexmo.com/api-errors/messages-olympus#';

export interface SandboxProviderOptions {
  /** Where status webhooks go, e.g. http://127.0.0.1:3000/webhooks/status */
  statusUrl: string;
  signatureSecret: string;
  /** After the send: when `submitted`, then when the final status, is posted (default 300 / 1200 ms). */
  delaysMs?: { submitted: number; delivered: number };
  /** First wait between webhook retries (doubling); default 250 ms. */
  retryDelayMs?: number;
  logger: Logger;
}

export type SandboxProvider = SmsProvider & { close(): Promise<void> };

function errorBody(code: string, detail: string): Record<string, unknown> {
  return { type: `${ERROR_TYPE}${code}`, title: code, detail, instance: randomUUID() };
}

export function createSandboxProvider(opts: SandboxProviderOptions): SandboxProvider {
  const delays = opts.delaysMs ?? { submitted: 300, delivered: 1200 };
  const kit = createSandboxKit({ logger: opts.logger, label: 'sandbox', retryDelayMs: opts.retryDelayMs });
  const { wait } = kit;
  /** Texts already refused once to REFUSED_ONCE (bounded: a test number, not a workload). */
  const refusedOnce = new Set<string>();

  /** POSTs one signed status body (a fresh JWT per attempt); retried by the kit. */
  function post(body: Record<string, unknown>): Promise<void> {
    const raw = JSON.stringify(body);
    return kit.deliver({ webhookStatus: body.status, client_ref: body.client_ref }, async () =>
      fetch(opts.statusUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: await signVonageWebhook(raw, opts.signatureSecret) },
        body: raw,
        signal: kit.signal,
      }),
    );
  }

  async function report(msg: OutboundSms, uuid: string): Promise<void> {
    const segments = Math.max(1, countSms(msg.text).segments);
    const base = {
      message_uuid: uuid,
      to: toProviderNumber(msg.to),
      from: toProviderNumber(msg.from),
      client_ref: msg.messageId,
      channel: msg.media?.length ? 'mms' : 'sms',
    };
    const stamp = () => ({ timestamp: new Date().toISOString() });
    const started = Date.now();
    if (!(await wait(delays.submitted))) return;
    if (msg.to === REJECTED) {
      await post({ ...base, ...stamp(), status: 'rejected', error: errorBody('1170', 'Invalid or missing number') });
      return;
    }
    await post({
      ...base,
      ...stamp(),
      status: 'submitted',
      usage: { currency: 'EUR', price: (PRICE_PER_SEGMENT * segments).toFixed(4) },
      sms: { count_total: String(segments) },
    });
    if (!(await wait(delays.delivered - (Date.now() - started)))) return;
    if (msg.to === UNDELIVERABLE) {
      await post({ ...base, ...stamp(), status: 'undeliverable', error: errorBody('1190', 'Absent subscriber (permanent)') });
      return;
    }
    await post({ ...base, ...stamp(), status: 'delivered' });
  }

  async function send(msg: OutboundSms): Promise<SendResult> {
    kit.refuseIfBusy(msg, {
      name: 'Vonage',
      throttled: { retryable: true, httpStatus: 429, code: '1000', reason: 'Throttled by Vonage', title: 'Rate Limit Hit' },
    });
    if (msg.to === REFUSED_ONCE && !refusedOnce.has(msg.text)) {
      if (refusedOnce.size >= 1000) refusedOnce.clear();
      refusedOnce.add(msg.text);
      throw new ProviderError({
        retryable: false,
        httpStatus: 422,
        code: '1120',
        reason: 'Refused by Vonage',
        title: 'Illegal Sender Address',
        detail: `Sandbox test number ${REFUSED_ONCE}: refused the first time this text is sent`,
      });
    }
    await fetchOutboundMedia(msg, 'Vonage');
    const uuid = randomUUID();
    kit.track(() => report(msg, uuid));
    return { providerMessageId: uuid };
  }

  return { name: 'sandbox', send, close: kit.close };
}

/** Sandbox: an inbound text posted, signed, through the real /webhooks/inbound path. */
export async function simulateVonageInbound(
  baseUrl: string,
  secret: string,
  input: { from: string; to: string; text: string; media?: { url: string; contentType: string }[] },
): Promise<void> {
  const base = {
    message_uuid: randomUUID(),
    to: toProviderNumber(input.to),
    from: toProviderNumber(input.from),
    timestamp: new Date().toISOString(),
  };
  const [first] = input.media ?? [];
  // MMS: the spec's inbound MMS shape — one attachment object named by its kind (`image`, `video`, `file`…).
  const kind = first
    ? first.contentType.startsWith('image/')
      ? 'image'
      : first.contentType.startsWith('video/')
        ? 'video'
        : 'file'
    : null;
  const body = JSON.stringify(
    first && kind
      ? { ...base, channel: 'mms', message_type: kind, [kind]: { url: first.url, ...(input.text ? { caption: input.text } : {}) } }
      : { ...base, channel: 'sms', message_type: 'text', text: input.text },
  );
  const res = await fetch(`${baseUrl}/webhooks/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: await signVonageWebhook(body, secret) },
    body,
  });
  const answer = (await res.json().catch(() => ({}))) as { outcome?: string; error?: string };
  if (res.status !== 200 || answer.outcome === 'schema_error')
    throw new Error(`the inbound webhook refused the simulated text: ${answer.error ?? answer.outcome ?? res.status}`);
}
