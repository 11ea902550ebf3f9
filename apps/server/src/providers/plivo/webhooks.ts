/**
 * Plivo webhooks, mounted at /webhooks/plivo: `POST /inbound` (the Application's message_url) and
 * `POST /status` (the per-message `url` given on each send, with `?ref=<our client ref>`).
 * Raw form body → V3/V2 signature → fields → domain → 200. Refused or odd requests are kept in
 * webhook_log (whole when signed, an excerpt and hash when not). Plivo retries any non-2xx (4xx
 * too) three times over ~7 minutes, so a malformed but genuine callback is answered 200 after it is
 * stored, never refused into a retry loop.
 */
import type { Router } from 'express';
import { fromProviderNumber, parseProviderTimestamp } from '@parley/shared';
import { receiveInbound, type InboundSms } from '../../domain/receive';
import type { InboundMedia } from '../../domain/media';
import { recordStatus } from '../../domain/status';
import { type WebhookLog } from '../../domain/webhook-log';
import { isOurNumber } from '../../numbers';
import { isPlivoNoError, plivoErrorReason, plivoStatusToParley } from './errors';
import type { NonceStore } from '../../webhooks/nonces';
import {
  kitFor,
  type RawWebhookRequest,
  type WebhookHandler,
  type WebhookKind,
  type WebhookKit,
  type WebhookOutcome,
  type WebhookRouterDeps,
} from '../../webhooks/kit';
import { verifyPlivoRequest } from './signature';

export interface PlivoWebhookOptions extends WebhookRouterDeps {
  nonces: NonceStore;
  authToken: string;
  mainAuthToken?: string;
  /** Parley's public base URL, e.g. https://parley.example.com (no trailing slash). */
  publicUrl: () => string;
  /** PLIVO_ALLOW_V2: accept requests signed with V2 only (default false: V2 signs no body). */
  allowV2?: boolean;
}

type Scheme = 'v3' | 'v2';

const FORM_TYPE = /^application\/x-www-form-urlencoded\b/i;
const EMPTY_RESPONSE = '<Response></Response>';
const V2_NOTE = 'accepted with a V2 signature only: the query (ref) and the body are not authenticated';
const TIME_FIELDS = ['DeliveryReportTime', 'SentTime', 'QueuedTime', 'MessageTime'] as const;

export async function plivoWebhookRouter(opts: PlivoWebhookOptions): Promise<Router> {
  return (await plivoKit(opts)).router(await plivoWebhookHandler(opts));
}

/** One request, live or replayed from webhook_log (webhooks/replay.ts). */
export async function plivoWebhookHandler(opts: PlivoWebhookOptions): Promise<WebhookHandler> {
  const kit = await plivoKit(opts);
  // Group commit: the whole (synchronous) handling runs in the next batch transaction, nonce claim and
  // webhook_log included, and is answered once that committed.
  return async (kind, req, body) => await opts.log.writeBatched(async () => await handle(opts, kit, kit.webhookLog, kind, req, body));
}

async function plivoKit(opts: PlivoWebhookOptions) {
  return await kitFor(opts, '/webhooks/plivo', {
    methodNotAllowed: 'method not allowed: use POST (set message_method / method to POST at Plivo)',
    // Kept with its query: `?ref=` is part of what Plivo signed.
    logPath: (req) => req.originalUrl,
    // Plivo reads an inbound answer as XML; an empty <Response> sends nothing (replies go through our outbox).
    answerOk: (kind, res, r) => {
      if (kind === 'inbound') res.status(r.status).type('application/xml').send(EMPTY_RESPONSE);
      else res.status(r.status).json({ ok: true, outcome: r.outcome });
    },
  });
}

/** Plivo's number forms (`14155550123`, `+60124361111`) → E.164; an alphanumeric sender id unchanged. */
function fromPlivoNumber(value: string): string {
  return fromProviderNumber(value.trim());
}

/** `YYYY-MM-DD HH:MM:SS.ffffff`, no zone: read as UTC (as Plivo's list API does). */
function plivoTime(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const iso = parseProviderTimestamp(value);
  return iso === null ? undefined : Date.parse(iso);
}

