/**
 * The daily retention job. Durable: its last run is stored (job_runs), so a start runs it at once
 * when a day has passed (or it never ran), and a check every hour runs it when it falls due. Each
 * run deletes in batches of RETENTION_BATCH (100) messages, one transaction each, yielding to the event loop
 * between them (webhooks and API calls wait at most one batch). Off while `retentionDays` is null.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client';
import { isDbBusy } from '../db/client';
import { jobRuns } from '../db/tables';
import type { EventLog } from '../events/log';
import { deleteExpiredBatch } from '../domain/retention';
import { getSettings } from '../domain/settings';

export const RETENTION_JOB = 'retention';
const DAY_MS = 86_400_000;

export interface RetentionResult {
  deleted: number;
  batches: number;
  /** The longest batch (one transaction: the longest anything else waited for it), in ms. */
  longestBatchMs: number;
  /** The median batch, in ms. */
  medianBatchMs: number;
  retentionDays: number;
  cutoff: string;
}

export interface RetentionJob {
  start(): Promise<void>;
  /** Stops the schedule and the run in progress (after its current batch). */
  stop(): Promise<void>;
  /** Runs now if retention is on (whether due or not); null when off or stopped. */
  runNow(): Promise<RetentionResult | null>;
}

export function createRetentionJob(opts: {
  db: Db;
  log: EventLog;
  logger: Logger;
  now?: () => number;
  checkIntervalMs?: number;
  everyMs?: number;
  /** Deletes an attachment's file (the media store) once its row is gone. */
  removeMedia?: (key: string) => Promise<void>;
}): RetentionJob {
  const { db, log, logger } = opts;
  const clock = opts.now ?? Date.now;
  const everyMs = opts.everyMs ?? DAY_MS;
  let timer: ReturnType<typeof setInterval> | undefined;
  let running: Promise<RetentionResult | null> | null = null;
  let stopped = true;

  const lastRun = async () => (await db.select().from(jobRuns).where(eq(jobRuns.name, RETENTION_JOB)))[0]?.lastRunAt ?? null;

  async function run(): Promise<RetentionResult | null> {
    const days = (await getSettings(db)).retentionDays;
    if (days === null || stopped) return null;
    const startedAt = clock();
    const cutoff = startedAt - days * DAY_MS;
    const result: RetentionResult = {
      deleted: 0,
      batches: 0,
      longestBatchMs: 0,
      medianBatchMs: 0,
      retentionDays: days,
      cutoff: new Date(cutoff).toISOString(),
    };
    let after: number | null = 0;
    const spans: number[] = [];
    while (after !== null && !stopped) {
      const t0 = performance.now();
      const batch = await deleteExpiredBatch({ log, cutoff, after });
      const span = performance.now() - t0;
      spans.push(span);
      result.longestBatchMs = Math.max(result.longestBatchMs, span);
      result.batches += 1;
      result.deleted += batch.deleted;
      after = batch.next;
      for (const key of batch.mediaKeys) {
        await opts.removeMedia?.(key).catch((err: unknown) => logger.error({ err }, 'retention: an attachment file could not be deleted'));
      }
      await yieldToLoop();
    }
    spans.sort((a, b) => a - b);
    result.medianBatchMs = spans[Math.floor(spans.length / 2)] ?? 0;
    if (stopped) return result;
    await db
      .insert(jobRuns)
      .values({ name: RETENTION_JOB, lastRunAt: startedAt, result: JSON.stringify(result) })
      .onConflictDoUpdate({ target: jobRuns.name, set: { lastRunAt: startedAt, result: JSON.stringify(result) } });
    logger.info({ job: RETENTION_JOB, ...result }, 'retention: old messages deleted');
    return result;
  }

  const runNow = () =>
    (running ??= run()
      .catch((err: unknown) => {
        if (isDbBusy(err)) logger.warn({ job: RETENTION_JOB }, 'database busy: retention retried at the next check');
        else logger.error({ err, job: RETENTION_JOB }, 'retention failed; retried at the next check');
        return null;
      })
      .finally(() => (running = null)));

  const runIfDue = async () => {
    const last = await lastRun();
    if (last === null || clock() - last >= everyMs) void runNow();
  };

  return {
    async start() {
      stopped = false;
      await runIfDue();
      timer = setInterval(
        () =>
          void runIfDue().catch((err: unknown) => logger.warn({ err }, 'retention: could not read when it last ran; checked again later')),
        opts.checkIntervalMs ?? 3_600_000,
      );
      timer.unref();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
    runNow,
  };
}
