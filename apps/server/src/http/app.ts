/** The Express app's outer layers: what runs before every route, and what answers after all of them. */
import express, { type Express } from 'express';
import compression from 'compression';
import { pinoHttp } from 'pino-http';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { isDbBusy } from '../db/client';
import { securityHeaders } from './security';
import { serveWebApp } from './static';

/** Security headers, compression, Connection: close while draining, one log line per request. */
export function createApp(config: Config, logger: Logger, isDraining: () => boolean): Express {
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
    if (isDraining()) res.setHeader('Connection', 'close');
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
  return app;
}

/** After every route: the web app, 404 JSON, and the last error handler (503 for a locked database, else 500). */
export function finishApp(app: Express, webDistDir: string, logger: Logger): void {
  serveWebApp(app, webDistDir);
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
}

/** A request's URL as logged: /trpc calls without their query string (inputs), everything else as is. */
export function logUrl(url: string): string {
  // Signed media links: their signature is a (short-lived) credential.
  return /^\/trpc(\/|\?|$)|^\/media\/\d+\/signed/.test(url) ? url.replace(/\?.*$/, '') : url;
}
