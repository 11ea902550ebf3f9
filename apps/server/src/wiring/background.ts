/**
 * The background jobs, started in order: outbox (after its crash recovery), media downloads,
 * campaigns, due scans (snoozes, scheduled sends), outbound webhooks, retention, event compaction.
 * A new job is started here and pushed onto `jobs`; close() stops them in reverse order.
 */
import { sendRateOf } from '../config';
import { startEventCompaction } from '../events/compaction';
import { createOutboxWorker, type OutboxWorker } from '../outbox/worker';
import { combineWorkers } from '../outbox/combine';
import { createCampaignFeeder, type CampaignFeeder } from '../campaigns/feeder';
import { createDueScanner } from '../jobs/due';
import { createRetentionJob } from '../jobs/retention';
import { createWebhookWorker, type WebhookWorker } from '../integrations/webhook-worker';
import { wakeDueSnoozes } from '../domain/conversation';
import { releaseDueScheduled } from '../domain/send-later';
import type { MediaFetcher } from '../media/fetcher';
import { removeStaleUploads } from '../domain/uploads';
import type { ServerOptions } from '../server';
import type { PgStore } from '../db/pg/pg-store';
import type { Core } from './core';
import type { MediaFor } from './media';
import { startMediaFetcher } from './media';
import type { Providers } from './providers';
import { createLeadership } from './leadership';
import { outboxStats } from '../domain/outbox';

/** How often unattached uploads past their day are looked for. */
const UPLOAD_SWEEP_MS = 15 * 60_000;

/** A background job: started when created, stopped (in reverse order of creation) by close(). */
export interface Job {
  stop(): Promise<void> | void;
}

export interface Background {
  /** Null when started with `{ worker: false }` (then no campaigns or scheduled sends either). */
  outbox: OutboxWorker | null;
  campaigns: CampaignFeeder | null;
  fetcher: MediaFetcher;
  webhooks: WebhookWorker;
  compactEvents: () => Promise<number>;
  /** Every started job, in order of start. */
  jobs: Job[];
}

/**
 * Starts every job; if one fails to start, the ones already started are stopped and the error stands.
 * PostgreSQL: only while this instance holds the background lease (wiring/leadership.ts).
 */
export async function startBackground(core: Core, providers: Providers, mediaFor: MediaFor, options: ServerOptions): Promise<Background> {
  if (core.db.$store.dialect === 'pg') return startLed(core, providers, mediaFor, options);
  return startEverything(core, providers, mediaFor, options);
}

/**
 * Several instances: the jobs run on the lease holder only, started when it gains the lease (the
 * outbox's crash recovery then marks the previous holder's sends in flight interrupted) and stopped
 * when it loses it. Every instance answers for them: wakes reach the holder's jobs (here, or through
 * NOTIFY on another instance), stats read the database, webhook URL checks and test sends run here.
 */
async function startLed(core: Core, providers: Providers, mediaFor: MediaFor, options: ServerOptions): Promise<Background> {
  const { db, events, config, logger } = core;
  let current: Background | null = null;
  const leadership = createLeadership({ db, leaseMs: config.leaderLeaseMs, logger: logger.child({ component: 'leadership' }) });
  const stopCurrent = async () => {
    const was = current;
    current = null;
    for (const job of [...(was?.jobs ?? [])].reverse()) await job.stop();
  };
  const here = createWebhookWorker({ db, log: events, config, logger: logger.child({ component: 'webhooks' }), ...options.webhooks });
  // A job asked to look again: here when this instance holds the lease, else on the holder (NOTIFY).
  // The fetcher and the webhook loops follow the event log as well; the outbox and the feeder poll.
  const wakeHere = (job: string | null) => {
    if (job === null || job === 'outbox') current?.outbox?.wake();
    if (job === null || job === 'campaigns') current?.campaigns?.wake();
    if (job === null || job === 'fetcher') current?.fetcher.wake();
    if (job === null) void current?.webhooks.wake();
    else if (job.startsWith('webhooks:')) void current?.webhooks.wake(Number(job.slice('webhooks:'.length)) || undefined);
  };
  const store = db.$store as PgStore;
  const wake = (job: string) => (current ? wakeHere(job) : store.wake(job));
  core.outboxBell.answer(() => wake('outbox'));
  core.wakes.answer(wakeHere);
  await leadership.start({
    onGain: async () => {
      current = await startEverything(core, providers, mediaFor, options);
    },
    onLose: stopCurrent,
  });
  const noop = async () => {};
  const outbox: OutboxWorker | null =
    options.worker === false
      ? null
      : {
          start: noop,
          stop: noop,
          wake: () => wake('outbox'),
          stats: async () => (await current?.outbox?.stats()) ?? { ...(await outboxStats({ db })), inFlight: 0, state: 'standby' },
        };
  return {
    outbox,
    campaigns: outbox ? { start: noop, stop: noop, wake: () => wake('campaigns') } : null,
    fetcher: { start: () => undefined, stop: noop, wake: () => wake('fetcher'), idle: async () => await current?.fetcher.idle() },
    webhooks: {
      start: noop,
      stop: noop,
      wake: async (id) => (current ? await current.webhooks.wake(id) : store.wake(id === undefined ? 'webhooks:' : `webhooks:${id}`)),
      checkUrl: (url) => here.checkUrl(url),
      sendTest: (id) => here.sendTest(id),
    },
    compactEvents: async () => (current ? await current.compactEvents() : 0),
    jobs: [{ stop: () => leadership.stop() }],
  };
}

