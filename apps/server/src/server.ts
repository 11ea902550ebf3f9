import { fileURLToPath } from 'node:url';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DestinationStream, Logger } from 'pino';
import type { ProviderName } from '@parley/shared';
import { configuredNumbers, sendRateOf, type Config } from './config';
import { openDb, type Db } from './db/client';
import { createCredentialWatch } from './auth/credential-watch';
import { ensureFirstAdmin, type FirstAdminResult } from './auth/bootstrap';
import { createLoginRateLimiter } from './auth/rate-limit';
import { createApiRateLimiter } from './auth/api-rate-limit';
import { createHashGate } from './auth/hash-gate';
import { EventLog } from './events/log';
import { startEventCompaction } from './events/compaction';
import { createApp, finishApp } from './http/app';
import { healthHandler } from './http/health';
import { createMetrics, type Metrics } from './http/metrics';
import { createLogger } from './logger';
import { resolveSignatureSecret } from './secrets';
import { createOutboxWorker, type OutboxWorker } from './outbox/worker';
import { combineWorkers } from './outbox/combine';
import { createCampaignFeeder } from './campaigns/feeder';
import { createDueScanner } from './jobs/due';
import { createRetentionJob } from './jobs/retention';
import { createWebhookWorker, type WebhookWorkerOptions } from './integrations/webhook-worker';
import { wakeDueSnoozes } from './domain/conversation';
import { releaseDueScheduled } from './domain/send';
import type { SmsProvider } from './providers/types';
import type { WebhookCore, WiredProvider } from './providers/adapter';
import { PROVIDERS } from './providers/registry';
import { createNonceStore } from './webhooks/nonces';
import { createWebhookLog } from './domain/webhook-log';
import { countNeedingReview } from './domain/webhook-review';
import { createWebhookReplayer, type WebhookReplay } from './webhooks/replay';
import { attachTrpc } from './trpc/attach';
import { PresenceHub } from './presence/hub';
import { createNumberRegistry, type NumberRegistry } from './numbers';
import { createMediaStore, resolveMediaDir, type MediaStore } from './media/store';
import { createMediaFetcher, type MediaFetcher } from './media/fetcher';
import { mediaRouter } from './media/routes';
import { signedMediaPath } from './media/links';
import { createSandboxMediaHost, type SandboxMediaHost } from './media/sandbox-host';
import { samplePicture } from './media/sample';
import { mediaUrlRefusal } from './media/url-guard';
import { storedMediaOf } from './domain/media';
import { mmsRefusal } from './providers/mms';
import { keptSecret } from './secrets';
import type { SimulateInboundInput } from './trpc/context';

export { logUrl } from './http/app';

export interface ServerOptions {
  /** Use this provider for Vonage numbers instead of the one config names (tests). */
  provider?: SmsProvider;
  /** Use these providers instead of the configured ones (tests). */
  providers?: Partial<Record<ProviderName, SmsProvider>>;
  /** false: no outbox worker (tests that drive their own). Default true. */
  worker?: boolean;
  /** Serve the web app from here instead of apps/web/dist (tests). */
  webDistDir?: string;
  /** Write the log here instead of stdout (tests). */
  logDestination?: DestinationStream;
  /** The clock (epoch ms) for due times — snoozes, scheduled sends (tests move it). Default Date.now. */
  now?: () => number;
  /** Outbound webhooks: name resolution, HTTP exchange, retry delays, timeout, clock (tests). */
  webhooks?: Partial<Omit<WebhookWorkerOptions, 'db' | 'log' | 'config' | 'logger'>>;
}

