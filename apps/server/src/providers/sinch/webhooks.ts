/**
 * Sinch SMS callbacks, mounted at /webhooks/sinch: POST /inbound and POST /status. Inbound texts and
 * delivery reports may share one URL, so both paths dispatch on the body's `type`.
 *
 * Sinch retries 5xx and 429 and drops any other 4xx, so everything refused with a 4xx (bad
 * signature, invalid JSON, wrong Content-Type) is written to webhook_log *before* answering (an
 * unsigned one as an excerpt and hash, rate-limited per source). A verified nonce is recorded in the
 * transaction that stores what it admitted: a request that failed (500) can be retried, a replay cannot. Bodies Parley cannot use (schema
 * failures, unknown types, multi-recipient batch reports) are stored raw and answered 200.
 */
import type { Router } from 'express';
import { z } from 'zod';
import { fromProviderNumber, parseProviderTimestamp } from '@parley/shared';
import { isDbBusy } from '../../db/client';
import { receiveInbound, type InboundSms } from '../../domain/receive';
import type { InboundMedia } from '../../domain/media';
import { recordStatus, type StatusReport } from '../../domain/status';
import { isOurNumber } from '../../numbers';
import { sinchCodeReason, sinchStatusToParley } from './errors';
import type { NonceStore } from '../../webhooks/nonces';
import {
  JSON_TYPE,
  kitFor,
  type RawWebhookRequest,
  type WebhookHandler,
  type WebhookKind,
  type WebhookOutcome,
  type WebhookRouterDeps,
} from '../../webhooks/kit';
import { SINCH_NONCE_PROVIDER, verifySinchSignature } from './signature';

export interface SinchWebhookOptions extends WebhookRouterDeps {
  nonces: NonceStore;
  /** SINCH_WEBHOOK_SECRET: when set, every callback must carry a valid HMAC signature. */
  webhookSecret?: string;
  /** The clock signatures' timestamps are judged by (a replay judges them as of the original receipt). Default Date.now. */
  now?: () => number;
}

/** A nonce claimed inside the transaction turned out to be taken: the request is a replay. */
class ReplayError extends Error {}

// ---- Payloads (lenient: unknown fields kept; numbers with or without '+'; `code` a number or digits) ----

const address = z.union([z.string().min(1), z.number()]).transform((v) => fromProviderNumber(String(v)));
const isoTime = z.string().transform((value, ctx) => {
  const iso = parseProviderTimestamp(value);
  if (iso !== null) return iso;
  ctx.addIssue({ code: 'custom', message: 'Unrecognised timestamp format', input: value });
  return z.NEVER;
});
const detailCode = z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]);
const optionalText = z
  .union([z.string(), z.number()])
  .nullish()
  .transform((v) => (v === null || v === undefined || String(v) === '' ? null : String(v)));

const moTextSchema = z.looseObject({
  type: z.literal('mo_text'),
  id: z.string().min(1),
  from: address,
  to: address,
  body: z.string().nullish(),
  received_at: isoTime,
});

/** MMS (US): the text in `body.message` (or `subject`), each attachment with Sinch's upload result (`code` 0: uploaded). */
const moMediaSchema = z.looseObject({
  type: z.literal('mo_media'),
  id: z.string().min(1),
  from: address,
  to: address,
  received_at: isoTime,
  body: z
    .looseObject({
      subject: z.string().nullish(),
      message: z.string().nullish(),
      media: z
        .array(
          z.looseObject({
            url: z.string().nullish(),
            content_type: z.string().nullish(),
            status: z.string().nullish(),
            code: z.union([z.number(), z.string()]).nullish(),
          }),
        )
        .nullish(),
    })
    .refine((b) => (b.media?.length ?? 0) > 0 || (b.message ?? '').trim() !== '', {
      message: 'mo_media without media or message',
      path: ['media'],
    }),
});

function sinchMedia(items: z.output<typeof moMediaSchema>['body']['media']): InboundMedia[] {
  return (items ?? []).map((m) => {
    const code = m.code === null || m.code === undefined ? 0 : Number(m.code);
    if (!m.url || code !== 0) {
      return {
        url: m.url ?? '',
        contentType: m.content_type ?? null,
        refusedReason: `Sinch could not store this attachment (${m.status ?? 'Failed'}, code ${String(m.code ?? '?')})`,
      };
    }
    return { url: m.url, contentType: m.content_type ?? null };
  });
}

const recipientReportSchema = z.looseObject({
  type: z.literal('recipient_delivery_report_sms'),
  batch_id: z.string().min(1),
  status: z.string().min(1),
  code: detailCode,
  at: isoTime,
  operator_status_at: isoTime.nullish(),
  client_reference: optionalText,
  recipient: address.nullish(),
});

