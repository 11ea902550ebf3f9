/**
 * Outbound webhook delivery. Each enabled endpoint has its own loop: it follows the event log from
 * the endpoint's durable cursor (`EventLog.subscribe`, which also wakes it on every append and holds
 * compaction behind it), posts each wanted event signed per Standard Webhooks (`standardwebhooks`),
 * one at a time and in event-id order, and moves the cursor only after a 2xx. A failure is retried
 * after the next delay of RETRY_DELAYS_MS (the backoff survives a restart: `failures` and
 * `next_attempt_at` are stored); after the last one the endpoint is disabled with a reason and an
 * audit entry. One request per endpoint at a time, each with a timeout, and at most
 * MAX_WEBHOOK_ENDPOINTS endpoints: a slow or dead endpoint only ever delays itself.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { WEBHOOK_TEST_EVENT_TYPE, type ParleyEvent, type WebhookDeliveryDto } from '@parley/shared';
import type { Config } from '../config';
import { detached } from '../db/store';
import type { Db } from '../db/client';
import { SYSTEM_ACTOR } from '../domain/audit';
import {
  advanceCursor,
  deliveryTarget,
  disableAfterFailures,
  enabledEndpointIds,
  recordDelivery,
  recordFailure,
} from '../domain/webhook-deliveries';
import { secretKey } from '../domain/webhook-endpoints';
import { AppError } from '../errors';
import type { EventLog } from '../events/log';
import { checkTarget, parseTarget, pinnedPost, systemResolve, UnsafeTargetError, type Post, type Resolve } from './target-guard';
import { attemptDelivery, attemptRecord, sleep } from './webhook-attempt';

/**
 * Waits before each retry: 8 attempts in all (the first at once), the last ~27.6 h after the first —
 * the schedule Standard Webhooks suggests.
 */
export const RETRY_DELAYS_MS = [5_000, 5 * 60_000, 30 * 60_000, 2 * 3_600_000, 5 * 3_600_000, 10 * 3_600_000, 10 * 3_600_000];
export const REQUEST_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 30_000;
/** Events passed over (not wanted) between two writes of the cursor. */
const SKIP_SAVE_EVERY = 500;

export interface WebhookWorkerOptions {
  db: Db;
  log: EventLog;
  config: Config;
  logger: Logger;
  /** Name resolution (tests stub it). */
  resolve?: Resolve;
  /** The HTTP exchange (default: pinned to the checked address). */
  post?: Post;
  retryDelaysMs?: number[];
  timeoutMs?: number;
  /** How often the set of loops is reconciled with the database (besides every wake). */
  pollIntervalMs?: number;
  /** The clock backoff is judged by (tests). `webhook-timestamp` is always the real time. */
  now?: () => number;
}

export interface WebhookWorker {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Something changed for endpoint `id` (or for any, without one): its loop restarts from the database. */
  wake(id?: number): Promise<void>;
  /** Throws BAD_REQUEST with the reason when the URL may not be a target (resolved now). */
  checkUrl(url: string): Promise<void>;
  /** One `webhook.test` delivery now, outside the cursor; its record. */
  sendTest(id: number): Promise<WebhookDeliveryDto>;
}

interface Loop {
  hard: AbortController;
  soft: AbortController;
  done: Promise<void>;
}

