/**
 * The embedded Sinch stand-in: no account needed. It accepts sends with a ULID-like batch id and, as
 * Sinch does with `delivery_report: per_recipient`, posts HMAC-signed `recipient_delivery_report_sms`
 * callbacks (Dispatched → Delivered, or a failure for the test numbers below) to the real
 * `/webhooks/sinch/status` path; `simulateInbound` posts a signed `mo_text` to `/webhooks/sinch/inbound`.
 * Numbers in its callbacks lack the '+', as Sinch's often do.
 */
import type { Logger } from 'pino';
import { toVonageNumber } from '@parley/shared';
import { signSinchWebhook, ulidLike } from '../webhooks/sinch-signature';
import { ProviderError } from './types';
import type { OutboundSms, SendResult, SmsProvider } from './types';

/** Numbers with a scripted outcome (the same fictional UK range as the Vonage sandbox); every other number is delivered. */
export const SINCH_SANDBOX_TEST_NUMBERS = [
  {
    number: '+447700900666',
    outcome: 'rejected',
    description: 'The batch is accepted, then a delivery report says `Rejected` (SMPP error code 11, invalid destination): Parley shows `rejected`.',
  },
  {
    number: '+447700900429',
    outcome: 'throttled',
    description: 'The first 2 sends of a message fail with HTTP 429 (throttled, retryable); the 3rd is accepted and delivered.',
  },
  {
    number: '+447700900500',
    outcome: 'undeliverable',
    description: '`Dispatched`, then `Expired` (SMPP error code 27, absent subscriber): Parley shows `undeliverable`.',
  },
] as const;

const REJECTED = '+447700900666';
const THROTTLED = '+447700900429';
const UNDELIVERABLE = '+447700900500';
const THROTTLED_SENDS = 2;
const POST_ATTEMPTS = 5;

export interface SinchSandboxOptions {
  /** Parley's own base URL (known once it listens), e.g. http://127.0.0.1:3000 */
  baseUrl: () => string;
  webhookSecret: string;
  logger: Logger;
  /** After the send: when `Dispatched`, then when the final report, is posted (default 300 / 1200 ms). */
  delaysMs?: { submitted: number; delivered: number };
  /** First wait between callback retries (doubling); default 250 ms. */
  retryDelayMs?: number;
}

export type SinchSandbox = SmsProvider & {
  close(): Promise<void>;
  simulateInbound(input: { from: string; to: string; text: string }): Promise<void>;
};

export function createSinchSandbox(opts: SinchSandboxOptions): SinchSandbox {
  const delays = opts.delaysMs ?? { submitted: 300, delivered: 1200 };
  const retryDelay = opts.retryDelayMs ?? 250;
  const throttled = new Map<string, number>();
  /** Pending waits: close() clears each timer and resolves its wait with false. */
  const timers = new Map<NodeJS.Timeout, () => void>();
  const abort = new AbortController();
  const pending = new Set<Promise<void>>();
  let closed = false;

  function wait(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (closed) return resolve(false);
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve(!closed);
      }, Math.max(0, ms));
      timers.set(timer, () => resolve(false));
    });
  }

  /** One signed POST, as Sinch makes it. */
  async function postOnce(path: string, body: Record<string, unknown>): Promise<Response> {
    const raw = JSON.stringify(body);
    const res = await fetch(`${opts.baseUrl()}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signSinchWebhook({ rawBody: raw, secret: opts.webhookSecret }) },
      body: raw,
      signal: abort.signal,
    });
    return res;
  }

  /** Posts a delivery report; retries on non-2xx or a connection error (each attempt freshly signed). */
  async function post(body: Record<string, unknown>): Promise<void> {
    for (let attempt = 1; attempt <= POST_ATTEMPTS && !closed; attempt++) {
      try {
        const res = await postOnce('/webhooks/sinch/status', body);
        await res.arrayBuffer();
        if (res.ok) return;
        opts.logger.warn({ status: res.status, reportStatus: body.status, attempt }, 'sandbox:sinch: delivery report refused');
      } catch (err) {
        if (closed) return;
        opts.logger.warn({ err: { message: (err as Error).message }, attempt }, 'sandbox:sinch: delivery report failed');
      }
      if (!(await wait(retryDelay * 2 ** (attempt - 1)))) return;
    }
    if (!closed) opts.logger.error({ reportStatus: body.status, batch_id: body.batch_id }, 'sandbox:sinch: gave up on a delivery report');
  }

  async function report(msg: OutboundSms, batchId: string): Promise<void> {
    const base = { type: 'recipient_delivery_report_sms', batch_id: batchId, recipient: toVonageNumber(msg.to), client_reference: msg.messageId };
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
    if (closed) throw new ProviderError({ retryable: true, code: 'sandbox_closed', reason: 'Sinch sandbox is closed' });
    if (msg.to === THROTTLED) {
      const seen = throttled.get(msg.messageId) ?? 0;
      if (seen < THROTTLED_SENDS) {
        throttled.set(msg.messageId, seen + 1);
        throw new ProviderError({
          retryable: true, httpStatus: 429, code: 'http_429', reason: 'Throttled by Sinch',
          detail: `Sandbox test number ${THROTTLED}: throttled ${seen + 1} of ${THROTTLED_SENDS} times`,
        });
      }
      throttled.delete(msg.messageId);
    }
    const batchId = ulidLike();
    const task = report(msg, batchId).catch((err: unknown) => opts.logger.error({ err }, 'sandbox:sinch: delivery reports failed'));
    pending.add(task);
    void task.finally(() => pending.delete(task));
    return { providerMessageId: batchId };
  }

  async function simulateInbound(input: { from: string; to: string; text: string }): Promise<void> {
    const body = {
      type: 'mo_text',
      id: ulidLike(),
      from: toVonageNumber(input.from),
      to: toVonageNumber(input.to),
      body: input.text,
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

  return {
    name: 'sandbox:sinch',
    send,
    simulateInbound,
    async close() {
      closed = true;
      abort.abort();
      for (const [timer, cancel] of timers) {
        clearTimeout(timer);
        cancel();
      }
      timers.clear();
      await Promise.allSettled([...pending]);
    },
  };
}