const batchReportSchema = z.looseObject({
  type: z.literal('delivery_report_sms'),
  batch_id: z.string().min(1),
  total_message_count: z.number().int().nullish(),
  client_reference: optionalText,
  statuses: z.array(z.looseObject({ code: detailCode, count: z.number().int(), status: z.string().min(1) })),
});

/** A Sinch status Parley maps, else Sinch's own word (`Queued`, a future status): kept in history, never applied. */
function reportStatus(sinchStatus: string): string {
  return sinchStatusToParley(sinchStatus) ?? sinchStatus;
}

function statusReport(p: {
  batchId: string;
  clientRef: string | null;
  status: string;
  code: number;
  timestamp: number;
  raw: unknown;
}): StatusReport {
  const status = reportStatus(p.status);
  const delivered = status === 'delivered';
  return {
    providerMessageId: p.batchId,
    clientRef: p.clientRef,
    status,
    timestamp: p.timestamp,
    errorCode: delivered ? null : String(p.code),
    // Sinch's own status name: Failed, Expired and Deleted all become `undeliverable`.
    errorTitle: delivered ? null : p.status,
    errorDetail: null,
    errorReason: delivered ? null : sinchCodeReason(p.code, p.status),
    price: null,
    currency: null,
    raw: p.raw,
  };
}

// ---- Router ----

type Result = { status: number; outcome: string; error?: string; type?: string };

/** The kit's outcome: the callback's `type` goes into the log line. */
const outcomeOf = (r: Result): WebhookOutcome => ({
  status: r.status,
  outcome: r.outcome,
  ...(r.error !== undefined ? { error: r.error } : {}),
  ...(r.type ? { log: { type: r.type } } : {}),
});

export function sinchWebhookRouter(opts: SinchWebhookOptions): Router {
  return kitFor(opts, '/webhooks/sinch').router(sinchWebhookHandler(opts));
}

