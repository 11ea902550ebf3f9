/**
 * The embedded Sinch stand-in: no account needed. It accepts sends with a ULID-like batch id and, as
 * Sinch does with `delivery_report: per_recipient`, posts HMAC-signed `recipient_delivery_report_sms`
 * callbacks (Dispatched → Delivered, or a failure for the test numbers below) to the real
 * `/webhooks/sinch/status` path; `simulateInbound` posts a signed `mo_text` to `/webhooks/sinch/inbound`.
 * Numbers in its callbacks lack the '+', as Sinch's often do.
 */
import { toProviderNumber } from '@parley/shared';
import { signSinchWebhook, ulidLike } from './signature';
import { createSandboxKit, fetchOutboundMedia, SANDBOX_NUMBERS, type SandboxBaseOptions, type SandboxProvider } from '../sandbox-kit';
import type { OutboundSms, SendResult } from '../types';

/** Numbers with a scripted outcome (the same fictional UK range as the Vonage sandbox); every other number is delivered. */
export const SINCH_SANDBOX_TEST_NUMBERS = [
  {
    number: SANDBOX_NUMBERS.rejected,
    outcome: 'rejected',
    description:
      'The batch is accepted, then a delivery report says `Rejected` (SMPP error code 11, invalid destination): Parley shows `rejected`.',
  },
  {
    number: SANDBOX_NUMBERS.throttled,
    outcome: 'throttled',
    description: 'The first 2 sends of a message fail with HTTP 429 (throttled, retryable); the 3rd is accepted and delivered.',
  },
  {
    number: SANDBOX_NUMBERS.undeliverable,
    outcome: 'undeliverable',
    description: '`Dispatched`, then `Expired` (SMPP error code 27, absent subscriber): Parley shows `undeliverable`.',
  },
] as const;

const { rejected: REJECTED, undeliverable: UNDELIVERABLE } = SANDBOX_NUMBERS;

export interface SinchSandboxOptions extends SandboxBaseOptions {
  webhookSecret: string;
}

export type SinchSandbox = SandboxProvider;

export function createSinchSandbox(opts: SinchSandboxOptions): SinchSandbox {
  const delays = opts.delaysMs ?? { submitted: 300, delivered: 1200 };
  const kit = createSandboxKit({ logger: opts.logger, label: 'sandbox:sinch', retryDelayMs: opts.retryDelayMs });
  const { wait } = kit;

  /** One signed POST, as Sinch makes it. */
  async function postOnce(path: string, body: Record<string, unknown>): Promise<Response> {
    const raw = JSON.stringify(body);
    const res = await fetch(`${opts.baseUrl()}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signSinchWebhook({ rawBody: raw, secret: opts.webhookSecret }) },
      body: raw,
      signal: kit.signal,
    });
    return res;
  }

  /** Posts a delivery report; retried (freshly signed) on non-2xx or a connection error. */
  function post(body: Record<string, unknown>): Promise<void> {
    return kit.deliver({ reportStatus: body.status, batch_id: body.batch_id }, () => postOnce('/webhooks/sinch/status', body));
  }

  async function report(msg: OutboundSms, batchId: string): Promise<void> {
    const base = {
      type: 'recipient_delivery_report_sms',
      batch_id: batchId,
      recipient: toProviderNumber(msg.to),
      client_reference: msg.messageId,
    };
    const at = () => new Date().toISOString();
    /** The operator's receipt time: whole seconds, as Sinch shows it. */
    const operatorAt = () => `${new Date().toISOString().slice(0, 19)}Z`;
    const started = Date.now();
    if (!(await wait(delays.submitted))) return;
    if (msg.to === REJECTED) {
      await post({ ...base, status: 'Rejected', code: 11, at: at(), operator_status_at: operatorAt() });
      return;
    }
    await post({ ...base, status: 'Dispatched', code: 401, at: at() });
    if (!(await wait(delays.delivered - (Date.now() - started)))) return;
    if (msg.to === UNDELIVERABLE) {
      await post({ ...base, status: 'Expired', code: 27, at: at(), operator_status_at: operatorAt() });
      return;
    }
    await post({ ...base, status: 'Delivered', code: 0, at: at(), operator_status_at: operatorAt() });
  }

  async function send(msg: OutboundSms): Promise<SendResult> {
    kit.refuseIfBusy(msg, {
      name: 'Sinch',
      throttled: { retryable: true, httpStatus: 429, code: 'http_429', reason: 'Throttled by Sinch' },
    });
    await fetchOutboundMedia(msg, 'Sinch');
    const batchId = ulidLike();
    kit.track(() => report(msg, batchId));
    return { providerMessageId: batchId };
  }

  async function simulateInbound(input: {
    from: string;
    to: string;
    text: string;
    media?: { url: string; contentType: string }[];
  }): Promise<void> {
    const media = input.media ?? [];
    const body = {
      id: ulidLike(),
      from: toProviderNumber(input.from),
      to: toProviderNumber(input.to),
      // MMS: Sinch's `mo_media` — the text as body.message, each attachment with its upload result.
      ...(media.length > 0
        ? {
            type: 'mo_media',
            body: {
              message: input.text,
              media: media.map((m) => ({ url: m.url, content_type: m.contentType, status: 'Uploaded', code: 0 })),
            },
          }
        : { type: 'mo_text', body: input.text }),
      operator_id: '23410',
      received_at: new Date().toISOString(),
    };
    const res = await postOnce('/webhooks/sinch/inbound', body);
    if (res.ok) {
      await res.arrayBuffer();
      return;
    }
    const answer = (await res.json().catch(() => ({}))) as { error?: string; outcome?: string };
    throw new Error(`the Sinch inbound webhook refused the simulated text: ${answer.error ?? answer.outcome ?? res.status}`);
  }

  return { name: 'sandbox:sinch', send, simulateInbound, close: kit.close };
}
