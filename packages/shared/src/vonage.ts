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

export const vonageInboundSchema = inboundShape.transform((p, ctx) => ({
  messageUuid: p.message_uuid,
  from: fromProviderNumber(String(p.from)),
  to: fromProviderNumber(String(p.to)),
  text: p.text ?? '',
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