const countOrNull = (value: string | undefined): number | null =>
  value !== undefined && /^\d+$/.test(value.trim()) && Number(value) > 0 ? Number(value) : null;
const textOrNull = (value: string | undefined): string | null => (value === undefined || value.trim() === '' ? null : value.trim());

async function handle(
  opts: PlivoWebhookOptions,
  kit: WebhookKit,
  webhookLog: WebhookLog,
  kind: WebhookKind,
  req: RawWebhookRequest,
  body: Buffer,
): Promise<WebhookOutcome> {
  const rawBody = body.toString('utf8');
  /** Set once the signature verified. */
  const auth: { scheme?: Scheme } = {};

  /** What the request came to; `problem` (or a V2 signature) also keeps it in webhook_log. */
  const done = async (status: number, outcome: string, problem?: string): Promise<WebhookOutcome> => {
    const scheme = auth.scheme;
    const r: WebhookOutcome = { status, outcome, ...(problem ? { error: problem } : {}), log: { scheme: scheme ?? null } };
    const note = [problem, scheme === 'v2' ? V2_NOTE : undefined].filter((p) => p !== undefined);
    if (note.length > 0) await webhookLog.write({ ...kit.entry(req, kind, body, r, scheme !== undefined), error: note.join('; ') });
    return r;
  };

  if (!FORM_TYPE.test(req.get('content-type') ?? '')) {
    return done(415, 'unsupported_media_type', 'Content-Type must be application/x-www-form-urlencoded (Plivo posts form fields)');
  }

  // URLSearchParams, not qs: bracketed keys stay flat strings and empty fields are kept — both are signed.
  const form = new URLSearchParams(rawBody);
  const pairs = [...form];
  // The URL Plivo called, as it was signed: PUBLIC_URL + path and query. Never rebuilt from Host or
  // req.protocol: behind a proxy or tunnel those say http / an internal host, and the signature breaks
  // (and a client-chosen Host must not decide what we verify against).
  const base = opts.publicUrl().replace(/\/+$/, '');
  const url = `${base}${req.originalUrl}`;
  const verified = await verifyPlivoRequest({
    method: req.method,
    url,
    headers: req.headers,
    params: pairs,
    authToken: opts.authToken,
    ...(opts.mainAuthToken ? { mainAuthToken: opts.mainAuthToken } : {}),
    nonces: opts.nonces,
    allowV2: opts.allowV2 === true,
  });
  if (!verified.ok) return done(verified.status, 'bad_signature', verified.reason);
  auth.scheme = verified.scheme;

  const field = (name: string): string | undefined => form.get(name) ?? undefined;
  const query = new URLSearchParams(req.originalUrl.split('?').slice(1).join('?'));
  return kind === 'inbound' ? await inbound(opts, field, done) : await status(opts, field, pairs, query, verified.scheme, done);
}

type Field = (name: string) => string | undefined;
type Done = (status: number, outcome: string, problem?: string) => Promise<WebhookOutcome>;

