import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from 'pino';
import type { Config } from './config';
import { openDb, type Db } from './db/client';
import { EventLog } from './events/log';
import { healthHandler } from './http/health';
import { createMetrics } from './http/metrics';
import { createLogger } from './logger';
import { resolveSignatureSecret } from './secrets';
import { createSignatureVerifier } from './webhooks/signature';
import { webhookErrorHandler, webhookRouter } from './webhooks/routes';

export interface ParleyServer {
  url: string;
  port: number;
  config: Config;
  db: Db;
  events: EventLog;
  logger: Logger;
  /** The secret webhooks are verified with (the sandbox signs with it too). */
  signatureSecret: string;
  /** Stop accepting, finish in-flight requests, close the database. Idempotent. */
  close(): Promise<void>;
}

/** Builds everything Parley is made of — no module-level state — and listens on config.port. */
export async function createServer(config: Config): Promise<ParleyServer> {
  const logger = createLogger(config.logLevel);
  const db = openDb(config.databasePath);
  const events = new EventLog(db);
  const signatureSecret = resolveSignatureSecret(config);
  const verifier = createSignatureVerifier({ secret: signatureSecret, maxAgeSeconds: config.webhookMaxAgeSeconds });

  const app = express();
  app.disable('x-powered-by');
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
  const metrics = createMetrics({ events: () => events.stats, outbox: () => null });
  app.get('/healthz', healthHandler(db));
  app.get('/metrics', (req, res) => metrics.handler(req, res));
  const webhookDeps = {
    db,
    log: events,
    verifier,
    logger,
    maxBodyBytes: config.webhookMaxBodyBytes,
    onOutcome: (kind: string, outcome: string) => metrics.webhook(`/webhooks/${kind}`, outcome),
  };
  app.use('/webhooks', webhookRouter(webhookDeps), webhookErrorHandler(webhookDeps));
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    logger.error({ err }, 'unhandled error');
    if (!res.headersSent) res.status(500).json({ error: 'internal error' });
  });

  const server: Server = createHttpServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host && config.host !== '0.0.0.0' ? config.host : '127.0.0.1'}:${port}`;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      events.close();
      db.$client.close();
    })());

  return { url, port, config, db, events, logger, signatureSecret, close };
}
