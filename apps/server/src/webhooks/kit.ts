/**
 * The skeleton every provider's webhook router is built on: `POST /inbound` and `POST /status`
 * with the raw body (signatures cover its exact bytes), 405 for any other method, one outcome
 * shape, one log line and one metrics call per request, refusals kept in the bounded webhook_log,
 * and body-parser failures (413 too large, 400 unreadable) answered 4xx and kept too.
 *
 * A provider supplies only what is its own: how to verify, parse and map a request, which path it
 * keeps in webhook_log, and (optionally) how a 2xx is answered.
 */
import type { IncomingHttpHeaders } from 'node:http';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import type { Db } from '../db/client';
import type { EventLog } from '../events/log';
import { defaultWebhookLog, type WebhookLog, type WebhookLogEntry } from '../domain/webhook-log';
import type { OurNumbers } from '../numbers';

export type WebhookKind = 'inbound' | 'status';

/** What handling one request decided: HTTP status, outcome word, why (refusals, oddities), extra log fields. */
export interface WebhookOutcome {
  status: number;
  outcome: string;
  error?: string;
  /** Extra fields for the request's log line (e.g. the signature scheme, the callback type). */
  log?: Record<string, unknown>;
}

/**
 * What a provider's handler reads of a request: an Express request is one, and so is a request rebuilt
 * from webhook_log for a replay (`rawWebhookRequest`), so live and replayed requests take the same path.
 */
export interface RawWebhookRequest {
  method: string;
  /** The path as called, with its query, e.g. `/webhooks/plivo/status?ref=…`. */
  originalUrl: string;
  /** The path inside the router's mount, e.g. `/status`. */
  path: string;
  headers: IncomingHttpHeaders;
  ip?: string | undefined;
  get(name: string): string | undefined;
}

