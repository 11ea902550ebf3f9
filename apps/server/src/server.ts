import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from 'pino';
import type { Config } from './config';
import { openDb, type Db } from './db/client';
import { EventLog } from './events/log';
import { healthHandler } from './http/health';
import { serveWebApp } from './http/static';
import { createMetrics } from './http/metrics';
import { createLogger } from './logger';
import { resolveSignatureSecret } from './secrets';
import { createSignatureVerifier } from './webhooks/signature';
import { webhookErrorHandler, webhookRouter } from './webhooks/routes';
import { createOutboxWorker, type OutboxWorker } from './outbox/worker';
import type { SmsProvider } from './providers/types';
import { createSandboxProvider } from './providers/sandbox';
import { createVonageProvider } from './providers/vonage';
import { ensureFirstAdmin, type FirstAdminResult } from './auth/bootstrap';
import { createLoginRateLimiter } from './auth/rate-limit';
import { attachTrpc } from './trpc/attach';
import { createNumberRegistry } from './numbers';
import { signVonageWebhook } from './webhooks/sign';
import { toVonageNumber } from '@parley/shared';

export interface ServerOptions {
  /** Use this provider instead of the one config names (tests). */
  provider?: SmsProvider;
  /** false: no outbox worker (tests that drive their own). Default true. */
  worker?: boolean;
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
  provider: SmsProvider;
  /** The outbox worker, or null when started with `{ worker: false }`. */
  outbox: OutboxWorker | null;
  /** Whether this start created the first admin (and its generated password, if it made one up). */
  firstAdmin: FirstAdminResult;
  /** Stop accepting, finish in-flight requests, close the database. Idempotent. */
  close(): Promise<void>;
}

/** Builds everything Parley is made of — no module-level state — and listens on config.port. */
export async function createServer(config: Config, options: ServerOptions = {}): Promise<ParleyServer> {
  const logger = createLogger(config.logLevel);
  const db = openDb(config.databasePath);
  const events = new EventLog(db);
  const signatureSecret = resolveSignatureSecret(config);
  const firstAdmin = await ensureFirstAdmin({ db, config, logger });
  const verifier = createSignatureVerifier({ secret: signatureSecret, maxAgeSeconds: config.webhookMaxAgeSeconds });

  // A Vonage key that cannot be read stops the start before we listen; the sandbox needs our URL first.
  const earlyProvider =
    options.provider ?? (config.provider === 'vonage' ? createProvider(config, { url: '', signatureSecret, logger }) : undefined);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', 'loopback');
  app.use(
    pinoHttp({
      logger,
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' },
      // One lean line per request: method, url, status, time. Headers (and so secrets) stay out.
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        err: (err: Error) => ({ message: err.message }),
      },
    }),
  );
  // The worker exists only once we listen (the sandbox posts to our own URL); these read it late.
  let outbox: OutboxWorker | null = null;
  let metricsSubscribers = () => 0;
  const metrics = createMetrics({
    events: () => ({ appended: events.stats.appended, subscribers: metricsSubscribers() }),
    outbox: () => outbox?.stats() ?? null,
  });
  app.get('/healthz', healthHandler(db, () => ({ outbox: outbox?.stats() ?? { state: 'disabled' } })));
  app.get('/metrics', (req, res) => metrics.handler(req, res));
  const webhookDeps = {
    db,
    log: events,
    verifier,
    logger,
    maxBodyBytes: config.webhookMaxBodyBytes,
    helpText: config.helpText,
    onQueued: () => outbox?.wake(),
    onOutcome: (kind: string, outcome: string) => metrics.webhook(`/webhooks/${kind}`, outcome),
  };
  app.use('/webhooks', webhookRouter(webhookDeps), webhookErrorHandler(webhookDeps));

  const server: Server = createHttpServer(app);
  let url = '';
  const trpc = attachTrpc({
    app,
    server,
    deps: {
      db,
      log: events,
      config,
      logger,
      loginLimiter: createLoginRateLimiter(),
      outbox: { wake: () => outbox?.wake() },
      numbers: createNumberRegistry([{ number: config.vonage.number, provider: 'vonage', sandbox: config.provider === 'sandbox', isDefault: true }]),
      ...(config.provider === 'sandbox'
        ? { simulateInbound: (input: { from: string; text: string }) => simulateInbound(url, signatureSecret, config, input) }
        : {}),
    },
  });
  metricsSubscribers = () => trpc.subscriberCount();

  serveWebApp(app, fileURLToPath(new URL('../../web/dist', import.meta.url)));

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
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

  const provider = earlyProvider ?? createProvider(config, { url, signatureSecret, logger });
  if (options.worker !== false) {
    outbox = createOutboxWorker({
      db,
      log: events,
      provider,
      ratePerSecond: config.sendRatePerSecond,
      logger,
      metrics: { onSend: (ms, outcome) => metrics.providerSend(ms, outcome) },
    });
    outbox.start();
  }

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      trpc.broadcastReconnect();
      await trpc.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await outbox?.stop();
      await provider.close?.();
      events.close();
      db.$client.close();
    })());

  return { url, port, config, db, events, logger, signatureSecret, provider, outbox, firstAdmin, close };
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

/** Sandbox: an inbound text posted, signed, through the real /webhooks/inbound path. */
async function simulateInbound(
  baseUrl: string,
  secret: string,
  config: Config,
  input: { from: string; text: string },
): Promise<void> {
  const body = JSON.stringify({
    channel: 'sms',
    message_uuid: randomUUID(),
    to: toVonageNumber(config.vonage.number),
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