export interface ParleyServer {
  url: string;
  port: number;
  config: Config;
  db: Db;
  events: EventLog;
  logger: Logger;
  /** The secret webhooks are verified with (the sandbox signs with it too). */
  signatureSecret: string;
  /** The default number's provider (Vonage's sandbox in sandbox mode). */
  provider: SmsProvider;
  /** Every configured provider's sender. */
  providers: Map<ProviderName, SmsProvider>;
  /** Our numbers, each on its provider. */
  numbers: NumberRegistry;
  /** The outbox workers (one per provider) as one, or null when started with `{ worker: false }`. */
  outbox: OutboxWorker | null;
  /** Whether this start created the first admin (and its generated password, if it made one up). */
  firstAdmin: FirstAdminResult;
  /**
   * Drains and stops: /healthz answers 503, no new connections or upgrades, in-flight requests
   * finish; after SHUTDOWN_GRACE_MS (at once when nothing is left open) subscriptions end and the
   * remaining connections are closed; then the feeder and outbox stop and the database closes —
   * always, even if a step fails. Idempotent.
   */
  close(): Promise<void>;
  /** One compaction of the event log now (it also runs every EVENTS_COMPACT_INTERVAL_MS). */
  compactEvents(): Promise<number>;
  /** MMS attachments: the store (MEDIA_DIR) and the downloader of inbound ones. */
  media: { store: MediaStore; fetcher: MediaFetcher; signingSecret: string };
}

/** A background job: started when created, stopped (in reverse order of creation) by close(). */
interface Background {
  stop(): Promise<void> | void;
}

/**
 * The composition root: core → listen → providers → background jobs → HTTP → ready. Nothing is
 * bound late: the socket is bound first (so every part is built knowing our URL) and requests are
 * handled only once everything is wired (all synchronous after listen, so none arrives in between).
 */