/** A request rebuilt from what was kept of it (header names lower-case, as Node gives them). */
export function rawWebhookRequest(p: {
  method?: string;
  originalUrl: string;
  path: string;
  headers: IncomingHttpHeaders;
}): RawWebhookRequest {
  const headers = p.headers;
  return {
    method: p.method ?? 'POST',
    originalUrl: p.originalUrl,
    path: p.path,
    headers,
    get(name) {
      const value = headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/** Decides one request's outcome (keeping what it must in webhook_log); the live router and a replay both call it. */
export type WebhookHandler = (kind: WebhookKind, req: RawWebhookRequest, body: Buffer) => WebhookOutcome | Promise<WebhookOutcome>;

/** Metrics (and tests) hear every outcome: the route (`/webhooks/plivo/status`) and the outcome word. */
export type WebhookOutcomeListener = (path: string, outcome: string) => void;

/** application/json and application/<x>+json. */
export const JSON_TYPE = /^application\/([\w.+-]+\+)?json\b/i;

export interface WebhookKitOptions {
  /** Where the router is mounted, e.g. `/webhooks/plivo`: the route of `inbound` is `${mount}/inbound`. */
  mount: string;
  maxBodyBytes: number;
  logger: Logger;
  webhookLog: WebhookLog;
  onOutcome?: WebhookOutcomeListener;
  /** The 405 answer's error (default "method not allowed: use POST"). */
  methodNotAllowed?: string;
  /** The path a request is kept under in webhook_log (default: the route, e.g. `/webhooks/sinch/inbound`). */
  logPath?: (req: RawWebhookRequest, kind: WebhookKind) => string;
  /** Answers a 2xx (default JSON `{ ok: true, outcome }`); 3xx and up are always JSON `{ error, outcome }`. */
  answerOk?: (kind: WebhookKind, res: Response, r: WebhookOutcome) => void;
}

/** The request's body as the raw parser left it (empty when there was none). */
export function rawBodyOf(req: Request): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

/** A body-parser (or other http-errors) status, if the error carries one. */
export function httpStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const s = (err as { status?: unknown; statusCode?: unknown }).status ?? (err as { statusCode?: unknown }).statusCode;
  return typeof s === 'number' ? s : undefined;
}

export interface WebhookKit {
  /** The route of a kind, as metrics and the log line name it. */
  route(kind: WebhookKind): string;
  /** The webhook_log record for a request and what it came to. */
  entry(req: RawWebhookRequest, kind: WebhookKind, body: Buffer | null, r: WebhookOutcome, signatureOk: boolean): WebhookLogEntry;
  /** Keeps the request in webhook_log and returns `r` (for `return kit.keep(...)`). */
  keep(req: RawWebhookRequest, kind: WebhookKind, body: Buffer, r: WebhookOutcome, signatureOk: boolean): Promise<WebhookOutcome>;
  /**
   * The router: `handle` decides each POST's outcome (it keeps what it must with `keep`); the kit
   * reports, logs and answers it. Errors thrown by `handle` go to Express (the app's 503/500 handler).
   */
  router(handle: WebhookHandler): Router;
}

export function createWebhookKit(opts: WebhookKitOptions): WebhookKit {
  const route = (kind: WebhookKind) => `${opts.mount}/${kind}`;
  const logPath = opts.logPath ?? ((_req: RawWebhookRequest, kind: WebhookKind) => route(kind));

  const entry: WebhookKit['entry'] = (req, kind, body, r, signatureOk) => ({
    path: logPath(req, kind),
    signatureOk,
    source: req.ip,
    headers: req.headers,
    rawBody: body,
    httpStatus: r.status,
    outcome: r.outcome,
    error: r.error ?? null,
  });

  const finish = (kind: WebhookKind, req: Request, res: Response, r: WebhookOutcome): void => {
    const path = route(kind);
    opts.onOutcome?.(path, r.outcome);
    const level = r.status >= 400 ? 'warn' : 'info';
    opts.logger[level](
      { webhook: path, outcome: r.outcome, status: r.status, ...r.log, ...(r.error ? { reason: r.error } : {}), ip: req.ip },
      'webhook',
    );
    if (r.status >= 300) res.status(r.status).json({ error: r.error ?? r.outcome, outcome: r.outcome });
    else if (opts.answerOk) opts.answerOk(kind, res, r);
    else res.status(r.status).json({ ok: true, outcome: r.outcome });
  };

  const kindOf = (req: Request): WebhookKind => (req.path.endsWith('/status') ? 'status' : 'inbound');

  return {
    route,
    entry,
    async keep(req, kind, body, r, signatureOk) {
      await opts.webhookLog.write(entry(req, kind, body, r, signatureOk));
      return r;
    },
    router(handle) {
      const router = express.Router();
      const raw = express.raw({ type: () => true, limit: opts.maxBodyBytes });
      for (const kind of ['inbound', 'status'] as const) {
        router.post(`/${kind}`, raw, async (req, res) => finish(kind, req, res, await handle(kind, req, rawBodyOf(req))));
      }
      router.all(['/inbound', '/status'], (_req, res) => {
        res
          .set('Allow', 'POST')
          .status(405)
          .json({ error: opts.methodNotAllowed ?? 'method not allowed: use POST' });
      });
      // Body-parser failures: nothing was read, so only the headers are kept.
      router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
        const status = httpStatusOf(err);
        if (status === undefined || status < 400 || status >= 500 || res.headersSent) return next(err);
        const kind = kindOf(req);
        const r: WebhookOutcome =
          status === 413
            ? { status, outcome: 'too_large', error: 'body exceeds the webhook size limit' }
            : { status, outcome: 'unreadable_body', error: 'body could not be read' };
        opts.webhookLog.write(entry(req, kind, null, r, false)).then(
          () => finish(kind, req, res, r),
          (logErr: unknown) => next(logErr),
        );
      });
      return router;
    },
  };
}

/** What every provider's webhook router takes from the core (each adds its own secrets). */
export interface WebhookRouterDeps {
  db: Db;
  log: EventLog;
  logger: Logger;
  helpText: string;
  maxBodyBytes: number;
  /** An inbound queued an automatic reply (STOP/START/HELP): wake the outbox. */
  onQueued?: () => void;
  onOutcome?: WebhookOutcomeListener;
  /** The bounded refusal log (default: one per database with default limits). */
  webhookLog?: WebhookLog;
  /** Our numbers: an inbound to a number that is not ours on this provider is refused (kept, nothing created). Unset: not checked. */
  numbers?: OurNumbers;
  /** Automatic replies (HELP, STOP/START confirmations) per contact and kind at most once per this many ms. */
  autoReplyWindowMs?: number;
  /** Agents online now (presence): auto-assignment's candidates. */
  onlineAgentIds?: () => readonly number[];
}

/** The kit for a router mounted at `mount`, from the core's deps (plus the provider's own kit options). */
export async function kitFor(
  deps: WebhookRouterDeps,
  mount: string,
  extra: Pick<WebhookKitOptions, 'methodNotAllowed' | 'logPath' | 'answerOk'> = {},
): Promise<WebhookKit & { webhookLog: WebhookLog }> {
  const webhookLog = deps.webhookLog ?? (await defaultWebhookLog(deps.db));
  const kit = createWebhookKit({
    mount,
    maxBodyBytes: deps.maxBodyBytes,
    logger: deps.logger,
    webhookLog,
    ...(deps.onOutcome ? { onOutcome: deps.onOutcome } : {}),
    ...extra,
  });
  return { ...kit, webhookLog };
}
