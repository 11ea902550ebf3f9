import type { Logger } from 'pino';
import type { Config } from '../config';
import type { EventLog } from './log';

export interface EventCompaction {
  /** One compaction now (never two at once); resolves with the rows removed (0 when it failed). */
  run(): Promise<number>;
  /** No more runs; waits for one under way. */
  stop(): Promise<void>;
}

/** Old events go, a chunk at a time, behind the oldest cursor an open stream still needs: every EVENTS_COMPACT_INTERVAL_MS. */
export function startEventCompaction(events: EventLog, config: Config, logger: Logger): EventCompaction {
  const retention = { keepCount: config.live.eventsRetentionCount, maxAgeMs: config.live.eventsRetentionDays * 86_400_000 };
  let compacting: Promise<number> | null = null;
  const run = () =>
    (compacting ??= events
      .compact(retention)
      .catch((err: unknown) => {
        logger.warn({ err }, 'event compaction failed; retried at the next interval');
        return 0;
      })
      .finally(() => (compacting = null)));
  const timer = setInterval(() => void run(), config.live.eventsCompactIntervalMs);
  timer.unref();
  return {
    run,
    async stop() {
      clearInterval(timer);
      await compacting;
    },
  };
}