async function startEverything(core: Core, providers: Providers, mediaFor: MediaFor, options: ServerOptions): Promise<Background> {
  const jobs: Job[] = [];
  const started = <T extends Job>(job: T): T => {
    jobs.push(job);
    return job;
  };
  try {
    return await startAll(core, providers, mediaFor, options, started, jobs);
  } catch (err) {
    for (const job of [...jobs].reverse()) await job.stop();
    throw err;
  }
}

async function startAll(
  core: Core,
  providers: Providers,
  mediaFor: MediaFor,
  options: ServerOptions,
  started: <T extends Job>(job: T) => T,
  jobs: Job[],
): Promise<Background> {
  const { config, db, events, logger, clock: now } = core;
  const outbox = options.worker === false ? null : started(await startOutbox(core, providers, mediaFor));
  if (outbox && core.db.$store.dialect === 'sqlite') core.outboxBell.answer(() => outbox.wake());
  const fetcher = started(startMediaFetcher(core, providers.wired));
  // Campaigns feed the outbox a window at a time (after its crash recovery above).
  const campaigns = outbox
    ? started(
        createCampaignFeeder({
          db,
          log: events,
          logger: logger.child({ component: 'campaigns' }),
          rateFor: (name) => sendRateOf(config, name),
          wakeOutbox: () => outbox.wake(),
          now,
        }),
      )
    : null;
  await campaigns?.start();
  // Snoozed conversations whose time came reopen; scheduled sends whose time came go into the
  // outbox (opt-out checked then). Scans of the database, so a restart catches up at once.
  const intervalMs = config.dueScanIntervalMs;
  started(
    createDueScanner({ name: 'snooze', intervalMs, now, logger, pass: (at) => void wakeDueSnoozes({ log: events, now: at }) }),
  ).start();
  // Outbound webhooks: one loop per endpoint, following the event log from its durable cursor.
  const webhooks = started(
    createWebhookWorker({ db, log: events, config, logger: logger.child({ component: 'webhooks' }), ...options.webhooks }),
  );
  await webhooks.start();
  // Retention (settings.retentionDays): daily, durable, in small batches.
  await started(createRetentionJob({ db, log: events, logger, now, removeMedia: (key) => core.media.store.remove(key) })).start();
  if (outbox) {
    const pass = async (at: number) => {
      if ((await releaseDueScheduled({ log: events, now: at })) > 0) outbox.wake();
    };
    started(createDueScanner({ name: 'scheduled-sends', intervalMs, now, logger, pass })).start();
  }
  // Uploads never attached to a message: removed a day after upload (rows, then files).
  const sweep = async (at: number) => {
    const keys = await removeStaleUploads(db, at);
    Promise.all(keys.map((key) => core.media.store.remove(key))).catch((err: unknown) =>
      logger.warn({ err }, 'stale uploads: a file could not be removed'),
    );
  };
  started(createDueScanner({ name: 'stale-uploads', intervalMs: UPLOAD_SWEEP_MS, now, logger, pass: sweep })).start();
  const compaction = started(startEventCompaction(events, config, logger));
  return { outbox, campaigns, fetcher, webhooks, compactEvents: compaction.run, jobs };
}

/** One outbox worker per provider (each at its own rate), started, driven as one. */
async function startOutbox(core: Core, providers: Providers, mediaFor: MediaFor): Promise<OutboxWorker> {
  const outbox = combineWorkers(
    [...providers.senders].map(([name, provider]) =>
      createOutboxWorker({
        db: core.db,
        log: core.events,
        provider,
        mediaFor,
        queue: name,
        ratePerSecond: sendRateOf(core.config, name),
        logger: core.logger.child({ outbox: name }),
        metrics: { onSend: (ms, outcome) => core.metrics.providerSend(name, ms, outcome) },
      }),
    ),
  );
  await outbox.start();
  return outbox;
}