export async function createServer(config: Config, options: ServerOptions = {}): Promise<ParleyServer> {
  // ---- Core: log, database, event log, credentials, presence, our numbers ----
  const logger = createLogger(config.logLevel, options.logDestination);
  const db = openDb(config.databasePath, { busyTimeoutMs: config.live.dbBusyTimeoutMs, suppressionSecret: config.suppressionSecret });
  const events = new EventLog(db);
  const credentials = createCredentialWatch({ intervalMs: config.live.credentialRecheckMs });
  const presence = new PresenceHub({ ttlMs: config.presenceTtlMs });
  const shutdown = new AbortController();
  const clock = options.now ?? Date.now;
  const state = { draining: false };
  const numbers = createNumberRegistry(configuredNumbers(config));
  // One bounded refusal log for every webhook route (per-source rate, size caps and retention shared).
  const webhookLog = createWebhookLog(db, config.webhookLog);
  const signatureSecret = resolveSignatureSecret(config);
  const firstAdmin = await ensureFirstAdmin({ db, config, logger });
  const mediaStore = createMediaStore(resolveMediaDir(config));
  const mediaSecret = config.media.signingSecret ?? keptSecret(config, 'media-signing-secret');
  const server: Server = createHttpServer();
  const background: Background[] = [];
  try {
    const url = await listen(server, config);
    // Read at scrape time only (after start): the outbox and the tRPC attachment below.
    const metrics: Metrics = createMetrics({
      events: () => ({ appended: events.stats.appended, subscribers: trpc.subscriberCount() }),
      outbox: () => outbox?.stats() ?? null,
      refusalsNeedingReview: () => countNeedingReview(db),
    });

    // ---- Providers: every wired adapter's routes and sender (providers/registry.ts) ----
    const wired = wireProviders(config, options, {
      logger,
      url,
      signatureSecret,
      webhooks: {
        db,
        log: events,
        logger,
        helpText: config.helpText,
        maxBodyBytes: config.webhookMaxBodyBytes,
        nonces: createNonceStore(db),
        webhookLog,
        numbers,
        autoReplyWindowMs: config.autoReplyWindowMs,
        onlineAgentIds: () => presence.list().map((p) => p.agentId),
        onQueued: () => outbox?.wake(),
        onOutcome: (path, outcome) => metrics.webhook(path, outcome),
      },
    });
    const providers = new Map(wired.flatMap((w): [ProviderName, SmsProvider][] => (w.sender ? [[w.name, w.sender]] : [])));
    // Replaying webhook_log: each wired provider's own handler, with today's secrets.
    const webhookReplayer = createWebhookReplayer({
      db,
      log: events,
      logger: logger.child({ component: 'webhook-replay' }),
      replays: new Map(wired.flatMap((w): [ProviderName, WebhookReplay][] => (w.replay ? [[w.name, w.replay]] : []))),
    });
    const provider = providers.get(numbers.defaultNumber().provider) ?? [...providers.values()][0];
    if (!provider) throw new Error('no provider is configured');

    // MMS: where providers fetch an outbound attachment (a signed, expiring link): PUBLIC_URL live, our own URL in the sandbox.
    const mediaBase = (config.provider === 'sandbox' ? url : (config.publicUrl ?? '')).replace(/\/+$/, '');
    const mediaFor = (messageId: number) =>
      storedMediaOf(db, messageId).map((row) => ({
        url: `${mediaBase}${signedMediaPath(mediaSecret, row.id, config.media.linkTtlSeconds)}`,
        contentType: row.contentType ?? 'application/octet-stream',
      }));

    // ---- Background jobs: created (started) here in order; close() stops them in reverse. ----
    // A new worker (scheduler, retention job, …) is created here and pushed onto `background`.
    const outbox = options.worker === false ? null : startOutbox(config, db, events, logger, metrics, providers, mediaFor);
    // Inbound attachments are downloaded after their message was committed (never in the webhook).
    const mediaAuth = new Map(wired.flatMap((w) => (w.mediaAuth ? [[w.name, w.mediaAuth] as const] : [])));
    const fetcher = createMediaFetcher({
      db,
      log: events,
      store: mediaStore,
      logger: logger.child({ component: 'media' }),
      config: config.media,
      authFor: (p) => (p === null ? undefined : mediaAuth.get(p)),
      guard: (u) => mediaUrlRefusal(u, { live: config.provider !== 'sandbox' }),
    });
    fetcher.start();
    background.push(fetcher);
    if (outbox) background.push(outbox);
    // Campaigns feed the outbox a window at a time (after its crash recovery above).
    const campaigns = outbox
      ? createCampaignFeeder({
          db,
          log: events,
          logger: logger.child({ component: 'campaigns' }),
          rateFor: (name) => sendRateOf(config, name),
          wakeOutbox: () => outbox.wake(),
          now: clock,
        })
      : null;
    if (campaigns) background.push(campaigns);
    campaigns?.start();
    // Snoozed conversations whose time came reopen; scheduled sends whose time came go into the
    // outbox (opt-out checked then). Scans of the database, so a restart catches up at once.
    const snoozes = createDueScanner({
      name: 'snooze',
      intervalMs: config.dueScanIntervalMs,
      now: clock,
      logger,
      pass: (now) => void wakeDueSnoozes({ log: events, now }),
    });
    background.push(snoozes);
    snoozes.start();
    // Outbound webhooks: one loop per endpoint, following the event log from its durable cursor.
    const webhooks = createWebhookWorker({ db, log: events, config, logger: logger.child({ component: 'webhooks' }), ...options.webhooks });
    background.push(webhooks);
    webhooks.start();
    // Retention (settings.retentionDays): daily, durable, in small batches.
    const retentionJob = createRetentionJob({ db, log: events, logger, now: clock, removeMedia: (key) => mediaStore.remove(key) });
    background.push(retentionJob);
    retentionJob.start();
    if (outbox) {
      const scheduled = createDueScanner({
        name: 'scheduled-sends',
        intervalMs: config.dueScanIntervalMs,
        now: clock,
        logger,
        pass: (now) => {
          if (releaseDueScheduled({ log: events, now }) > 0) outbox.wake();
        },
      });
      background.push(scheduled);
      scheduled.start();
    }
    const compaction = startEventCompaction(events, config, logger);
    background.push(compaction);

    // ---- HTTP: outer layers, health and metrics, provider webhooks, tRPC, web app, last handlers ----
    const app = createApp(config, logger, () => state.draining);
    app.get('/healthz', (_req, res, next) => {
      if (state.draining) res.status(503).json({ status: 'draining' });
      else next();
    });
    app.get(
      '/healthz',
      healthHandler(db, () => ({ outbox: outbox?.stats() ?? { state: 'disabled' }, webhookLog: webhookLog.stats() }), {
        databasePath: config.databasePath,
        minFreeBytes: config.healthMinFreeBytes,
        probeIntervalMs: config.healthProbeIntervalMs,
      }),
    );
    app.get('/metrics', (req, res) => metrics.handler(req, res));
    for (const w of wired) if (w.router) app.use(w.mount, w.router);
    app.use(
      mediaRouter({
        db,
        store: mediaStore,
        logger,
        maxBytes: config.media.maxBytes,
        signingSecret: mediaSecret,
        publicUrl: config.publicUrl,
      }),
    );
    const sandboxMedia = config.provider === 'sandbox' ? createSandboxMediaHost(url) : null;
    if (sandboxMedia) app.use(sandboxMedia.router);
    const trpc = attachTrpc({
      app,
      server,
      deps: {
        db,
        log: events,
        config,
        logger,
        credentials,
        shutdown: shutdown.signal,
        presence,
        numbers,
        now: clock,
        mediaStore,
        loginLimiter: createLoginRateLimiter({ maxFailures: config.login.maxFailures, windowMs: config.login.windowSeconds * 1000 }),
        hashGate: createHashGate(config.passwordHash),
        apiLimiter: createApiRateLimiter(config.apiRateLimit),
        outbox: { wake: () => outbox?.wake() },
        campaigns: { wake: () => campaigns?.wake() },
        webhooks,
        webhookReplayer,
        mms: {
          refusal: (provider, from, to) =>
            config.provider !== 'sandbox' && !config.publicUrl
              ? 'MMS needs PUBLIC_URL: providers fetch the picture from a link Parley serves'
              : mmsRefusal(provider, from, to),
        },
        ...(sandboxMedia ? { simulateInbound: sandboxInbound(wired, numbers, sandboxMedia) } : {}),
      },
    });
    finishApp(app, options.webDistDir ?? fileURLToPath(new URL('../../web/dist', import.meta.url)), logger);
    server.on('request', app);

    const close = once(() =>
      drainAndClose({
        config,
        logger,
        server,
        trpc,
        shutdown,
        state,
        background,
        providers,
        stopCore: () => {
          credentials.close();
          presence.close();
          events.close();
          db.$client.close();
        },
      }),
    );
    return {
      url,
      port: (server.address() as AddressInfo).port,
      config,
      db,
      events,
      logger,
      signatureSecret,
      provider,
      providers,
      numbers,
      outbox,
      firstAdmin,
      close,
      compactEvents: compaction.run,
      media: { store: mediaStore, fetcher, signingSecret: mediaSecret },
    };
  } catch (err) {
    credentials.close();
    presence.close();
    return failedStart(err, background, server, db, events);
  }
}

