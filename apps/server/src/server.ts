import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import compression from 'compression';
import { pinoHttp } from 'pino-http';
import type { DestinationStream, Logger } from 'pino';
import { configuredNumbers, sendRateOf, type Config } from './config';
import { isDbBusy, openDb, type Db } from './db/client';
import { createCredentialWatch } from './auth/credential-watch';
import { EventLog } from './events/log';
import { healthHandler } from './http/health';
import { serveWebApp } from './http/static';
import { createMetrics } from './http/metrics';
import { createLogger } from './logger';
import { keptSecret, resolveSignatureSecret } from './secrets';
import { createSignatureVerifier } from './webhooks/signature';
import { webhookErrorHandler, webhookRouter } from './webhooks/routes';
import { createOutboxWorker, type OutboxWorker } from './outbox/worker';
import { createCampaignFeeder, type CampaignFeeder } from './campaigns/feeder';
import { createDueScanner } from './jobs/due';
import { createRetentionJob } from './jobs/retention';
import { wakeDueSnoozes } from './domain/conversation';
import { releaseDueScheduled } from './domain/send';
import type { SmsProvider } from './providers/types';
import { createSandboxProvider } from './providers/sandbox';
import { createVonageProvider } from './providers/vonage';
import { createPlivoProvider } from './providers/plivo';
import { createPlivoSandbox } from './providers/plivo-sandbox';
import { createSinchProvider } from './providers/sinch';
import { createSinchSandbox } from './providers/sinch-sandbox';
import { plivoWebhookRouter } from './webhooks/plivo';
import { sinchWebhookRouter } from './webhooks/sinch';
import { createNonceStore } from './webhooks/nonces';
import { createWebhookLog } from './domain/webhook-log';
import { ensureFirstAdmin, type FirstAdminResult } from './auth/bootstrap';
import { createLoginRateLimiter } from './auth/rate-limit';
import { createApiRateLimiter } from './auth/api-rate-limit';
import { createHashGate } from './auth/hash-gate';
import { securityHeaders } from './http/security';
import { attachTrpc } from './trpc/attach';
import { PresenceHub } from './presence/hub';
import { createNumberRegistry, type NumberRegistry } from './numbers';
import { signVonageWebhook } from './webhooks/sign';
import { toVonageNumber, type ProviderName } from '@parley/shared';

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
  /** The clock (epoch ms) for due times — snoozes (tests move it). Default Date.now. */
  now?: () => number;
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
}

