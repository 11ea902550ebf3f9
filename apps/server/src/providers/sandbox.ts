/**
 * The embedded sandbox provider: no account needed. It accepts sends and, like Vonage, delivers
 * signed status webhooks (submitted → delivered, or a failure for the test numbers below) to the
 * real `/webhooks/status` path, so the whole pipeline runs as it would against Vonage.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { countSms, toVonageNumber } from '@parley/shared';
import { signVonageWebhook } from '../webhooks/sign';
import { ProviderError } from './types';
import type { OutboundSms, SendResult, SmsProvider } from './types';

/** Numbers with a scripted outcome (fictional UK range); every other number is delivered. */
export const SANDBOX_TEST_NUMBERS = [
  {
    number: '+447700900666',
    outcome: 'rejected',
    description: 'The send is accepted, then the status webhook says `rejected` with error 1170 (invalid or missing number).',
  },
  {
    number: '+447700900429',
    outcome: 'throttled',
    description: 'The first 2 sends of a message fail with HTTP 429 / error 1000 (throttled, retryable); the 3rd is accepted and delivered.',
  },
  {
    number: '+447700900500',
    outcome: 'undeliverable',
    description: 'Submitted, then `undeliverable` with error 1190 (absent subscriber, permanent).',
  },
] as const;

const REJECTED = '+447700900666';
const THROTTLED = '+447700900429';
const UNDELIVERABLE = '+447700900500';
const THROTTLED_SENDS = 2;
const PRICE_PER_SEGMENT = 0.0333;
const POST_ATTEMPTS = 5;
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

  /** POSTs one signed status body; retries on non-2xx or a connection error. */
  async function post(body: Record<string, unknown>): Promise<void> {
    const raw = JSON.stringify(body);
    for (let attempt = 1; attempt <= POST_ATTEMPTS && !closed; attempt++) {
      try {
        const authorization = await signVonageWebhook(raw, opts.signatureSecret);
        const res = await fetch(opts.statusUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization },
          body: raw,
          signal: abort.signal,
        });
        await res.arrayBuffer();
        if (res.ok) return;
        opts.logger.warn({ status: res.status, webhookStatus: body.status, attempt }, 'sandbox: status webhook refused');
      } catch (err) {
        if (closed) return;
        opts.logger.warn({ err: { message: (err as Error).message }, attempt }, 'sandbox: status webhook failed');
      }
      if (!(await wait(retryDelay * 2 ** (attempt - 1)))) return;
    }
    if (!closed) opts.logger.error({ webhookStatus: body.status, client_ref: body.client_ref }, 'sandbox: gave up on a status webhook');
  }

  async function report(msg: OutboundSms, uuid: string): Promise<void> {
    const segments = Math.max(1, countSms(msg.text).segments);
    const base = {
      message_uuid: uuid,
      to: toVonageNumber(msg.to),
      from: toVonageNumber(msg.from),
      client_ref: msg.messageId,
      channel: 'sms',
    };
    const stamp = () => ({ timestamp: new Date().toISOString() });
    const started = Date.now();
    if (!(await wait(delays.submitted))) return;
    if (msg.to === REJECTED) {
      await post({ ...base, ...stamp(), status: 'rejected', error: errorBody('1170', 'Invalid or missing number') });
      return;
    }
    await post({
      ...base, ...stamp(), status: 'submitted',
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
    if (closed) throw new ProviderError({ retryable: true, code: 'sandbox_closed', reason: 'Sandbox provider is closed' });
    if (msg.to === THROTTLED) {
      const seen = throttled.get(msg.messageId) ?? 0;
      if (seen < THROTTLED_SENDS) {
        throttled.set(msg.messageId, seen + 1);
        throw new ProviderError({
          retryable: true, httpStatus: 429, code: '1000', reason: 'Throttled by Vonage',
          title: 'Rate Limit Hit', detail: `Sandbox test number ${THROTTLED}: throttled ${seen + 1} of ${THROTTLED_SENDS} times`,
        });
      }
      throttled.delete(msg.messageId);
    }
    const uuid = randomUUID();
    const task = report(msg, uuid).catch((err: unknown) => opts.logger.error({ err }, 'sandbox: status report failed'));
    pending.add(task);
    void task.finally(() => pending.delete(task));
    return { providerMessageId: uuid };
  }

  return {
    name: 'sandbox',
    send,
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
