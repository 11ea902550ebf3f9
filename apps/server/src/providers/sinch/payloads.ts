/**
 * What Sinch's SMS callbacks carry, read into what the domain takes: inbound texts (`mo_text`), MMS
 * (`mo_media`) and delivery reports (`recipient_delivery_report_sms`, `delivery_report_sms`).
 * webhooks.ts dispatches on the body's `type` and stores what these return.
 */
import { z } from 'zod';
import { fromProviderNumber, parseProviderTimestamp } from '@parley/shared';
import type { InboundSms } from '../../domain/receive';
import type { InboundMedia } from '../../domain/media';
import type { StatusReport } from '../../domain/status';
import { sinchCodeReason, sinchStatusToParley } from './errors';

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

// ---- Reading a callback ----

/** A body read as one callback type: what the domain takes, or the schema's complaint. */
export type SinchRead<T> = { ok: true; value: T } | { ok: false; error: z.ZodError };

function inboundOf(p: { id: string; from: string; to: string; received_at: string }, text: string, media?: InboundMedia[]): InboundSms {
  return {
    messageUuid: p.id,
    from: p.from,
    to: p.to,
    text,
    timestamp: p.received_at,
    numMessages: null,
    price: null,
    currency: null,
    ...(media ? { media } : {}),
  };
}

/** An inbound text (`mo_text`) or MMS (`mo_media`, its text in `body.message` or `subject`). */
export function readSinchInbound(type: 'mo_text' | 'mo_media', json: unknown): SinchRead<InboundSms> {
  if (type === 'mo_text') {
    const parsed = moTextSchema.safeParse(json);
    if (!parsed.success) return { ok: false, error: parsed.error };
    return { ok: true, value: inboundOf(parsed.data, parsed.data.body ?? '') };
  }
  const parsed = moMediaSchema.safeParse(json);
  if (!parsed.success) return { ok: false, error: parsed.error };
  const p = parsed.data;
  return { ok: true, value: inboundOf(p, p.body.message ?? p.body.subject ?? '', sinchMedia(p.body.media)) };
}

/** A per-recipient delivery report: timed by the operator's status time when given, else Sinch's. */
export function readSinchRecipientReport(json: unknown): SinchRead<StatusReport> {
  const parsed = recipientReportSchema.safeParse(json);
  if (!parsed.success) return { ok: false, error: parsed.error };
  const p = parsed.data;
  return {
    ok: true,
    value: statusReport({
      batchId: p.batch_id,
      clientRef: p.client_reference,
      status: p.status,
      code: p.code,
      timestamp: Date.parse(p.operator_status_at ?? p.at),
      raw: p,
    }),
  };
}

/**
 * A batch report. Parley sends one recipient per batch with per_recipient reports, so a batch report only
 * comes if the service plan or someone else's send asked for summary/full. One recipient with one status
 * is that recipient's status (a batch report has no time of its own, so the time of receipt stands in).
 * Several recipients are not a Parley send: there is no per-message status to take from counts, so the
 * value is null and the body is kept for review.
 */
export function readSinchBatchReport(json: unknown): SinchRead<StatusReport | null> {
  const parsed = batchReportSchema.safeParse(json);
  if (!parsed.success) return { ok: false, error: parsed.error };
  const p = parsed.data;
  const [only] = p.statuses;
  if (only !== undefined && p.statuses.length === 1 && only.count === 1 && (p.total_message_count ?? 1) === 1) {
    return {
      ok: true,
      value: statusReport({
        batchId: p.batch_id,
        clientRef: p.client_reference,
        status: only.status,
        code: only.code,
        timestamp: Date.now(),
        raw: p,
      }),
    };
  }
  return { ok: true, value: null };
}