async function inbound(opts: PlivoWebhookOptions, field: Field, done: Done): Promise<WebhookOutcome> {
  const type = (field('Type') ?? 'sms').trim().toLowerCase();
  if (type !== 'sms' && type !== 'mms' && type !== '')
    return done(200, 'ignored_type', `Type "${type}" is not handled (Parley takes SMS and MMS)`);
  const messageUuid = textOrNull(field('MessageUUID'));
  const from = textOrNull(field('From'));
  const to = textOrNull(field('To'));
  if (messageUuid === null || from === null || to === null) {
    const missing = [messageUuid === null && 'MessageUUID', from === null && 'From', to === null && 'To'].filter(Boolean).join(', ');
    return done(200, 'schema_error', `inbound without ${missing}`);
  }
  const at = plivoTime(field('MessageTime'));
  // MessageIntent (Plivo's own optout/optin/help detection) is ignored: Parley matches keywords itself
  // (domain/keywords) and its opt-out list is the source of truth; Plivo's shows up as error 200.
  const sms: InboundSms = {
    messageUuid,
    from: fromPlivoNumber(from),
    to: fromPlivoNumber(to),
    // MMS: the text is in `Body`, the attachments in Media0…/Media1… (Plivo's docs show both numberings).
    text: (type === 'mms' ? (field('Body') ?? field('Text')) : field('Text')) ?? '',
    timestamp: new Date(at ?? Date.now()).toISOString(),
    numMessages: countOrNull(field('Units')),
    price: textOrNull(field('TotalAmount')),
    currency: textOrNull(field('Currency')),
    ...(type === 'mms' ? { media: plivoMedia(field) } : {}),
  };
  if (opts.numbers && !isOurNumber(opts.numbers, 'plivo', sms.to)) {
    // Signed but not for us: kept, answered 200 (Plivo would retry a 4xx to no avail), nothing created or sent.
    return done(200, 'not_our_number', `inbound to ${sms.to}, which is not one of Parley's Plivo numbers`);
  }
  const result = await receiveInbound({
    log: opts.log,
    inbound: sms,
    provider: 'plivo',
    helpText: opts.helpText,
    ...(opts.autoReplyWindowMs !== undefined ? { autoReplyWindowMs: opts.autoReplyWindowMs } : {}),
    ...(opts.onlineAgentIds ? { onlineAgentIds: opts.onlineAgentIds } : {}),
  });
  if (!result.duplicate && result.queuedReply) opts.onQueued?.();
  return done(200, result.duplicate ? 'duplicate' : 'stored');
}

/** Plivo MMS attachments: `Media0`…`Media10` (at most 10 per MMS), in order. Plivo names no per-file type. */
function plivoMedia(field: Field): InboundMedia[] {
  const out: InboundMedia[] = [];
  for (let i = 0; i <= 10 && out.length < 10; i++) {
    const url = textOrNull(field(`Media${i}`));
    if (url !== null) out.push({ url, contentType: null });
  }
  return out;
}

async function status(
  opts: PlivoWebhookOptions,
  field: Field,
  pairs: [string, string][],
  query: URLSearchParams,
  scheme: Scheme,
  done: Done,
): Promise<WebhookOutcome> {
  const messageUuid = textOrNull(field('MessageUUID'));
  const plivoStatus = textOrNull(field('Status'));
  if (messageUuid === null || plivoStatus === null) {
    return done(200, 'schema_error', `status callback without ${messageUuid === null ? 'MessageUUID' : 'Status'}`);
  }
  const mapped = plivoStatusToParley(plivoStatus);
  if (mapped === null) {
    // `queued` changes nothing; anything else is new to us: kept for review, still answered 200.
    return plivoStatus.toLowerCase() === 'queued' ? done(200, 'ignored') : done(200, 'ignored', `unknown Plivo status "${plivoStatus}"`);
  }
  // Trust `ref` only under V3, which signs the query. V2 signs scheme://host/path + nonce only, so a
  // captured V2 header set replays with any ?ref= and body: a forged ref could settle another message
  // still waiting for its send answer. By uuid alone a forger would need Plivo's unguessable uuid.
  const ref = scheme === 'v3' ? textOrNull(query.get('ref') ?? undefined) : null;
  const errorCode = textOrNull(field('ErrorCode'));
  const code = isPlivoNoError(errorCode) ? null : errorCode;
  const at = TIME_FIELDS.map((name) => plivoTime(field(name))).find((t) => t !== undefined);
  const outcome = await recordStatus({
    log: opts.log,
    report: {
      // Split messages: current docs say ParentMessageUUID equals MessageUUID; older ones, that parts
      // share the parent (the first part's uuid, the one the send returned).
      providerMessageId: textOrNull(field('ParentMessageUUID')) ?? messageUuid,
      clientRef: ref,
      status: mapped,
      timestamp: at ?? Date.now(),
      errorCode: code,
      errorTitle: null,
      errorDetail: null,
      errorReason: code === null ? null : plivoErrorReason(code),
      price: textOrNull(field('TotalAmount')),
      currency: textOrNull(field('Currency')),
      raw: { ...Object.fromEntries(pairs), ...(ref !== null ? { ref } : {}), scheme },
    },
  });
  return done(200, outcome);
}