export function createWebhookWorker(opts: WebhookWorkerOptions): WebhookWorker {
  const { db, log, logger } = opts;
  const resolve = opts.resolve ?? systemResolve;
  const post = opts.post ?? pinnedPost;
  const delays = opts.retryDelaysMs ?? RETRY_DELAYS_MS;
  const maxAttempts = delays.length + 1;
  const timeoutMs = opts.timeoutMs ?? REQUEST_TIMEOUT_MS;
  const now = opts.now ?? Date.now;
  const guard = { allowLoopback: opts.config.webhooks.allowLoopback };
  const key = secretKey(opts.config);
  const loops = new Map<number, Loop>();
  let running = false;
  let poll: ReturnType<typeof setInterval> | undefined;

  const attemptDeps = { guard, resolve, post, timeoutMs };
  const attempt = (url: string, secrets: string[], webhookId: string, body: string, signal: AbortSignal) =>
    attemptDelivery(attemptDeps, url, secrets, webhookId, body, signal);

  const bodyOf = (event: ParleyEvent) =>
    JSON.stringify({ id: event.id, type: event.type, timestamp: event.createdAt, data: event.payload });

  /** Follows the log from the stored cursor until aborted or until the cursor moved under it (then: return, to restart). */
  async function follow(id: number, hard: AbortSignal, soft: AbortSignal): Promise<'stop' | 'restart'> {
    // `hard` (stop) also cuts a request in flight; `soft` (an admin's change: restart from the database)
    // lets it finish and be recorded first, so a change never causes a needless redelivery.
    const signal = AbortSignal.any([hard, soft]);
    const start = await deliveryTarget(db, key, id, now());
    if (!start || !start.row.enabled) return 'stop';
    let durable = start.row.cursor;
    let failures = start.row.failures;
    let nextAttemptAt = start.row.nextAttemptAt;
    let skippedTo = durable;
    let skipped = 0;
    const inner = new AbortController();
    const abort = () => inner.abort();
    signal.addEventListener('abort', abort, { once: true });
    try {
      for await (const event of log.subscribe(durable, inner.signal)) {
        if (!start.events.has(event.type)) {
          skippedTo = event.id;
          if (++skipped >= SKIP_SAVE_EVERY) {
            if (!(await advanceCursor(log, id, durable, skippedTo))) return 'restart';
            durable = skippedTo;
            skipped = 0;
          }
          continue;
        }
        // Passed-over events before this one are settled first, so the cursor never skips this one.
        if (skipped > 0) {
          if (!(await advanceCursor(log, id, durable, skippedTo))) return 'restart';
          durable = skippedTo;
          skipped = 0;
        }
        const body = bodyOf(event);
        for (;;) {
          if (nextAttemptAt !== null) await sleep(nextAttemptAt - now(), signal);
          if (signal.aborted) return 'stop';
          // Read each attempt: a rotation signs with both secrets at once; a change of cursor means a replay.
          const target = await deliveryTarget(db, key, id, now());
          if (!target || !target.row.enabled) return 'stop';
          if (target.row.cursor !== durable) return 'restart';
          const result = await attempt(target.row.url, target.secrets, String(event.id), body, hard);
          if (hard.aborted && !result.ok) return 'stop';
          if (!(await deliveryTarget(db, key, id, now()))) return 'stop';
          await recordDelivery(log, {
            endpointId: id,
            eventId: event.id,
            webhookId: String(event.id),
            eventType: event.type,
            attempt: failures + 1,
            ...attemptRecord(result),
            at: now(),
          });
          if (result.ok) {
            if (!(await advanceCursor(log, id, durable, event.id))) return 'restart';
            durable = event.id;
            skippedTo = durable;
            failures = 0;
            nextAttemptAt = null;
            break;
          }
          failures += 1;
          if (failures >= maxAttempts) {
            const reason = `Disabled after ${failures} failed attempts to deliver event #${event.id} (last: ${result.error ?? 'no answer'})`;
            await disableAfterFailures(log, {
              id,
              expected: durable,
              failures,
              reason,
              eventId: event.id,
              lastError: result.error ?? '',
              now: now(),
              actor: SYSTEM_ACTOR,
            });
            logger.warn({ endpoint: id, eventId: event.id }, 'webhook endpoint disabled after repeated failures');
            return 'stop';
          }
          nextAttemptAt = now() + (delays[failures - 1] ?? 0);
          if (!(await recordFailure(log, id, durable, failures, nextAttemptAt))) return 'restart';
        }
      }
      return 'stop';
    } finally {
      signal.removeEventListener('abort', abort);
      inner.abort();
      // Events passed over since the last write: the cursor moves past them (unless it was moved meanwhile).
      if (skipped > 0) await advanceCursor(log, id, durable, skippedTo);
    }
  }

  function startLoop(id: number, after?: Promise<void>): void {
    const hard = new AbortController();
    const soft = new AbortController();
    const ended = () => hard.signal.aborted || soft.signal.aborted;
    const done = (async () => {
      await after;
      while (!ended()) {
        try {
          if ((await follow(id, hard.signal, soft.signal)) === 'stop') break;
        } catch (err) {
          if (ended()) break;
          logger.warn({ err, endpoint: id }, 'webhook delivery loop failed; retrying in 1 s');
          await sleep(1000, AbortSignal.any([hard.signal, soft.signal]));
        }
      }
    })();
    const loop = { hard, soft, done };
    loops.set(id, loop);
    void done.finally(() => {
      if (loops.get(id) === loop) loops.delete(id);
    });
  }

  /** Loops for exactly the enabled endpoints. */
  async function reconcile(): Promise<void> {
    if (!running) return;
    const enabled = new Set(await enabledEndpointIds(db));
    for (const [id, loop] of loops) if (!enabled.has(id)) loop.soft.abort();
    for (const id of enabled) if (!loops.has(id)) startLoop(id);
  }

  async function wakeNow(id: number | undefined): Promise<void> {
    if (!running) return;
    if (id !== undefined) {
      const old = loops.get(id);
      if (old) {
        // The new loop starts once the old one has finished (and recorded) a request in flight.
        old.soft.abort();
        loops.delete(id);
        if ((await enabledEndpointIds(db)).includes(id)) startLoop(id, old.done);
        return;
      }
    }
    await reconcile();
  }

  return {
    async start() {
      if (running) return;
      running = true;
      await reconcile();
      poll = setInterval(
        () =>
          void reconcile().catch((err: unknown) => logger.warn({ err }, 'webhook endpoints could not be read; retried at the next poll')),
        opts.pollIntervalMs ?? POLL_INTERVAL_MS,
      );
      poll.unref();
    },
    async stop() {
      running = false;
      clearInterval(poll);
      const all = [...loops.values()];
      for (const loop of all) loop.hard.abort();
      await Promise.all(all.map((l) => l.done));
    },
    async wake(id) {
      // Detached: a wake from inside a write must not read endpoints or start loops in that transaction.
      await detached(() => wakeNow(id));
    },
    async checkUrl(url) {
      try {
        await checkTarget(parseTarget(url, guard), { ...guard, resolve });
      } catch (err) {
        if (err instanceof UnsafeTargetError) throw new AppError('BAD_REQUEST', `url: ${err.message}`);
        throw err;
      }
    },
    async sendTest(id) {
      const target = await deliveryTarget(db, key, id, now());
      if (!target) throw new AppError('NOT_FOUND', `No webhook endpoint ${id}`);
      const webhookId = `test_${randomUUID()}`;
      const body = JSON.stringify({
        type: WEBHOOK_TEST_EVENT_TYPE,
        timestamp: new Date().toISOString(),
        data: { endpointId: id, message: 'A test event from Parley' },
      });
      const result = await attempt(target.row.url, target.secrets, webhookId, body, AbortSignal.timeout(timeoutMs + 1000));
      return await recordDelivery(log, {
        endpointId: id,
        eventId: null,
        webhookId,
        eventType: WEBHOOK_TEST_EVENT_TYPE,
        attempt: 1,
        ...attemptRecord(result),
        at: now(),
      });
    },
  };
}
