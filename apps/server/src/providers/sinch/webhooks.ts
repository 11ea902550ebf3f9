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
import { isDbBusy } from '../../db/client';
import { receiveInbound } from '../../domain/receive';
import { recordStatus } from '../../domain/status';
import { isOurNumber } from '../../numbers';
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
import { readSinchBatchReport, readSinchInbound, readSinchRecipientReport } from './payloads';
import { SINCH_NONCE_PROVIDER, verifySinchSignature } from './signature';
import { runTx } from '../../db/store';

export interface SinchWebhookOptions extends WebhookRouterDeps {
  nonces: NonceStore;
  /** SINCH_WEBHOOK_SECRET: when set, every callback must carry a valid HMAC signature. */
  webhookSecret?: string;
  /** The clock signatures' timestamps are judged by (a replay judges them as of the original receipt). Default Date.now. */
  now?: () => number;
}

/** A nonce claimed inside the transaction turned out to be taken: the request is a replay. */
class ReplayError extends Error {}

// ---- Router ----

type Result = { status: number; outcome: string; error?: string; type?: string };

/** The kit's outcome: the callback's `type` goes into the log line. */
const outcomeOf = (r: Result): WebhookOutcome => ({
  status: r.status,
  outcome: r.outcome,
  ...(r.error !== undefined ? { error: r.error } : {}),
  ...(r.type ? { log: { type: r.type } } : {}),
});

export async function sinchWebhookRouter(opts: SinchWebhookOptions): Promise<Router> {
  return (await kitFor(opts, '/webhooks/sinch')).router(await sinchWebhookHandler(opts));
}

/** One request, live or replayed from webhook_log (webhooks/replay.ts). */
export async function sinchWebhookHandler(opts: SinchWebhookOptions): Promise<WebhookHandler> {
  let warnedUnsigned = false;
  const kit = await kitFor(opts, '/webhooks/sinch');
  const { webhookLog } = kit;

  const handle = async (kind: WebhookKind, req: RawWebhookRequest, body: Buffer): Promise<WebhookOutcome> => {
    const path = kit.route(kind);
    /** The verified nonce: recorded in the transaction that stores what the request admitted. */
    const auth: { nonce?: string; signatureOk: boolean } = { signatureOk: false };
    const admit = async (): Promise<void> => {
      if (auth.nonce !== undefined && !(await opts.nonces.claim(SINCH_NONCE_PROVIDER, auth.nonce))) throw new ReplayError();
    };
    const store = async (r: Result, signatureOk: boolean): Promise<Result> => {
      const write = async () => {
        if (signatureOk) await admit();
        await webhookLog.write(kit.entry(req, kind, body, outcomeOf(r), signatureOk));
      };
      if (signatureOk) await runTx(opts.db, write);
      else await write();
      return r;
    };
    let result: Result;
    try {
      // Group commit: handled in the next batch transaction (a savepoint of its own), answered once it committed.
      result = await opts.log.writeBatched(async () => await dispatch(req, body, store, admit, auth));
    } catch (err) {
      // Another process holds SQLite's write lock: nothing was committed (nor can be logged now);
      // the app's error handler answers 503 with Retry-After, and Sinch retries.
      if (isDbBusy(err)) throw err;
      if (err instanceof ReplayError) {
        result = await store({ status: 401, outcome: 'bad_signature', error: 'replayed callback (nonce already used)' }, false);
      } else {
        opts.logger.error({ err, webhook: path }, 'sinch webhook: processing failed');
        // 5xx: Sinch retries. The nonce was not recorded (it rolled back with the data), so the retry is accepted.
        result = { status: 500, outcome: 'error', error: 'internal error while processing the callback' };
        try {
          await webhookLog.write(kit.entry(req, kind, body, outcomeOf(result), auth.signatureOk));
        } catch (logErr) {
          opts.logger.error({ err: logErr, webhook: path }, 'sinch webhook: could not keep the failed callback in webhook_log');
        }
      }
    }
    return outcomeOf(result);
  };

  async function dispatch(
    req: RawWebhookRequest,
    body: Buffer,
    store: (r: Result, signatureOk: boolean) => Promise<Result>,
    admit: () => Promise<void>,
    auth: { nonce?: string; signatureOk: boolean },
  ): Promise<Result> {
    if (!JSON_TYPE.test(req.get('content-type') ?? '')) {
      return store({ status: 415, outcome: 'unsupported_media_type', error: 'Content-Type must be application/json' }, false);
    }
    let signatureOk = false;
    if (opts.webhookSecret !== undefined && opts.webhookSecret !== '') {
      const verified = await verifySinchSignature({
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
    const schemaError = (error: z.ZodError): Promise<Result> =>
      store({ status: 200, outcome: 'schema_error', error: z.prettifyError(error), type }, signatureOk);

    if (type === 'mo_text' || type === 'mo_media') {
      const read = readSinchInbound(type, json);
      if (!read.ok) return schemaError(read.error);
      const inbound = read.value;
      if (opts.numbers && !isOurNumber(opts.numbers, 'sinch', inbound.to)) {
        // Not for us: kept (whole when signed), answered 200 as any callback Parley cannot use, nothing created or sent.
        return store(
          { status: 200, outcome: 'not_our_number', error: `inbound to ${inbound.to}, which is not one of Parley's Sinch numbers`, type },
          signatureOk,
        );
      }
      const received = await receiveInbound({
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
      const read = readSinchRecipientReport(json);
      if (!read.ok) return schemaError(read.error);
      return { status: 200, outcome: await recordStatus({ log: opts.log, report: read.value, admit }), type };
    }

    if (type === 'delivery_report_sms') {
      const read = readSinchBatchReport(json);
      if (!read.ok) return schemaError(read.error);
      if (read.value !== null) return { status: 200, outcome: await recordStatus({ log: opts.log, report: read.value, admit }), type };
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
