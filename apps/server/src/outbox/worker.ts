import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { detached } from '../db/store';
import { retryWhileBusy, type Db } from '../db/client';
import type { EventLog } from '../events/log';
import {
  hasDueSend,
  nextSendDueAt,
  outboxStats,
  recordSendAccepted,
  recordSendEnded,
  recordSendRetry,
  recoverInterruptedSends,
} from '../domain/outbox';
import type { ClaimedSend } from '../domain/outbox';
import { claimDueSends, recordSendsAccepted } from '../domain/outbox-batch';
import { ProviderError } from '../providers/types';
import type { OutboundMedia, ProviderFailure, SmsProvider } from '../providers/types';
import type { ProviderName } from '@parley/shared';
import { classifyFailure, failureDetail, retryDelayMs } from './backoff';
import type { BackoffOptions } from './backoff';
import { TokenBucket, sleep } from './token-bucket';

export interface OutboxWorkerOptions {
  db: Db;
  log: EventLog;
  provider: SmsProvider;
  /** MMS: a message's attachments as the provider is given them (signed links); absent: texts only. */
  mediaFor?: (messageId: number) => Promise<OutboundMedia[]>;
  /** Claim only rows queued for this provider (each provider has its own worker and rate); default: every row. */
  queue?: ProviderName;
  ratePerSecond: number;
  /** Sends in flight at once (default max(8, rate / 10): room for 100 ms of provider latency at the rate). */
  concurrency?: number;
  /** Attempts per message before a retryable failure becomes final (default 8). */
  maxAttempts?: number;
  logger: Logger;
  /** Safety-net poll when nothing wakes the worker (default 1000 ms). */
  pollMs?: number;
  /** Retry delays (default base 1 s, cap 5 min, full jitter). */
  backoff?: BackoffOptions;
  /** One bucket shared by everything that sends; default: a bucket at `ratePerSecond`. */
  bucket?: TokenBucket;
  metrics?: { onSend?(durationMs: number, outcome: 'ok' | string): void };
}

export interface OutboxStats {
  /** Rows in the outbox (queued, waiting for a retry, or sending). */
  depth: number;
  oldestQueuedAgeMs: number | null;
  inFlight: number;
  /** standby: another instance holds the background lease and sends (PostgreSQL). */
  state: 'running' | 'stopped' | 'standby';
}

export interface OutboxWorker {
  /** Recovers rows left 'sending' by a crash (→ interrupted), then drains. */
  start(): Promise<void>;
  /** Stops taking rows and waits for the sends in flight to settle. */
  stop(): Promise<void>;
  /** Something was queued: look now rather than at the next poll. */
  wake(): void;
  stats(): Promise<OutboxStats>;
}

function unexpected(error: unknown): ProviderFailure {
  const detail = error instanceof Error ? error.message : String(error);
  return { retryable: false, code: 'unknown', reason: 'Unexpected error while sending', detail };
}

/**
 * Drains the outbox through one token bucket with bounded concurrency. Each row is claimed
 * ('sending', committed) before the provider is called, and each outcome is recorded in one
 * transaction (domain/send.ts), so a crash never causes a blind resend. Never throws out of its loop.
 */
