/**
 * What every sandbox stand-in (Vonage's, Plivo's, Sinch's) shares: the scripted test numbers, the
 * throttled-twice rule, callbacks posted in the background with retries, and a close() that cancels
 * the waits and awaits what is in flight. Each stand-in keeps only its provider's payloads and signing.
 */
import type { Logger } from 'pino';
import type { OutboundSms, ProviderFailure, SmsProvider } from './types';
import { ProviderError } from './types';

/** Fictional UK numbers with a scripted outcome on every provider; every other number is delivered. */
export const SANDBOX_NUMBERS = {
  rejected: '+447700900666',
  throttled: '+447700900429',
  undeliverable: '+447700900500',
} as const;
/** Sends of one message to the throttled number that are refused before one is accepted. */
export const THROTTLED_SENDS = 2;
const POST_ATTEMPTS = 5;

/** What every provider's sandbox stand-in is given. */
export interface SandboxBaseOptions {
  /** Parley's own base URL (read at each post: known only once the server listens). */
  baseUrl: () => string;
  logger: Logger;
  /** After the send: when the first status, then when the final one, is posted (default 300 / 1200 ms). */
  delaysMs?: { submitted: number; delivered: number };
  /** First wait between callback retries (doubling); default 250 ms. */
  retryDelayMs?: number;
}

/** A sandbox stand-in: a sender whose status callbacks are posted, signed, to Parley's own routes. */
export type SandboxProvider = SmsProvider & {
  close(): Promise<void>;
  /** Posts a signed inbound text (numbers E.164) to the provider's inbound route; throws unless 2xx. */
  simulateInbound(input: { from: string; to: string; text: string; media?: { url: string; contentType: string }[] }): Promise<void>;
};

export interface SandboxKit {
  signal: AbortSignal;
  isClosed(): boolean;
  /** Resolves true after `ms`, false when closed first (the caller then stops). */
  wait(ms: number): Promise<boolean>;
  /**
   * Delivers one callback: `attempt()` makes one request (signed afresh each time); non-2xx answers
   * and connection errors are retried with doubling waits, up to 5 attempts. `what` labels the logs.
   */
  deliver(what: Record<string, unknown>, attempt: () => Promise<Response>): Promise<void>;
  /** For the throttled test number: the number of this message's earlier refusals (then counts this one), or null to accept. */
  throttledSeen(msg: OutboundSms): number | null;
  /** Runs callbacks in the background; close() awaits them. */
  track(task: () => Promise<void>): void;
  /**
   * The start of every stand-in's send: refused while closed, and the throttled test number's first
   * sends refused with the provider's own throttling error (`throttled`; the detail is added here).
   */
  refuseIfBusy(msg: OutboundSms, p: { name: string; throttled: Omit<ProviderFailure, 'detail'> }): void;
  close(): Promise<void>;
}

export function createSandboxKit(opts: { logger: Logger; label: string; retryDelayMs?: number | undefined }): SandboxKit {
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
      const timer = setTimeout(
        () => {
          timers.delete(timer);
          resolve(!closed);
        },
        Math.max(0, ms),
      );
      timers.set(timer, () => resolve(false));
    });
  }

  return {
    signal: abort.signal,
    isClosed: () => closed,
    wait,
    async deliver(what, attempt) {
      for (let n = 1; n <= POST_ATTEMPTS && !closed; n++) {
        try {
          const res = await attempt();
          await res.arrayBuffer();
          if (res.ok) return;
          opts.logger.warn({ ...what, status: res.status, attempt: n }, `${opts.label}: callback refused`);
        } catch (err) {
          if (closed) return;
          opts.logger.warn({ ...what, err: { message: (err as Error).message }, attempt: n }, `${opts.label}: callback failed`);
        }
        if (!(await wait(retryDelay * 2 ** (n - 1)))) return;
      }
      if (!closed) opts.logger.error(what, `${opts.label}: gave up on a callback`);
    },
    throttledSeen(msg) {
      if (msg.to !== SANDBOX_NUMBERS.throttled) return null;
      const seen = throttled.get(msg.messageId) ?? 0;
      if (seen >= THROTTLED_SENDS) {
        throttled.delete(msg.messageId);
        return null;
      }
      throttled.set(msg.messageId, seen + 1);
      return seen;
    },
    refuseIfBusy(msg, p) {
      if (closed) throw new ProviderError({ retryable: true, code: 'sandbox_closed', reason: `${p.name} sandbox is closed` });
      const seen = this.throttledSeen(msg);
      if (seen !== null) {
        const detail = `Sandbox test number ${SANDBOX_NUMBERS.throttled}: throttled ${seen + 1} of ${THROTTLED_SENDS} times`;
        throw new ProviderError({ ...p.throttled, detail });
      }
    },
    track(task) {
      const running = task().catch((err: unknown) => opts.logger.error({ err }, `${opts.label}: status report failed`));
      pending.add(running);
      void running.finally(() => pending.delete(running));
    },
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

/**
 * A stand-in's MMS send: it fetches each attachment from the link it was given, as a provider would,
 * so a broken or expired signed link fails the send (not retried: the same link will not start working).
 */
export async function fetchOutboundMedia(msg: OutboundSms, provider: string): Promise<void> {
  for (const m of msg.media ?? []) {
    let status: number;
    try {
      const res = await fetch(m.url, { signal: AbortSignal.timeout(10_000) });
      status = res.status;
      await res.arrayBuffer();
    } catch (err) {
      throw new ProviderError({
        retryable: true,
        code: 'media_unreachable',
        requestSent: false,
        reason: `${provider} could not fetch the attachment`,
        detail: String(err),
      });
    }
    if (status !== 200) {
      throw new ProviderError({
        retryable: false,
        httpStatus: 400,
        code: 'media_unreachable',
        reason: `${provider} could not fetch the attachment (HTTP ${status} from its link)`,
      });
    }
  }
}
