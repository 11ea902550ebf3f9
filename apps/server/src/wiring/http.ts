/**
 * The HTTP side, in order: outer layers (createApp), health and metrics, every provider's webhook
 * routes, media, tRPC (HTTP and WebSocket), the web app and the last handlers (finishApp).
 */
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import type { Express } from 'express';
import { createApp, finishApp } from '../http/app';
import { healthHandler } from '../http/health';
import { createLoginRateLimiter, createSharedLoginRateLimiter, type LoginRateLimiterOptions } from '../auth/rate-limit';
import { createApiRateLimiter } from '../auth/api-rate-limit';
import { createHashGate } from '../auth/hash-gate';
import { countNeedingReview } from '../domain/webhook-review';
import { attachTrpc } from '../trpc/attach';
import { mediaRouter } from '../media/routes';
import { createSandboxMediaHost } from '../media/sandbox-host';
import type { ServerOptions } from '../server';
import type { Background } from './background';
import type { Core } from './core';
import { mmsRefusalFor, sandboxInbound } from './media';
import type { Providers } from './providers';

export type Trpc = ReturnType<typeof attachTrpc>;

/** Builds the app and tRPC on `server` (requests are handled once the caller hands the app to it). */
export function buildHttp(core: Core, server: Server, url: string, providers: Providers, jobs: Background, options: ServerOptions) {
  const { config, db, logger } = core;
  const app = createApp(config, logger, () => core.draining.now);
  mountHealth(app, core, jobs);
  for (const w of providers.wired) if (w.router) app.use(w.mount, w.router);
  const { store, signingSecret } = core.media;
  // One limiter for a credential's tRPC calls and its uploads.
  const apiLimiter = createApiRateLimiter(config.apiRateLimit);
  app.use(mediaRouter({ db, store, logger, maxBytes: config.media.maxBytes, signingSecret, publicUrl: config.publicUrl, apiLimiter }));
  const sandboxMedia = config.provider === 'sandbox' ? createSandboxMediaHost(url) : null;
  if (sandboxMedia) app.use(sandboxMedia.router);
  const trpc = attachTrpc({
    app,
    server,
    deps: {
      db,
      log: core.events,
      config,
      logger,
      credentials: core.credentials,
      shutdown: core.shutdown.signal,
      presence: core.presence,
      numbers: core.numbers,
      now: core.clock,
      mediaStore: store,
      // Several instances (PostgreSQL) count failed sign-ins together, in the database.
      loginLimiter: (db.$store.dialect === 'pg'
        ? (o: LoginRateLimiterOptions) => createSharedLoginRateLimiter(db, o)
        : createLoginRateLimiter)({
        maxFailures: config.login.maxFailures,
        windowMs: config.login.windowSeconds * 1000,
      }),
      hashGate: createHashGate(config.passwordHash),
      apiLimiter,
      outbox: { wake: () => core.outboxBell.ring() },
      campaigns: { wake: () => jobs.campaigns?.wake() },
      webhooks: jobs.webhooks,
      webhookReplayer: providers.replayer,
      mms: { refusal: mmsRefusalFor(config) },
      ...(sandboxMedia ? { simulateInbound: sandboxInbound(providers.wired, core.numbers, sandboxMedia) } : {}),
    },
  });
  core.metrics.observe({
    events: () => ({ appended: core.events.stats.appended, subscribers: trpc.subscriberCount() }),
    outbox: async () => (await jobs.outbox?.stats()) ?? null,
    refusalsNeedingReview: async () => await countNeedingReview(db),
  });
  finishApp(app, options.webDistDir ?? fileURLToPath(new URL('../../../web/dist', import.meta.url)), logger);
  return { app, trpc };
}

/** /healthz (503 while draining, else the database and disk probe) and /metrics. */
function mountHealth(app: Express, core: Core, jobs: Background): void {
  const { config, db } = core;
  app.get('/healthz', (_req, res, next) => {
    if (core.draining.now) res.status(503).json({ status: 'draining' });
    else next();
  });
  const parts = async () => ({ outbox: (await jobs.outbox?.stats()) ?? { state: 'disabled' }, webhookLog: core.webhookLog.stats() });
  app.get(
    '/healthz',
    healthHandler(db, parts, {
      databasePath: config.databasePath,
      minFreeBytes: config.healthMinFreeBytes,
      probeIntervalMs: config.healthProbeIntervalMs,
    }),
  );
  app.get('/metrics', (req, res) => core.metrics.handler(req, res));
}
