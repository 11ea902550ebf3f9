/**
 * Campaigns, contacts and stats: procedure inputs and wire shapes (issue 5). Server and web both
 * import these; the server declares the inputs with `.input()`.
 */
import { z } from 'zod';
import type { ContactDto } from './dto';
import type { SmsEncoding } from './sms';
import { MAX_TEXT_CHARS, pageCursor, pageLimit, searchText } from './inputs';
import { e164Schema } from './phone';

/** running → paused ⇄ running → done; running|paused → cancelled. done and cancelled are final. */
export const CAMPAIGN_STATUSES = ['running', 'paused', 'done', 'cancelled'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** Most recipients one campaign takes (a CSV of this many rows is a few MB). */
export const MAX_CAMPAIGN_RECIPIENTS = 200_000;

export const campaignRecipientInput = z.object({
  phone: z.string().max(64),
  name: z.string().max(200).nullish(),
});

/**
 * Recipients: an array of numbers (or `{ phone, name }`), or CSV text with a header row that names a
 * phone column (`phone`, `number`, `mobile`, `msisdn`, `to`) and optionally a `name` column.
 */
export const campaignRecipientsInput = z.union([
  z.array(z.union([z.string().max(64), campaignRecipientInput])).max(MAX_CAMPAIGN_RECIPIENTS),
  z.string().max(32 * 1024 * 1024),
]);

export const campaignCreateInput = z.object({
  name: z.string().trim().min(1, 'Give the campaign a name').max(200),
  /** `{name}` is replaced by each recipient's name (from the CSV), or removed when there is none. */
  text: z.string().min(1, 'Type the message').max(MAX_TEXT_CHARS),
  recipients: campaignRecipientsInput,
  /** Our number to send from (E.164); default: the configured default number. */
  from: e164Schema.optional(),
  /** false: send at any hour, ignoring the recipients' quiet hours (admins only; audited). Default true. */
  quietHours: z.boolean().optional(),
});

/** Same input as create, nothing written: the validation report and the cost, for the form. */
export const campaignPreviewInput = campaignCreateInput.partial({ name: true });

export const campaignIdInput = z.object({ id: z.number().int().positive() });

/** `campaign.list()` takes no input; optionally a status filter and keyset paging (newest first). */
export const campaignListInput = z
  .object({
    status: z.enum(CAMPAIGN_STATUSES).optional(),
    cursor: pageCursor,
    limit: pageLimit,
  })
  .optional();

export const CAMPAIGN_RECIPIENT_STATES = [
  /** valid, not handed to the outbox yet */
  'pending',
  /** outside the recipient's quiet-hours window: waits until it opens (`heldUntil`) */
  'held',
  'queued',
  'submitted',
  'delivered',
  'failed',
  'interrupted',
  /** opted out (STOP) before it was sent */
  'skipped',
  'invalid',
  'duplicate',
  'cancelled',
] as const;
export type CampaignRecipientState = (typeof CAMPAIGN_RECIPIENT_STATES)[number];

export const campaignRecipientsListInput = z.object({
  id: z.number().int().positive(),
  state: z.enum(CAMPAIGN_RECIPIENT_STATES).optional(),
  cursor: pageCursor,
  limit: pageLimit,
});

export interface CampaignCounts {
  /** Rows given (CSV data rows or array entries). */
  total: number;
  invalid: number;
  duplicate: number;
  /** Opted out, never sent. */
  skipped: number;
  pending: number;
  /** Waiting for their quiet-hours window to open. */
  held: number;
  queued: number;
  submitted: number;
  delivered: number;
  failed: number;
  interrupted: number;
  cancelled: number;
}

export interface CampaignDto {
  id: number;
  name: string;
  text: string;
  status: CampaignStatus;
  ourNumber: string;
  encoding: SmsEncoding;
  /** Segments of the text before personalisation. */
  segments: number;
  counts: CampaignCounts;
  /** Whether the recipients' quiet hours apply (false: an admin switched them off for this campaign). */
  quietHours: boolean;
  createdByAgentId: number | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface CampaignRecipientDto {
  id: number;
  /** 1-based line in the CSV (the header is line 1), or the array index + 1. */
  line: number;
  /** As given. */
  input: string;
  /** E.164, or null when invalid. */
  phone: string | null;
  name: string | null;
  state: CampaignRecipientState;
  /** Why invalid / skipped / failed / held ("Held for quiet hours until 08:00 (their time)"). */
  reason: string | null;
  /** state 'held': when their window opens (ISO). */
  heldUntil: string | null;
  messageId: number | null;
  conversationId: number | null;
}

export interface CampaignPreviewDto {
  encoding: SmsEncoding;
  segments: number;
  /** Valid, unique, not opted out. */
  sendable: number;
  /** segments × sendable (personalised texts counted one by one). */
  totalSegments: number;
  counts: Pick<CampaignCounts, 'total' | 'invalid' | 'duplicate' | 'skipped'>;
  /** The first rows that will not be sent (invalid, duplicate, opted out), with reasons. */
  problems: Pick<CampaignRecipientDto, 'line' | 'input' | 'state' | 'reason'>[];
  /** CSV lines that could not be read (e.g. a quote never closed); a campaign is not created while there are any. */
  csvErrors: { line: number; reason: string }[];
}

/** `campaign.list` output: newest first. */
export interface CampaignListDto {
  items: CampaignDto[];
  nextCursor: string | null;
}

/** `campaign.create` output: the campaign plus the first rows it will not send (as in the preview). */
export interface CampaignCreatedDto extends CampaignDto {
  problems: CampaignPreviewDto['problems'];
}

/** `campaign.recipients` output: in CSV/list order. */
export interface CampaignRecipientsPageDto {
  items: CampaignRecipientDto[];
  nextCursor: string | null;
}

// ---- contacts ----

export const contactListInput = z
  .object({
    search: searchText.optional(),
    optedOut: z.boolean().optional(),
    cursor: pageCursor,
    limit: pageLimit,
  })
  .optional();

export const contactUpdateInput = z.object({
  id: z.number().int().positive(),
  name: z.string().trim().max(200).nullable(),
});

/** A contact in `contact.list`: the contact plus its conversations' count and latest activity. */
export interface ContactListItemDto extends ContactDto {
  conversationCount: number;
  lastMessageAt: string | null;
}

/** `contact.list` output: newest contacts first. */
export interface ContactListDto {
  items: ContactListItemDto[];
  nextCursor: string | null;
}

/** `contact.exportOptOuts` output: a CSV (`phone,name,opted_out_at,source`) for the browser to download. */
export interface OptOutExportDto {
  filename: string;
  csv: string;
  /** Data rows in the CSV. */
  count: number;
}

// ---- stats ----

export const statsSummaryInput = z
  .object({
    /** ISO-8601; default 30 days ago. */
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    bucket: z.enum(['hour', 'day']).optional(),
  })
  .optional();

export interface StatsBucket {
  start: string;
  inbound: number;
  outbound: number;
  delivered: number;
  failed: number;
}

export interface StatsSummary {
  since: string;
  until: string;
  bucket: 'hour' | 'day';
  inbound: number;
  outbound: number;
  delivered: number;
  /** rejected, undeliverable, failed */
  failed: number;
  /** queued, submitted, interrupted */
  pending: number;
  /** delivered / (delivered + failed), or null with neither. */
  deliveryRate: number | null;
  medianTimeToDeliveredMs: number | null;
  failuresByReason: { code: string | null; reason: string; count: number }[];
  buckets: StatsBucket[];
}