/** Builds everything Parley is made of — no module-level state — and listens on config.port. */
export async function createServer(config: Config, options: ServerOptions = {}): Promise<ParleyServer> {
  const logger = createLogger(config.logLevel, options.logDestination);
  const db = openDb(config.databasePath, { busyTimeoutMs: config.live.dbBusyTimeoutMs });
  const events = new EventLog(db);
  const credentials = createCredentialWatch({ intervalMs: config.live.credentialRecheckMs });
  const shutdown = new AbortController();
  const clock = options.now ?? Date.now;
  let draining = false;
  const signatureSecret = resolveSignatureSecret(config);
  const firstAdmin = await ensureFirstAdmin({ db, config, logger });
  const verifier = createSignatureVerifier({ secret: signatureSecret, maxAgeSeconds: config.webhookMaxAgeSeconds });
  const numbers = createNumberRegistry(configuredNumbers(config));
  const sandbox = config.provider === 'sandbox';
  // Sandbox: the stand-ins sign with secrets generated beside the database, verified by the real routes.
  const plivoToken = config.plivo.enabled ? (config.plivo.authToken ?? keptSecret(config, 'plivo-auth-token')) : undefined;
  const sinchSecret = config.sinch.enabled
    ? (config.sinch.webhookSecret ?? (sandbox ? keptSecret(config, 'sinch-webhook-secret') : undefined))
    : undefined;
  const nonces = createNonceStore(db);
  const presence = new PresenceHub({ ttlMs: config.presenceTtlMs });
  const onlineAgentIds = () => presence.list().map((p) => p.agentId);
  // One bounded refusal log for every webhook route (per-source rate, size caps and retention shared).
  const webhookLog = createWebhookLog(db, config.webhookLog);
  // Known once we listen (the sandbox stand-ins post to our own URL); closures below read them late.
  let url = '';
  let plivoSandbox: ReturnType<typeof createPlivoSandbox> | undefined;
  let sinchSandbox: ReturnType<typeof createSinchSandbox> | undefined;

  // A Vonage key that cannot be read stops the start before we listen; the sandbox needs our URL first.
  const earlyProvider =
    options.providers?.vonage ?? options.provider ?? (!sandbox && config.vonage.enabled ? createProvider(config, { url: '', signatureSecret, logger }) : undefined);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Whose X-Forwarded-For names the client (the login limiter keys on it): TRUST_PROXY, default loopback.
  app.set('trust proxy', config.trustProxy);
  app.use(securityHeaders(config));
  // GET answers compressed: web assets and query JSON (lists). Not streams (SSE, JSON lines: they must
  // flush per event), nor POST answers (mutations and webhook replies are small).
  app.use(
    compression({
      filter: (req, res) =>
        (req.method === 'GET' || req.method === 'HEAD') &&
        !/event-stream|jsonl/i.test(String(res.getHeader('Content-Type') ?? '')) &&
        compression.filter(req, res),
    }),
  );
  // Draining: every answer closes its connection, so keep-alive clients move elsewhere.
  app.use((_req, res, next) => {
    if (draining) res.setHeader('Connection', 'close');
    next();
  });
  app.use(
    pinoHttp({
      logger,
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' },
      // One lean line per request: method, url, status, time. Headers (and so secrets) stay out.
      serializers: {
        // tRPC: the procedure path only — a GET's `?input=` holds search terms and other user data.
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: logUrl(req.url) }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        err: (err: Error) => ({ message: err.message }),
      },
    }),
  );
  // The worker exists only once we listen (the sandbox posts to our own URL); these read it late.
  let outbox: OutboxWorker | null = null;
  let campaigns: CampaignFeeder | null = null;
  let metricsSubscribers = () => 0;
  const metrics = createMetrics({
    events: () => ({ appended: events.stats.appended, subscribers: metricsSubscribers() }),
    outbox: () => outbox?.stats() ?? null,
  });
  app.get('/healthz', (_req, res, next) => {
    if (draining) res.status(503).json({ status: 'draining' });
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
  const webhookDeps = {
    db,
    log: events,
    verifier,
    logger,
    maxBodyBytes: config.webhookMaxBodyBytes,
    helpText: config.helpText,
    webhookLog,
    numbers,
    autoReplyWindowMs: config.autoReplyWindowMs,
    onlineAgentIds,
    onQueued: () => outbox?.wake(),
    onOutcome: (kind: string, outcome: string) => metrics.webhook(`/webhooks/${kind}`, outcome),
  };
  // Plivo signs the exact URL it called: behind a proxy that is PUBLIC_URL, never Host/protocol as seen here.
  // The sandbox stand-ins post to our own address, so in sandbox mode that is the URL they sign.
  const publicBase = () => (sandbox ? url : (config.publicUrl ?? url)).replace(/\/+$/, '');
  const providerWebhookDeps = {
    db,
    log: events,
    logger,
    helpText: config.helpText,
    maxBodyBytes: config.webhookMaxBodyBytes,
    nonces,
    webhookLog,
    numbers,
    autoReplyWindowMs: config.autoReplyWindowMs,
    onlineAgentIds,
    onQueued: () => outbox?.wake(),
    onOutcome: (path: string, outcome: string) => metrics.webhook(path, outcome),
  };
  if (plivoToken !== undefined) {
    app.use(
      '/webhooks/plivo',
      plivoWebhookRouter({
        ...providerWebhookDeps,
        authToken: plivoToken,
        allowV2: config.plivo.allowV2,
        ...(config.plivo.mainAuthToken ? { mainAuthToken: config.plivo.mainAuthToken } : {}),
        publicUrl: publicBase,
      }),
    );
  }
  if (config.sinch.enabled) {
    if (sinchSecret === undefined) {
      logger.warn('Sinch callbacks are unauthenticated: ask Sinch to enable HMAC signing and set SINCH_WEBHOOK_SECRET (README)');
    }
    app.use('/webhooks/sinch', sinchWebhookRouter({ ...providerWebhookDeps, ...(sinchSecret ? { webhookSecret: sinchSecret } : {}) }));
  }
  app.use('/webhooks', webhookRouter(webhookDeps), webhookErrorHandler(webhookDeps));

  const server: Server = createHttpServer(app);
  const trpc = attachTrpc({
    app,
    server,
    deps: {
      db,
      log: events,
      config,
      logger,
      loginLimiter: createLoginRateLimiter({ maxFailures: config.login.maxFailures, windowMs: config.login.windowSeconds * 1000 }),
      hashGate: createHashGate(config.passwordHash),
      apiLimiter: createApiRateLimiter(config.apiRateLimit),
      credentials,
      shutdown: shutdown.signal,
      presence,
      now: clock,
      outbox: { wake: () => outbox?.wake() },
      campaigns: { wake: () => campaigns?.wake() },
      numbers,
      ...(sandbox
        ? {
            simulateInbound: (input: { from: string; to?: string; text: string }) => {
              const ours = numbers.pick(input.to);
              const message = { from: input.from, to: ours.number, text: input.text };
              if (ours.provider === 'plivo' && plivoSandbox) return plivoSandbox.simulateInbound(message);
              if (ours.provider === 'sinch' && sinchSandbox) return sinchSandbox.simulateInbound(message);
              return simulateInbound(url, signatureSecret, message);
            },
          }
        : {}),
    },
  });
  metricsSubscribers = () => trpc.subscriberCount();

  serveWebApp(app, options.webDistDir ?? fileURLToPath(new URL('../../web/dist', import.meta.url)));

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  app.use((err: unknown, req: express.Request, res: express.Response, _next: express.NextFunction) => {
    if (isDbBusy(err)) {
      // Another process holds the write lock: nothing was committed; providers retry a 503.
      logger.warn({ url: req.path }, 'database busy: answered 503');
      if (!res.headersSent) res.status(503).set('Retry-After', '5').json({ error: 'database busy, retry later' });
      return;
    }
    logger.error({ err }, 'unhandled error');
    if (!res.headersSent) res.status(500).json({ error: 'internal error' });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  url = `http://${config.host && config.host !== '0.0.0.0' ? config.host : '127.0.0.1'}:${port}`;

  const providers = new Map<ProviderName, SmsProvider>();
  if (config.vonage.enabled) providers.set('vonage', earlyProvider ?? createProvider(config, { url, signatureSecret, logger }));
  if (config.plivo.enabled && plivoToken !== undefined) {
    const given = options.providers?.plivo;
    if (given) providers.set('plivo', given);
    else if (sandbox) providers.set('plivo', (plivoSandbox = createPlivoSandbox({ baseUrl: () => url, authToken: plivoToken, logger: logger.child({ component: 'sandbox:plivo' }) })));
    else {
      const { authId } = config.plivo;
      if (!authId) throw new Error('PLIVO_AUTH_ID is required for Plivo');
      providers.set('plivo', createPlivoProvider({
        authId,
        authToken: plivoToken,
        ...(config.plivo.apiUrl ? { apiUrl: config.plivo.apiUrl } : {}),
        statusUrl: (ref) => `${publicBase()}/webhooks/plivo/status?ref=${encodeURIComponent(ref)}`,
      }));
    }
  }
  if (config.sinch.enabled) {
    const given = options.providers?.sinch;
    if (given) providers.set('sinch', given);
    else if (sandbox && sinchSecret !== undefined)
      providers.set('sinch', (sinchSandbox = createSinchSandbox({ baseUrl: () => url, webhookSecret: sinchSecret, logger: logger.child({ component: 'sandbox:sinch' }) })));
    else {
      const { servicePlanId, apiToken } = config.sinch;
      if (!servicePlanId || !apiToken) throw new Error('SINCH_SERVICE_PLAN_ID and SINCH_API_TOKEN are required for Sinch');
      // With HMAC signing on, Sinch only calls the dashboard's callback URL; without it we name ours per batch.
      const callbackUrl = sinchSecret === undefined && config.publicUrl ? `${publicBase()}/webhooks/sinch/status` : undefined;
      providers.set('sinch', createSinchProvider({
        servicePlanId,
        apiToken,
        region: config.sinch.region,
        ...(config.sinch.apiUrl ? { apiUrl: config.sinch.apiUrl } : {}),
        ...(callbackUrl ? { callbackUrl } : {}),
      }));
    }
  }
  if (options.worker !== false) {
    const workers = [...providers].map(([name, p]) =>
      createOutboxWorker({
        db,
        log: events,
        provider: p,
        queue: name,
        ratePerSecond: sendRateOf(config, name),
        logger: logger.child({ outbox: name }),
        metrics: { onSend: (ms, outcome) => metrics.providerSend(name, ms, outcome) },
      }),
    );
    outbox = combineWorkers(workers);
    outbox.start();
    // Campaigns feed the outbox a window at a time (after its crash recovery above).
    campaigns = createCampaignFeeder({
      db,
      log: events,
      logger: logger.child({ component: 'campaigns' }),
      rateFor: (name) => sendRateOf(config, name),
      wakeOutbox: () => outbox?.wake(),
      now: clock,
    });
    campaigns.start();
  }

  // Snoozed conversations whose time came reopen (a scan of the database: survives restarts).
  const snoozes = createDueScanner({
    name: 'snooze',
    intervalMs: config.dueScanIntervalMs,
    now: clock,
    logger,
    pass: (now) => void wakeDueSnoozes({ log: events, now }),
  });
  snoozes.start();
  // Scheduled sends whose time came go into the outbox (opt-out checked now). Only with a worker.
  const scheduled = createDueScanner({
    name: 'scheduled-sends',
    intervalMs: config.dueScanIntervalMs,
    now: clock,
    logger,
    pass: (now) => {
      if (releaseDueScheduled({ log: events, now }) > 0) outbox?.wake();
    },
  });
  if (outbox) scheduled.start();

  // Retention (settings.retentionDays): daily, durable, in small batches.
  const retentionJob = createRetentionJob({ db, log: events, logger, now: clock });
  retentionJob.start();

  // Old events go, a chunk at a time, behind the oldest cursor an open stream still needs.
  const retention = { keepCount: config.live.eventsRetentionCount, maxAgeMs: config.live.eventsRetentionDays * 86_400_000 };
  let compacting: Promise<number> | null = null;
  const compactEvents = () =>
    (compacting ??= events
      .compact(retention)
      .catch((err: unknown) => {
        logger.warn({ err }, 'event compaction failed; retried at the next interval');
        return 0;
      })
      .finally(() => (compacting = null)));
  const compactTimer = setInterval(() => void compactEvents(), config.live.eventsCompactIntervalMs);
  compactTimer.unref();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      draining = true;
      try {
        trpc.stopAccepting();
        // No new connections; idle keep-alive ones close now, busy ones finish their request.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        trpc.broadcastReconnect();
        let graceTimer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([closed, new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, config.live.shutdownGraceMs)))]);
        clearTimeout(graceTimer);
        // Grace over: streams (WebSocket and HTTP) end, remaining connections are cut.
        shutdown.abort();
        await trpc.close();
        await new Promise((resolve) => setImmediate(resolve));
        server.closeAllConnections();
        await closed;
      } finally {
        clearInterval(compactTimer);
        credentials.close();
        try {
          await retentionJob.stop();
          await snoozes.stop();
          await scheduled.stop();
          await campaigns?.stop();
          await outbox?.stop();
          await Promise.all([...providers.values()].map((p) => p.close?.()));
          await compacting;
        } finally {
          presence.close();
          events.close();
          db.$client.close();
          logger.info('stopped: outbox stopped, database closed');
        }
      }
    })());

  const provider = providers.get(numbers.defaultNumber().provider) ?? [...providers.values()][0];
  if (!provider) throw new Error('no provider is configured');
  return { url, port, config, db, events, logger, signatureSecret, provider, providers, numbers, outbox, firstAdmin, close, compactEvents };
}