/** Binds config.port (0: any) and answers our own URL. */
async function listen(server: Server, config: Config): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return `http://${config.host && config.host !== '0.0.0.0' ? config.host : '127.0.0.1'}:${port}`;
}

/** A start that failed after opening things: stop what started, release the port and the database, rethrow. */
async function failedStart(err: unknown, background: Background[], server: Server, db: Db, events: EventLog): Promise<never> {
  for (const job of [...background].reverse()) await job.stop();
  if (server.listening) await new Promise((resolve) => server.close(resolve));
  events.close();
  db.$client.close();
  throw err;
}

/** Every provider this configuration wires, in registry order (a test's given senders replace configured ones). */
function wireProviders(
  config: Config,
  options: ServerOptions,
  ctx: { logger: Logger; url: string; signatureSecret: string; webhooks: WebhookCore },
): WiredProvider[] {
  // Plivo signs the exact URL it called: behind a proxy that is PUBLIC_URL, never Host/protocol as seen here.
  // The sandbox stand-ins post to our own address, so in sandbox mode that is the URL they sign.
  const publicBase = (config.provider === 'sandbox' ? ctx.url : (config.publicUrl ?? ctx.url)).replace(/\/+$/, '');
  return PROVIDERS.filter((p) => p.wired(config)).map((p) =>
    p.wire({ ...ctx, config, publicBase, given: options.providers?.[p.name] ?? (p.name === 'vonage' ? options.provider : undefined) }),
  );
}

