import type { Router } from 'express';
import { vonageInboundSchema, vonageStatusSchema } from '@parley/shared';
import { receiveInboundBatched } from '../../domain/receive';
import { recordStatusBatched } from '../../domain/status';
import { isOurNumber } from '../../numbers';
import {
  JSON_TYPE,
  kitFor,
  type RawWebhookRequest,
  type WebhookHandler,
  type WebhookKind,
  type WebhookOutcome,
  type WebhookRouterDeps,
} from '../../webhooks/kit';
import { vonageErrorReason } from './errors';
import type { SignatureVerifier } from './signature';

export interface VonageWebhookOptions extends WebhookRouterDeps {
  verifier: SignatureVerifier;
}

/**
 * POST /webhooks/inbound and /webhooks/status (Vonage's paths, mounted at /webhooks):
 * raw body → signature (JWT) → JSON → schema → domain → 200. Refusals are kept in webhook_log.
 */
export async function vonageWebhookRouter(deps: VonageWebhookOptions): Promise<Router> {
  return (await vonageKit(deps)).router(await vonageWebhookHandler(deps));
}

// Kept under the path inside the mount (`/inbound`, `/status`), as it always was.
const vonageKit = async (deps: VonageWebhookOptions) => await kitFor(deps, '/webhooks', { logPath: (req) => req.path });

/** One request, live or replayed from webhook_log (webhooks/replay.ts): verify, parse, map, store. */
export async function vonageWebhookHandler(deps: VonageWebhookOptions): Promise<WebhookHandler> {
  const kit = await vonageKit(deps);
  return async (kind: WebhookKind, req: RawWebhookRequest, body: Buffer): Promise<WebhookOutcome> => {
    const refuse = (status: number, outcome: string, error: string, signatureOk: boolean) =>
      kit.keep(req, kind, body, { status, outcome, error }, signatureOk);

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
      const result = await receiveInboundBatched({
        log: deps.log,
        inbound: parsed.data,
        helpText: deps.helpText,
        ...(deps.autoReplyWindowMs !== undefined ? { autoReplyWindowMs: deps.autoReplyWindowMs } : {}),
        ...(deps.onlineAgentIds ? { onlineAgentIds: deps.onlineAgentIds } : {}),
      });
      if (!result.duplicate && result.queuedReply) deps.onQueued?.();
      return { status: 200, outcome: result.duplicate ? 'duplicate' : 'stored' };
    }

    const parsed = vonageStatusSchema.safeParse(json);
    if (!parsed.success) return refuse(200, 'schema_error', parsed.error.message, true);
    const s = parsed.data;
    const outcome = await recordStatusBatched({
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
    return { status: 200, outcome };
  };
}