/** A request's URL as logged: /trpc calls without their query string (inputs), everything else as is. */
export function logUrl(url: string): string {
  return /^\/trpc(\/|\?|$)/.test(url) ? url.replace(/\?.*$/, '') : url;
}

function createProvider(config: Config, ctx: { url: string; signatureSecret: string; logger: Logger }): SmsProvider {
  if (config.provider === 'sandbox') {
    return createSandboxProvider({
      statusUrl: `${ctx.url}/webhooks/status`,
      signatureSecret: ctx.signatureSecret,
      logger: ctx.logger.child({ component: 'sandbox' }),
    });
  }
  const { applicationId, privateKey, apiHost } = config.vonage;
  if (!applicationId || !privateKey) throw new Error('VONAGE_APPLICATION_ID and VONAGE_PRIVATE_KEY are required');
  return createVonageProvider({ applicationId, privateKey, ...(apiHost ? { apiHost } : {}) });
}

/** One worker per provider, driven as one: start/stop/wake all, stats summed. */
function combineWorkers(workers: OutboxWorker[]): OutboxWorker {
  return {
    start: () => workers.forEach((w) => w.start()),
    stop: async () => {
      await Promise.all(workers.map((w) => w.stop()));
    },
    wake: () => workers.forEach((w) => w.wake()),
    stats() {
      const all = workers.map((w) => w.stats());
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

/** Sandbox: an inbound text posted, signed, through the real /webhooks/inbound path. */
async function simulateInbound(
  baseUrl: string,
  secret: string,
  input: { from: string; to: string; text: string },
): Promise<void> {
  const body = JSON.stringify({
    channel: 'sms',
    message_uuid: randomUUID(),
    to: toVonageNumber(input.to),
    from: toVonageNumber(input.from),
    timestamp: new Date().toISOString(),
    message_type: 'text',
    text: input.text,
  });
  const res = await fetch(`${baseUrl}/webhooks/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: await signVonageWebhook(body, secret) },
    body,
  });
  const answer = (await res.json().catch(() => ({}))) as { outcome?: string; error?: string };
  if (res.status !== 200 || answer.outcome === 'schema_error')
    throw new Error(`the inbound webhook refused the simulated text: ${answer.error ?? answer.outcome ?? res.status}`);
}
