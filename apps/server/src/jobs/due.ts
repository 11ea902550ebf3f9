import type { Logger } from 'pino';
import { isDbBusy } from '../db/client';

export interface DueScanner {
  start(): void;
  /** Stops the interval and waits for a pass in progress. */
  stop(): Promise<void>;
  /** One pass now (also what the interval runs); resolves when it is done. */
  runNow(): Promise<void>;
}

/**
 * Runs `pass(now())` at start and every `intervalMs`: the due-time scans (snoozes that fell due).
 * The due times live in the database, not in timers, so a restart — or a clock that moved while
 * the server was down — catches up at the first pass. A failing pass is logged and retried at the
 * next tick; passes never overlap.
 */
export function createDueScanner(opts: {
  name: string;
  intervalMs: number;
  now: () => number;
  logger: Logger;
  pass: (now: number) => void | Promise<void>;
}): DueScanner {
  let timer: ReturnType<typeof setInterval> | undefined;
  let running: Promise<void> | null = null;
  let stopped = false;
  const runNow = () =>
    (running ??= (async () => {
      // Yield first: `running` must be set before the pass ends and clears it.
      await Promise.resolve();
      try {
        if (!stopped) await opts.pass(opts.now());
      } catch (err) {
        if (isDbBusy(err)) opts.logger.warn({ job: opts.name }, 'database busy: due scan retried at the next tick');
        else opts.logger.error({ err, job: opts.name }, 'due scan failed; retried at the next tick');
      } finally {
        running = null;
      }
    })());
  return {
    start() {
      stopped = false;
      void runNow();
      timer = setInterval(() => void runNow(), opts.intervalMs);
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