/** One request, live or replayed from webhook_log (webhooks/replay.ts). */
export function sinchWebhookHandler(opts: SinchWebhookOptions): WebhookHandler {
  let warnedUnsigned = false;
  const kit = kitFor(opts, '/webhooks/sinch');
  const { webhookLog } = kit;

  const handle = async (kind: WebhookKind, req: RawWebhookRequest, body: Buffer): Promise<WebhookOutcome> => {
    const path = kit.route(kind);
    /** The verified nonce: recorded in the transaction that stores what the request admitted. */
    const auth: { nonce?: string; signatureOk: boolean } = { signatureOk: false };
    const admit = (): void => {
      if (auth.nonce !== undefined && !opts.nonces.claim(SINCH_NONCE_PROVIDER, auth.nonce)) throw new ReplayError();
    };
    const store = (r: Result, signatureOk: boolean): Result => {
      const write = () => {
        if (signatureOk) admit();
        webhookLog.write(kit.entry(req, kind, body, outcomeOf(r), signatureOk));
      };
      if (signatureOk) opts.db.transaction(write);
      else write();
      return r;
    };
    let result: Result;
    try {
      // Group commit: handled in the next batch transaction (a savepoint of its own), answered once it committed.
      result = await opts.log.writeBatched(() => dispatch(req, body, store, admit, auth));
    } catch (err) {
      // Another process holds SQLite's write lock: nothing was committed (nor can be logged now);
      // the app's error handler answers 503 with Retry-After, and Sinch retries.
      if (isDbBusy(err)) throw err;
      if (err instanceof ReplayError) {
        result = store({ status: 401, outcome: 'bad_signature', error: 'replayed callback (nonce already used)' }, false);
      } else {
        opts.logger.error({ err, webhook: path }, 'sinch webhook: processing failed');
        // 5xx: Sinch retries. The nonce was not recorded (it rolled back with the data), so the retry is accepted.
        result = { status: 500, outcome: 'error', error: 'internal error while processing the callback' };
        try {
          webhookLog.write(kit.entry(req, kind, body, outcomeOf(result), auth.signatureOk));
        } catch (logErr) {
          opts.logger.error({ err: logErr, webhook: path }, 'sinch webhook: could not keep the failed callback in webhook_log');
        }
      }
    }
    return outcomeOf(result);
  };

  function dispatch(
    req: RawWebhookRequest,
    body: Buffer,
    store: (r: Result, signatureOk: boolean) => Result,
    admit: () => void,
    auth: { nonce?: string; signatureOk: boolean },
  ): Result {
    if (!JSON_TYPE.test(req.get('content-type') ?? '')) {
      return store({ status: 415, outcome: 'unsupported_media_type', error: 'Content-Type must be application/json' }, false);
    }
    let signatureOk = false;
    if (opts.webhookSecret !== undefined && opts.webhookSecret !== '') {
      const verified = verifySinchSignature({
        headers: req.headers,
        rawBody: body,
        secret: opts.webhookSecret,
        nonces: opts.nonces,
        claim: false,
        ...(opts.now ? { now: opts.now() } : {}),
      });
      if (!verified.ok) return store({ status: verified.status, outcome: 'bad_signature', error: verified.reason }, false);
      signatureOk = true;
      auth.nonce = verified.nonce;
      auth.signatureOk = true;
    } else if (!warnedUnsigned) {
      warnedUnsigned = true;
      opts.logger.warn(
        'Sinch callbacks are unauthenticated: set SINCH_WEBHOOK_SECRET (after Sinch turns on HMAC signing for the service plan)',
      );
    }

    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      return store({ status: 400, outcome: 'invalid_json', error: 'body is not valid JSON' }, signatureOk);
    }
    const type = typeof json === 'object' && json !== null && 'type' in json && typeof json.type === 'string' ? json.type : undefined;
    const schemaError = (error: z.ZodError): Result =>
      store({ status: 200, outcome: 'schema_error', error: z.prettifyError(error), type }, signatureOk);

    if (type === 'mo_text' || type === 'mo_media') {
      let inbound: InboundSms;
      if (type === 'mo_text') {
        const parsed = moTextSchema.safeParse(json);
        if (!parsed.success) return schemaError(parsed.error);
        const p = parsed.data;
        inbound = {
          messageUuid: p.id,
          from: p.from,
          to: p.to,
          text: p.body ?? '',
          timestamp: p.received_at,
          numMessages: null,
          price: null,
          currency: null,
        };
      } else {
        const parsed = moMediaSchema.safeParse(json);
        if (!parsed.success) return schemaError(parsed.error);
        const p = parsed.data;
        inbound = {
          messageUuid: p.id,
          from: p.from,
          to: p.to,
          text: p.body.message ?? p.body.subject ?? '',
          timestamp: p.received_at,
          numMessages: null,
          price: null,
          currency: null,
          media: sinchMedia(p.body.media),
        };
      }
      const p = inbound;
      if (opts.numbers && !isOurNumber(opts.numbers, 'sinch', p.to)) {
        // Not for us: kept (whole when signed), answered 200 as any callback Parley cannot use, nothing created or sent.
        return store(
          { status: 200, outcome: 'not_our_number', error: `inbound to ${p.to}, which is not one of Parley's Sinch numbers`, type },
          signatureOk,
        );
      }
      const received = receiveInbound({
        log: opts.log,
        inbound,
        provider: 'sinch',
        helpText: opts.helpText,
        admit,
        ...(opts.autoReplyWindowMs !== undefined ? { autoReplyWindowMs: opts.autoReplyWindowMs } : {}),
        ...(opts.onlineAgentIds ? { onlineAgentIds: opts.onlineAgentIds } : {}),
      });
      if (!received.duplicate && received.queuedReply) opts.onQueued?.();
      return { status: 200, outcome: received.duplicate ? 'duplicate' : 'stored', type };
    }

    if (type === 'recipient_delivery_report_sms') {
      const parsed = recipientReportSchema.safeParse(json);
      if (!parsed.success) return schemaError(parsed.error);
      const p = parsed.data;
      const report = statusReport({
        batchId: p.batch_id,
        clientRef: p.client_reference,
        status: p.status,
        code: p.code,
        timestamp: Date.parse(p.operator_status_at ?? p.at),
        raw: p,
      });
      return { status: 200, outcome: recordStatus({ log: opts.log, report, admit }), type };
    }

    if (type === 'delivery_report_sms') {
      const parsed = batchReportSchema.safeParse(json);
      if (!parsed.success) return schemaError(parsed.error);
      const p = parsed.data;
      const [only] = p.statuses;
      // Parley sends one recipient per batch with per_recipient reports, so a batch report only
      // comes if the service plan or someone else's send asked for summary/full. One recipient
      // with one status is that recipient's status: record it (a batch report has no time of
      // its own, so the time of receipt stands in). Several recipients are not a Parley send:
      // there is no per-message status to take from counts, so keep the body for review.
      if (only !== undefined && p.statuses.length === 1 && only.count === 1 && (p.total_message_count ?? 1) === 1) {
        const report = statusReport({
          batchId: p.batch_id,
          clientRef: p.client_reference,
          status: only.status,
          code: only.code,
          timestamp: Date.now(),
          raw: p,
        });
        return { status: 200, outcome: recordStatus({ log: opts.log, report, admit }), type };
      }
      return store(
        { status: 200, outcome: 'ignored_batch_report', error: 'batch report for several recipients: not a Parley send', type },
        signatureOk,
      );
    }

    // mo_binary and anything Sinch adds later: kept whole, answered 200 so Sinch does not retry.
    return store({ status: 200, outcome: 'ignored_type', error: `callback type ${type ?? '(none)'} is not handled`, type }, signatureOk);
  }

  return handle;
}
