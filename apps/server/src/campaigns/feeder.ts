import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ProviderName } from '@parley/shared';
import { detached } from '../db/store';
import type { Db } from '../db/client';
import type { EventLog } from '../events/log';
import {
  appendCampaignProgress,
  feedCampaign,
  finishCampaignIfDone,
  queuedCampaignMessages,
  releaseHeldRecipients,
  runningCampaigns,
} from '../domain/campaign-feed';

export interface CampaignFeederOptions {
  db: Db;
  log: EventLog;
  logger: Logger;
  /** Send rate of a provider's queue (SEND_RATE_PER_SECOND): sizes the window of a campaign's messages kept in the outbox. */
  rateFor(provider: ProviderName): number;
  /** Something was queued: the outbox should look now. */
  wakeOutbox(): void;
  /** The clock quiet hours are judged by (epoch ms; tests inject one). Default Date.now. */
  now?: () => number;
  /** Between steps while a campaign runs (default 200 ms). */
  tickMs?: number;
  /** Between looks when no campaign runs (default 1000 ms); wake() cuts it short. */
  idleMs?: number;
  /** At most one `campaign.progress` per campaign per this long while it changes (default 500 ms). */
  progressMs?: number;
  /** Most messages of one campaign queued at once; default: two seconds' worth at its provider's rate (20 to 1,000). */
  window?: number;
}

export interface CampaignFeeder {
  start(): Promise<void>;
  /** Stops feeding and publishing progress; waits for the step in progress. */
  stop(): Promise<void>;
  /** A campaign was created or resumed: look now. */
  wake(): void;
}

/** Recipients queued per transaction (each is a message, an outbox row and two events). */
const BATCH = 100;
/** Longest the feeder holds the event loop before yielding. */
const SLICE_MS = 20;

/**
 * Feeds running campaigns into the shared outbox a window at a time, so a 100,000-recipient campaign
 * is never 100,000 queued messages: the outbox holds at most `window` of a campaign's rows (sent at
 * campaign priority, after agents' replies), and pause/cancel have little to unwind. A campaign with
 * nothing pending and nothing queued is marked done.
 *
 * It also coalesces progress: message events of a campaign mark it dirty, and each dirty campaign
 * gets one `campaign.progress` (counts from two grouped index scans) per `progressMs` at most.
 */
export function createCampaignFeeder(opts: CampaignFeederOptions): CampaignFeeder {
  const { db, log, logger } = opts;
  const tickMs = opts.tickMs ?? 200;
  const idleMs = opts.idleMs ?? 1000;
  const progressMs = opts.progressMs ?? 500;
  const clock = opts.now ?? Date.now;
  const windowOf = (provider: ProviderName) => opts.window ?? Math.min(Math.max(Math.ceil(opts.rateFor(provider) * 2), 20), 1000);
  const dirty = new Set<number>();
  let running = false;
  let abort = new AbortController();
  let feedTimer: NodeJS.Timeout | undefined;
  let progressTimer: NodeJS.Timeout | undefined;
  let feeding: Promise<void> | undefined;
  let again = false;
  let following: Promise<void> | undefined;

  /** One pass over the running campaigns; true when any is running. */
  async function feedAll(): Promise<boolean> {
    const campaigns = await runningCampaigns(db);
    for (const { id, provider } of campaigns) {
      if (!running) break;
      const now = clock();
      // Recipients held for quiet hours whose window opened go back in line (a held row never stalls the rest).
      if ((await releaseHeldRecipients({ log, id, now })) > 0) dirty.add(id);
      let room = windowOf(provider) - (await queuedCampaignMessages(db, id));
      let fed = 0;
      let slice = performance.now();
      while (running && room > 0) {
        const step = await feedCampaign({ log, id, max: Math.min(room, BATCH), now });
        const handled = step.queued + step.skipped;
        if (step.queued > 0) opts.wakeOutbox();
        if (handled + step.held > 0) dirty.add(id);
        fed += handled + step.held;
        // Held recipients take no room in the outbox: the next ones in line are looked at now.
        room -= handled;
        if (!step.more || handled + step.held === 0) break;
        if (performance.now() - slice > SLICE_MS) {
          await yieldToLoop();
          slice = performance.now();
        }
      }
      if (running && fed === 0 && (await finishCampaignIfDone({ log, id }))) {
        logger.info({ campaignId: id }, 'campaign done');
      }
    }
    return campaigns.length > 0;
  }

  function scheduleFeed(ms: number): void {
    clearTimeout(feedTimer);
    if (running) feedTimer = setTimeout(wake, ms);
  }

  function wake(): void {
    if (!running) return;
    if (feeding) {
      again = true;
      return;
    }
    // Detached: a wake from inside a write must not run the feed in that transaction.
    feeding = detached(() =>
      (async () => {
        let busy = false;
        do {
          again = false;
          try {
            busy = await feedAll();
          } catch (err) {
            logger.error({ err }, 'campaign feeder: step failed');
            busy = false;
          }
        } while (again && running);
        scheduleFeed(busy ? tickMs : idleMs);
      })().finally(() => {
        feeding = undefined;
      }),
    );
  }

  async function publishProgress(): Promise<void> {
    if (!running) return;
    const started = performance.now();
    for (const id of [...dirty]) {
      dirty.delete(id);
      try {
        await appendCampaignProgress({ log, id });
      } catch (err) {
        logger.error({ err, campaignId: id }, 'campaign feeder: progress failed');
      }
    }
    // A slow count (a huge campaign on a busy disk) spaces the updates out rather than eating the loop.
    const spent = performance.now() - started;
    progressTimer = setTimeout(() => void publishProgress(), Math.max(progressMs, spent * 10));
  }

  /** Campaign message events (status webhooks, sends, recoveries) mark their campaign dirty. */
  async function follow(signal: AbortSignal): Promise<void> {
    for await (const event of log.subscribe(null, signal)) {
      if (event.type !== 'message.created' && event.type !== 'message.status') continue;
      const id = event.payload.message.campaignId;
      if (id !== null) dirty.add(id);
    }
  }

  return {
    async start() {
      if (running) return;
      running = true;
      abort = new AbortController();
      following = follow(abort.signal).catch((err: unknown) => logger.error({ err }, 'campaign feeder: event follow failed'));
      for (const { id } of await runningCampaigns(db)) dirty.add(id);
      progressTimer = setTimeout(() => void publishProgress(), progressMs);
      wake();
    },
    async stop() {
      running = false;
      abort.abort();
      clearTimeout(feedTimer);
      clearTimeout(progressTimer);
      await feeding;
      await following;
    },
    wake,
  };
}