/** One outbox worker per provider (each at its own rate), started, driven as one. */
function startOutbox(
  config: Config,
  db: Db,
  events: EventLog,
  logger: Logger,
  metrics: Metrics,
  providers: Map<ProviderName, SmsProvider>,
  mediaFor: (messageId: number) => { url: string; contentType: string }[],
): OutboxWorker {
  const outbox = combineWorkers(
    [...providers].map(([name, p]) =>
      createOutboxWorker({
        db,
        log: events,
        provider: p,
        mediaFor,
        queue: name,
        ratePerSecond: sendRateOf(config, name),
        logger: logger.child({ outbox: name }),
        metrics: { onSend: (ms, outcome) => metrics.providerSend(name, ms, outcome) },
      }),
    ),
  );
  outbox.start();
  return outbox;
}

/** Sandbox: a simulated text goes through the webhook route of the provider its number is on (else Vonage's). */
function sandboxInbound(wired: WiredProvider[], numbers: NumberRegistry, host: SandboxMediaHost) {
  return (input: SimulateInboundInput): Promise<void> => {
    const ours = numbers.pick(input.to);
    const via = wired.find((w) => w.name === ours.provider && w.simulateInbound) ?? wired.find((w) => w.name === 'vonage');
    if (!via?.simulateInbound) return Promise.reject(new Error('no sandbox provider can simulate this inbound'));
    // MMS: the files are hosted like a provider's media storage; Parley downloads them from there.
    const media = [
      ...(input.media ?? []).map((m) => ({ url: host.host(Buffer.from(m.base64, 'base64'), m.contentType), contentType: m.contentType })),
      ...(input.sample ? [{ url: host.host(samplePicture(), 'image/png'), contentType: 'image/png' }] : []),
    ];
    return via.simulateInbound({ from: input.from, to: ours.number, text: input.text, ...(media.length > 0 ? { media } : {}) });
  };
}

/** Runs `fn` once; later calls get the same promise. */
function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}

/** The close() sequence documented on ParleyServer. */
async function drainAndClose(p: {
  config: Config;
  logger: Logger;
  server: Server;
  trpc: ReturnType<typeof attachTrpc>;
  shutdown: AbortController;
  state: { draining: boolean };
  background: Background[];
  providers: Map<ProviderName, SmsProvider>;
  stopCore: () => void;
}): Promise<void> {
  const { server, trpc } = p;
  p.state.draining = true;
  try {
    trpc.stopAccepting();
    // No new connections; idle keep-alive ones close now, busy ones finish their request.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    trpc.broadcastReconnect();
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, p.config.live.shutdownGraceMs)))]);
    clearTimeout(graceTimer);
    // Grace over: streams (WebSocket and HTTP) end, remaining connections are cut.
    p.shutdown.abort();
    await trpc.close();
    await new Promise((resolve) => setImmediate(resolve));
    server.closeAllConnections();
    await closed;
  } finally {
    try {
      // Background jobs in reverse order of creation (compaction, campaigns, outbox), then the senders.
      for (const job of [...p.background].reverse()) await job.stop();
      await Promise.all([...p.providers.values()].map((provider) => provider.close?.()));
    } finally {
      p.stopCore();
      p.logger.info('stopped: outbox stopped, database closed');
    }
  }
}
