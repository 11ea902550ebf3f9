/**
 * Zod schemas for Vonage Messages API v1 webhooks (inbound SMS and status).
 *
 * Lenient where Vonage varies: unknown fields are kept, counts and prices may
 * be strings or numbers, `error.title` may be a string or a number, and
 * timestamps come in several ISO-ish shapes. The inner object schemas do not
 * transform, so the parsed object is a faithful copy of the payload (`raw`);
 * all normalisation happens in the final `.transform`.
 */
import { z } from 'zod';
import { fromProviderNumber } from './phone';
import { parseProviderTimestamp } from './provider-time';

export const VONAGE_STATUSES = ['submitted', 'delivered', 'rejected', 'undeliverable', 'read', 'failed'] as const;
export type KnownVonageStatus = (typeof VONAGE_STATUSES)[number];
/** A known status, or any other string Vonage may add later (kept as is). */
export type VonageStatusValue = KnownVonageStatus | (string & {});

/** A string, or a finite number that Vonage sometimes sends instead. */
const stringish = z.union([z.string(), z.number()]);
const requiredStringish = z.union([z.string().min(1), z.number()]);

function asRecord(parsed: Record<string, unknown>): Record<string, unknown> {
  return parsed;
}

function textOrNull(value: string | number | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const text = String(value).trim();
  return text === '' ? null : text;
}

function countOrNull(value: string | number | null | undefined): number | null {
  const text = textOrNull(value);
  return text !== null && /^\d+$/.test(text) ? Number(text) : null;
}

function numberOrNull(value: string | number | null | undefined): string | null {
  const text = textOrNull(value);
  return text === null ? null : fromProviderNumber(text);
}

const usageShape = z.looseObject({ price: stringish.nullish(), currency: z.string().nullish() }).nullish();

/** An MMS attachment object (`image`, `video`, `audio`, `file`, `vcard`): its URL, maybe a caption or name. */
const attachmentShape = z.looseObject({ url: z.string().min(1), caption: z.string().nullish(), name: z.string().nullish() }).nullish();

/** Vonage's attachment kinds → what the kind claims the content is (checked against the bytes later). */
const ATTACHMENT_KINDS = { image: 'image/*', video: 'video/*', audio: 'audio/*', vcard: 'text/vcard', file: null } as const;

/** An inbound attachment, provider-neutral: where to fetch it and what the payload says it is. */
export interface InboundAttachment {
  url: string;
  contentType: string | null;
  name: string | null;
}

const inboundShape = z.looseObject({
  message_uuid: z.string().min(1),
  from: requiredStringish,
  to: requiredStringish,
  channel: z.string(),
  timestamp: z.string(),
  text: z.string().nullish(),
  message_type: z.string().nullish(),
  sms: z.looseObject({ num_messages: stringish.nullish(), keyword: stringish.nullish() }).nullish(),
  usage: usageShape,
  image: attachmentShape,
  video: attachmentShape,
  audio: attachmentShape,
  file: attachmentShape,
  vcard: attachmentShape,
});

const statusShape = z.looseObject({
  message_uuid: z.string().min(1),
  status: z.string().min(1),
  timestamp: z.string(),
  to: stringish.nullish(),
  from: stringish.nullish(),
  client_ref: stringish.nullish(),
  error: z
    .looseObject({
      type: z.string().nullish(),
      title: stringish.nullish(),
      detail: z.string().nullish(),
      instance: z.string().nullish(),
    })
    .nullish(),
  usage: usageShape,
  sms: z.looseObject({ count_total: stringish.nullish() }).nullish(),
});

function timestampOrIssue(value: string, ctx: z.RefinementCtx): string {
  const iso = parseProviderTimestamp(value);
  if (iso !== null) return iso;
  ctx.addIssue({ code: 'custom', message: 'Unrecognised timestamp format', path: ['timestamp'], input: value });
  return z.NEVER;
}

function attachmentsOf(p: z.output<typeof inboundShape>): InboundAttachment[] {
  const out: InboundAttachment[] = [];
  for (const [kind, claim] of Object.entries(ATTACHMENT_KINDS) as [keyof typeof ATTACHMENT_KINDS, string | null][]) {
    const a = p[kind];
    if (a) out.push({ url: a.url, contentType: claim, name: textOrNull(a.name) });
  }
  return out;
}

/** An MMS's text: `text` when present, else the attachment's caption. */
function captionOf(p: z.output<typeof inboundShape>): string | undefined {
  for (const kind of Object.keys(ATTACHMENT_KINDS) as (keyof typeof ATTACHMENT_KINDS)[]) {
    const caption = p[kind]?.caption;
    if (caption) return caption;
  }
  return undefined;
}

export const vonageInboundSchema = inboundShape.transform((p, ctx) => ({
  messageUuid: p.message_uuid,
  from: fromProviderNumber(String(p.from)),
  to: fromProviderNumber(String(p.to)),
  text: p.text ?? captionOf(p) ?? '',
  media: attachmentsOf(p),
  channel: p.channel,
  messageType: p.message_type ?? 'text',
  timestamp: timestampOrIssue(p.timestamp, ctx),
  numMessages: countOrNull(p.sms?.num_messages),
  keyword: textOrNull(p.sms?.keyword),
  price: textOrNull(p.usage?.price),
  currency: textOrNull(p.usage?.currency),
  raw: asRecord(p),
}));

export const vonageStatusSchema = statusShape.transform((p, ctx) => ({
  messageUuid: p.message_uuid,
  status: p.status as VonageStatusValue,
  timestamp: timestampOrIssue(p.timestamp, ctx),
  to: numberOrNull(p.to),
  from: numberOrNull(p.from),
  clientRef: textOrNull(p.client_ref),
  errorCode: textOrNull(p.error?.title),
  errorTitle: textOrNull(p.error?.type),
  errorDetail: textOrNull(p.error?.detail),
  price: textOrNull(p.usage?.price),
  currency: textOrNull(p.usage?.currency),
  raw: asRecord(p),
}));

export type VonageInbound = z.output<typeof vonageInboundSchema>;
export type VonageStatus = z.output<typeof vonageStatusSchema>;