export function createOutboxWorker(opts: OutboxWorkerOptions): OutboxWorker {
  const { db, log, provider, logger, queue } = opts;
  const concurrency = Math.max(1, opts.concurrency ?? Math.max(8, Math.ceil(opts.ratePerSecond / 10)));
  const maxAttempts = Math.max(1, opts.maxAttempts ?? 8);
  const pollMs = opts.pollMs ?? 1000;
  const bucket = opts.bucket ?? new TokenBucket({ ratePerSecond: opts.ratePerSecond });
  const inFlight = new Set<Promise<void>>();
  let running = false;
  let abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let pumping: Promise<void> | undefined;
  let again = false;

  async function onFailure(claimed: ClaimedSend, failure: ProviderFailure): Promise<void> {
    const { messageId } = claimed;
    const attempts = claimed.attempts + 1;
    const verdict = classifyFailure(failure);
    const code = failure.code;
    if (verdict === 'retry' && attempts < maxAttempts) {
      const delayMs = retryDelayMs(attempts, opts.backoff, failure.retryAfterMs);
      const lastError = `${code}: ${failure.reason}`;
      if (await recordSendRetry({ log, messageId, attempts, nextAttemptAt: Date.now() + delayMs, lastError })) {
        logger.info({ messageId, attempts, delayMs, code }, 'outbox: send will be retried');
      }
      return;
    }
    if (verdict === 'unknown') {
      const reason = `${failure.reason}; the message may or may not have been sent (not retried, to avoid a double text)`;
      await recordSendEnded({
        log,
        messageId,
        status: 'interrupted',
        error: { code: null, title: null, detail: failure.detail ?? null, reason },
      });
      logger.warn({ messageId, attempts, code, reason: failure.reason }, 'outbox: send outcome unknown; marked interrupted');
      return;
    }
    const gaveUp = verdict === 'retry' ? ` (gave up after ${attempts} attempts)` : '';
    const error = { code, title: failure.title ?? null, detail: failureDetail(failure), reason: `${failure.reason}${gaveUp}` };
    await recordSendEnded({ log, messageId, status: 'failed', error });
    logger.warn({ messageId, attempts, code, reason: failure.reason }, 'outbox: send failed');
  }

  async function sendOne(claimed: ClaimedSend): Promise<void> {
    let started = performance.now();
    let providerMessageId: string | undefined;
    let failure: ProviderFailure | undefined;
    try {
      const media = (await opts.mediaFor?.(claimed.messageId)) ?? [];
      await bucket.dispatchSlot();
      started = performance.now();
      ({ providerMessageId } = await provider.send({
        messageId: claimed.clientRef,
        from: claimed.from,
        to: claimed.to,
        text: claimed.text,
        ...(media.length > 0 ? { media } : {}),
      }));
    } catch (error) {
      failure = error instanceof ProviderError ? error.failure : unexpected(error);
    }
    try {
      opts.metrics?.onSend?.(performance.now() - started, failure ? failure.code : 'ok');
    } catch (err) {
      logger.warn({ err }, 'outbox: metrics callback failed');
    }
    // The provider has answered: its outcome must be recorded even while another process holds the database.
    if (failure) return retryWhileBusy(async () => await onFailure(claimed, failure), 8_000);
    if (providerMessageId !== undefined && !(await recordAccepted(claimed.messageId, providerMessageId))) {
      logger.warn({ messageId: claimed.messageId }, 'outbox: the send response id differs from the one a status webhook gave');
    }
  }

  // Accepted sends are recorded together: those answered in the same turn of the event loop share
  // one transaction (setImmediate runs after the I/O callbacks of that turn). A send counts as
  // finished (stop() waits for it) only once its outcome is committed.
  interface PendingAccept {
    messageId: number;
    providerMessageId: string;
    resolve(sameId: boolean): void;
    reject(err: unknown): void;
  }
  let accepts: PendingAccept[] = [];
  let flushing = false;

  function recordAccepted(messageId: number, providerMessageId: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      accepts.push({ messageId, providerMessageId, resolve, reject });
      if (!flushing) {
        flushing = true;
        setImmediate(() => void flushAccepts());
      }
    });
  }

  async function flushAccepts(): Promise<void> {
    const batch = accepts;
    accepts = [];
    flushing = false;
    try {
      const sameIds = await retryWhileBusy(async () => await recordSendsAccepted({ log, sends: batch }), 8_000);
      batch.forEach((a, i) => a.resolve(sameIds[i] ?? true));
      return;
    } catch (err) {
      if (batch.length === 1) return batch[0]?.reject(err);
      logger.warn({ err, sends: batch.length }, 'outbox: recording a batch of accepted sends failed; recording them one by one');
    }
    // Nothing of the batch was written: one by one, so one bad row cannot hold back the rest.
    for (const a of batch) {
      try {
        a.resolve(
          await retryWhileBusy(
            async () => await recordSendAccepted({ log, messageId: a.messageId, providerMessageId: a.providerMessageId }),
            8_000,
          ),
        );
      } catch (err) {
        a.reject(err);
      }
    }
  }

  function dispatch(claimed: ClaimedSend): void {
    const task = sendOne(claimed)
      .catch((err: unknown) => logger.error({ err, messageId: claimed.messageId }, 'outbox: could not record a send outcome'))
      .finally(() => {
        inFlight.delete(task);
        wake();
      });
    inFlight.add(task);
  }

  /** Rows claimed in one transaction at most. */
  const MAX_CLAIM = 64;
  /** At high rates the worker sends in bursts of this many ms worth of tokens (10 at 1000/s). */
  const TICK_MS = 10;

  async function drain(): Promise<void> {
    const signal = abort.signal;
    while (running && inFlight.size < concurrency) {
      // Tokens first, then claim: a row never waits in 'sending' for the rate limit. Every token
      // available now is used in one claim, so a late timer does not lower the rate.
      const want = Math.min(concurrency - inFlight.size, MAX_CLAIM);
      let tokens = bucket.takeUpTo(want);
      if (tokens === 0) {
        if (!(await hasDueSend({ db, provider: queue }))) return;
        // At high rates, wait for a tick's worth of tokens (timers fire every ms or two at best):
        // one claim transaction per tick rather than one per token. The rate is unchanged.
        const burst = Math.min(want, Math.floor((bucket.ratePerSecond * TICK_MS) / 1000));
        if (burst > 1 && (!(await sleep((burst * 1000) / bucket.ratePerSecond, signal)) || !running)) return;
        if (!(await bucket.take(signal)) || !running) return;
        tokens = 1 + bucket.takeUpTo(want - 1);
      }
      let batch: Awaited<ReturnType<typeof claimDueSends>>;
      try {
        batch = await claimDueSends({ log, provider: queue, limit: tokens });
      } catch (err) {
        for (let i = 0; i < tokens; i++) bucket.refund();
        throw err;
      }
      const { claimed, skipped } = batch;
      for (let i = claimed.length; i < tokens; i++) bucket.refund();
      for (const c of claimed) dispatch(c);
      if (claimed.length + skipped < tokens) return;
    }
  }

  async function schedule(): Promise<void> {
    clearTimeout(timer);
    if (!running) return;
    let delayMs = pollMs;
    try {
      const next = inFlight.size < concurrency ? await nextSendDueAt({ db, provider: queue }) : null;
      if (next !== null) delayMs = Math.min(pollMs, Math.max(0, next - Date.now()));
    } catch (err) {
      logger.error({ err }, 'outbox: could not read the queue');
    }
    timer = setTimeout(wake, delayMs);
  }

  function wake(): void {
    if (!running) return;
    if (pumping) {
      again = true;
      return;
    }
    // Detached: a wake from inside a write (onQueued) must not run its claims in that transaction.
    pumping = detached(() =>
      (async () => {
        do {
          again = false;
          try {
            await drain();
          } catch (err) {
            logger.error({ err }, 'outbox: drain failed');
          }
        } while (again && running);
      })().finally(async () => {
        pumping = undefined;
        await schedule();
      }),
    );
  }

  return {
    async start() {
      if (running) return;
      try {
        const interrupted = await recoverInterruptedSends({ log, provider: queue });
        if (interrupted.length > 0) {
          logger.warn({ messageIds: interrupted }, 'outbox: sends in flight at the last shutdown marked interrupted (not resent)');
        }
      } catch (err) {
        logger.error({ err }, 'outbox: startup recovery failed');
      }
      running = true;
      abort = new AbortController();
      wake();
    },
    async stop() {
      running = false;
      abort.abort();
      clearTimeout(timer);
      await pumping;
      await Promise.allSettled([...inFlight]);
    },
    wake,
    async stats() {
      return { ...(await outboxStats({ db, provider: queue })), inFlight: inFlight.size, state: running ? 'running' : 'stopped' };
    },
  };
}
