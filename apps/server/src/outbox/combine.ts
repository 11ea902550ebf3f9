import type { OutboxWorker } from './worker';

/** One worker per provider, driven as one: start/stop/wake all, stats summed. */
export function combineWorkers(workers: OutboxWorker[]): OutboxWorker {
  return {
    start: async () => {
      await Promise.all(workers.map((w) => w.start()));
    },
    stop: async () => {
      await Promise.all(workers.map((w) => w.stop()));
    },
    wake: () => workers.forEach((w) => w.wake()),
    async stats() {
      const all = await Promise.all(workers.map((w) => w.stats()));
      const ages = all.map((s) => s.oldestQueuedAgeMs).filter((a): a is number => a !== null);
      return {
        depth: all.reduce((n, s) => n + s.depth, 0),
        oldestQueuedAgeMs: ages.length > 0 ? Math.max(...ages) : null,
        inFlight: all.reduce((n, s) => n + s.inFlight, 0),
        state: all.some((s) => s.state === 'running') ? 'running' : 'stopped',
      };
    },
  };
}
