import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import { vonageInboundSchema, vonageStatusSchema } from '@parley/shared';
import type { Db } from '../../db/client';
import type { EventLog } from '../../events/log';
import { receiveInbound } from '../../domain/receive';
import { recordStatus } from '../../domain/status';
import { defaultWebhookLog, type WebhookLog } from '../../domain/webhook-log';
import { isOurNumber, type OurNumbers } from '../../numbers';
import { vonageErrorReason } from './errors';
import type { SignatureVerifier } from './signature';

export type WebhookKind = 'inbound' | 'status';
export type WebhookOutcomeListener = (kind: WebhookKind, outcome: string) => void;

interface Deps {
  db: Db;
  log: EventLog;
  verifier: SignatureVerifier;
  logger: Logger;
  maxBodyBytes: number;
  helpText: string;
  onOutcome?: WebhookOutcomeListener;
  /** Called when an inbound queued an automatic reply (STOP/START/HELP), to wake the outbox. */
  onQueued?: () => void;
  /** The bounded refusal log (default: one per database with default limits). */
  webhookLog?: WebhookLog;
  /** Our numbers: an inbound to any other `to` is refused (kept in webhook_log, no conversation). Unset: not checked. */
  numbers?: OurNumbers;
  /** Automatic replies (HELP, STOP/START confirmations) per contact and kind at most once per this many ms. */
  autoReplyWindowMs?: number;
}

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\b/i;

/** POST /webhooks/inbound and /webhooks/status: raw body → signature → JSON → schema → domain → 200. */
export function webhookRouter(deps: Deps): Router {
  const router = express.Router();
  const raw = express.raw({ type: () => true, limit: deps.maxBodyBytes });
  router.post('/inbound', raw, (req, res) => handle(deps, 'inbound', req, res));
  router.post('/status', raw, (req, res) => handle(deps, 'status', req, res));
  router.all(['/inbound', '/status'], (_req, res) => {
    res.set('Allow', 'POST').status(405).json({ error: 'method not allowed: use POST' });
  });
  return router;
}

async function handle(deps: Deps, kind: WebhookKind, req: Request, res: Response): Promise<void> {
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const refuse = (status: number, outcome: string, error: string, signatureOk: boolean) => {
    (deps.webhookLog ?? defaultWebhookLog(deps.db)).write({
      path: req.path,
      signatureOk,
      source: req.ip,
      headers: req.headers,
      rawBody: body,
      httpStatus: status,
      outcome,
      error,
    });
    finish(deps, kind, req, res, status, outcome, error);
  };

  if (!JSON_TYPE.test(req.get('content-type') ?? ''))
    return refuse(415, 'unsupported_media_type', 'Content-Type must be application/json', false);

  const signature = await deps.verifier.verify(req.get('authorization'), body);
  if (!signature.ok) return refuse(signature.status, signature.status === 503 ? 'unsigned' : 'bad_signature', signature.reason, false);

  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return refuse(400, 'invalid_json', 'body is not valid JSON', true);
  }

  if (kind === 'inbound') {
    const parsed = vonageInboundSchema.safeParse(json);
    if (!parsed.success) return refuse(200, 'schema_error', parsed.error.message, true);
    // Signed, but to a number that is not ours on Vonage: kept for review, answered 200 like any
    // well-signed callback Parley cannot use (a retry would not change it), and nothing is created or sent.
    if (deps.numbers && !isOurNumber(deps.numbers, 'vonage', parsed.data.to))
      return refuse(200, 'not_our_number', `inbound to ${parsed.data.to}, which is not one of Parley's Vonage numbers`, true);
    const result = receiveInbound({
      log: deps.log,
      inbound: parsed.data,
      helpText: deps.helpText,
      ...(deps.autoReplyWindowMs !== undefined ? { autoReplyWindowMs: deps.autoReplyWindowMs } : {}),
    });
    if (!result.duplicate && result.queuedReply) deps.onQueued?.();
    return finish(deps, kind, req, res, 200, result.duplicate ? 'duplicate' : 'stored');
  }

  const parsed = vonageStatusSchema.safeParse(json);
  if (!parsed.success) return refuse(200, 'schema_error', parsed.error.message, true);
  const s = parsed.data;
  const outcome = recordStatus({
    log: deps.log,
    report: {
      providerMessageId: s.messageUuid,
      clientRef: s.clientRef,
      status: s.status,
      timestamp: Date.parse(s.timestamp),
      errorCode: s.errorCode,
      errorTitle: s.errorTitle,
      errorDetail: s.errorDetail,
      errorReason: s.errorCode ? vonageErrorReason(s.errorCode) : null,
      price: s.price,
      currency: s.currency,
      raw: s.raw,
    },
  });
  finish(deps, kind, req, res, 200, outcome);
}

function finish(
  deps: Deps,
  kind: WebhookKind,
  req: Request,
  res: Response,
  status: number,
  outcome: string,
  error?: string,
): void {
  deps.onOutcome?.(kind, outcome);
  const level = status >= 400 ? 'warn' : 'info';
  deps.logger[level]({ webhook: kind, outcome, status, ...(error ? { reason: error } : {}), ip: req.ip }, 'webhook');
  res.status(status).json(status < 300 ? { ok: true, outcome } : { error: error ?? outcome, outcome });
}

/** Body-parser failures on webhook paths (413 too large, 400 bad encoding) are logged and answered 4xx. */
export function webhookErrorHandler(deps: Pick<Deps, 'db' | 'logger' | 'onOutcome' | 'webhookLog'>) {
  return (err: unknown, req: Request, res: Response, next: (err?: unknown) => void): void => {
    const status = httpStatusOf(err);
    if (status === undefined || status >= 500 || res.headersSent) return next(err);
    const outcome = status === 413 ? 'too_large' : 'unreadable_body';
    const message = status === 413 ? 'body exceeds the webhook size limit' : 'body could not be read';
    (deps.webhookLog ?? defaultWebhookLog(deps.db)).write({
      path: req.path,
      signatureOk: false,
      source: req.ip,
      headers: req.headers,
      rawBody: null,
      httpStatus: status,
      outcome,
      error: message,
    });
    const kind: WebhookKind = req.path.endsWith('/status') ? 'status' : 'inbound';
    deps.onOutcome?.(kind, outcome);
    deps.logger.warn({ webhook: kind, outcome, status }, 'webhook');
    res.status(status).json({ error: message, outcome });
  };
}

function httpStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const s = (err as { status?: unknown; statusCode?: unknown }).status ?? (err as { statusCode?: unknown }).statusCode;
  return typeof s === 'number' ? s : undefined;
}
