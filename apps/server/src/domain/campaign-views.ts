import { and, desc, eq, gt, inArray, lt, ne, or, isNull, sql, type SQL } from 'drizzle-orm';
import type {
  CampaignCounts,
  CampaignDto,
  CampaignListDto,
  CampaignRecipientDto,
  CampaignRecipientState,
  CampaignRecipientsPageDto,
  CampaignStatus,
} from '@parley/shared';
import type { Db } from '../db/client';
import { mapInOrder } from '../db/store';
import { campaignRecipients, campaigns, messages } from '../db/tables';
import { AppError } from '../errors';
import type { Append } from '../events/log';
import { DEFAULT_PAGE, MAX_PAGE } from './conversation';

export type CampaignRow = typeof campaigns.$inferSelect;
type RecipientRow = typeof campaignRecipients.$inferSelect;

/** The error code a campaign's unsent messages get when it is cancelled (counted as cancelled, not failed). */
export const CANCELLED_CODE = 'CANCELLED';
export const CANCELLED_REASON = 'Campaign cancelled before this message was sent';

type LiveState = Extract<CampaignRecipientState, 'queued' | 'submitted' | 'delivered' | 'failed' | 'interrupted'>;

/** A campaign message's status as a recipient state. */
export function stateOfStatus(status: string): LiveState {
  switch (status) {
    case 'queued':
      return 'queued';
    case 'delivered':
    case 'read':
      return 'delivered';
    case 'rejected':
    case 'undeliverable':
    case 'failed':
      return 'failed';
    case 'interrupted':
      return 'interrupted';
    default:
      return 'submitted';
  }
}

const STATUSES_OF: Record<LiveState, string[]> = {
  queued: ['queued'],
  submitted: ['submitted'],
  delivered: ['delivered', 'read'],
  failed: ['rejected', 'undeliverable', 'failed'],
  interrupted: ['interrupted'],
};

const notCancelled = or(isNull(messages.errorCode), ne(messages.errorCode, CANCELLED_CODE));
const byId = (db: Db, id: number) => db.select().from(campaigns).where(eq(campaigns.id, id));
// Both covering: campaign_recipients_state_idx and the partial messages_campaign_status_idx.
const recipientStates = (db: Db, id: number) =>
  db
    .select({ state: campaignRecipients.state, n: sql<number>`count(*)` })
    .from(campaignRecipients)
    .where(eq(campaignRecipients.campaignId, id))
    .groupBy(campaignRecipients.state);
const messageStatuses = (db: Db, id: number) =>
  db
    .select({ status: messages.status, n: sql<number>`count(*)` })
    .from(messages)
    .where(and(eq(messages.campaignId, id), notCancelled))
    .groupBy(messages.status);

/**
 * A campaign's counts now: recipients not handed to the outbox by their own state, the others by
 * their message's status. Two grouped index-only scans.
 */
export async function campaignCounts(db: Db, row: CampaignRow): Promise<CampaignCounts> {
  const counts: CampaignCounts = {
    total: row.totalCount,
    invalid: 0,
    duplicate: 0,
    skipped: 0,
    pending: 0,
    held: 0,
    queued: 0,
    submitted: 0,
    delivered: 0,
    failed: 0,
    interrupted: 0,
    cancelled: 0,
  };
  for (const { state, n } of await recipientStates(db, row.id)) {
    if (state !== 'queued') counts[state] += Number(n);
  }
  for (const { status, n } of await messageStatuses(db, row.id)) counts[stateOfStatus(status)] += Number(n);
  return counts;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function toCampaignDto(row: CampaignRow, counts: CampaignCounts): CampaignDto {
  return {
    id: row.id,
    name: row.name,
    text: row.text,
    status: row.status,
    ourNumber: row.ourNumber,
    encoding: row.encoding,
    segments: row.segments,
    counts,
    quietHours: row.quietHours,
    createdByAgentId: row.createdByAgentId,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
    finishedAt: row.finishedAt === null ? null : iso(row.finishedAt),
  };
}

export async function findCampaign(db: Db, id: number): Promise<CampaignRow | undefined> {
  return (await byId(db, id))[0];
}

export async function requireCampaign(db: Db, id: number): Promise<CampaignRow> {
  const row = await findCampaign(db, id);
  if (!row) throw new AppError('NOT_FOUND', `Campaign ${id} not found`);
  return row;
}

/** Appends `campaign.progress` with the counts now, inside the caller's transaction. */
export async function appendProgressIn(db: Db, append: Append, row: CampaignRow): Promise<CampaignDto> {
  const campaign = toCampaignDto(row, await campaignCounts(db, row));
  append({ type: 'campaign.progress', payload: { campaign } });
  return campaign;
}

export async function loadCampaignDto(db: Db, id: number): Promise<CampaignDto> {
  const row = await requireCampaign(db, id);
  return toCampaignDto(row, await campaignCounts(db, row));
}

// ── pages ─────────────────────────────────────────────────────────────────────────────────────────

const pageSize = (limit: number | undefined) => Math.min(Math.max(Math.trunc(limit ?? DEFAULT_PAGE), 1), MAX_PAGE);

/** Opaque cursor over an id (base64url JSON). */
export function encodeIdCursor(id: number): string {
  return Buffer.from(JSON.stringify([id])).toString('base64url');
}

export function decodeIdCursor(cursor: string): number {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 1 && Number.isInteger(v[0])) return v[0] as number;
  } catch {
    // fall through
  }
  throw new AppError('BAD_REQUEST', 'Invalid cursor: pass back a nextCursor exactly as it was returned');
}

/** Campaigns newest first, with live counts. */
export async function listCampaigns(opts: {
  db: Db;
  status?: CampaignStatus;
  cursor?: string | null;
  limit?: number;
}): Promise<CampaignListDto> {
  const limit = pageSize(opts.limit);
  const where: (SQL | undefined)[] = [opts.status ? eq(campaigns.status, opts.status) : undefined];
  if (opts.cursor) where.push(lt(campaigns.id, decodeIdCursor(opts.cursor)));
  const rows = await opts.db
    .select()
    .from(campaigns)
    .where(and(...where))
    .orderBy(desc(campaigns.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: await mapInOrder(page, async (r) => toCampaignDto(r, await campaignCounts(opts.db, r))),
    nextCursor: rows.length > limit && last ? encodeIdCursor(last.id) : null,
  };
}

type MessagePart = { status: string | null; errorCode: string | null; errorReason: string | null; conversationId: number | null };

function toRecipientDto(r: RecipientRow, m: MessagePart): CampaignRecipientDto {
  const live = r.state === 'queued' && m.status !== null;
  const state: CampaignRecipientState = live ? stateOfStatus(m.status ?? '') : r.state;
  const reason = live ? (state === 'failed' || state === 'interrupted' ? (m.errorReason ?? m.errorCode) : null) : r.reason;
  return {
    id: r.id,
    line: r.line,
    input: r.input,
    phone: r.phone,
    name: r.name,
    state,
    reason,
    heldUntil: r.state === 'held' && r.heldUntil !== null ? iso(r.heldUntil) : null,
    messageId: r.messageId,
    conversationId: m.conversationId,
  };
}

/** Recipients in list/CSV order, optionally only those in one state (live states come from the messages). */
export async function listRecipients(opts: {
  db: Db;
  id: number;
  state?: CampaignRecipientState;
  cursor?: string | null;
  limit?: number;
}): Promise<CampaignRecipientsPageDto> {
  await requireCampaign(opts.db, opts.id);
  const limit = pageSize(opts.limit);
  const where: (SQL | undefined)[] = [eq(campaignRecipients.campaignId, opts.id)];
  const state = opts.state;
  if (
    state === 'pending' ||
    state === 'held' ||
    state === 'skipped' ||
    state === 'invalid' ||
    state === 'duplicate' ||
    state === 'cancelled'
  ) {
    where.push(eq(campaignRecipients.state, state));
  } else if (state !== undefined) {
    where.push(eq(campaignRecipients.state, 'queued'), inArray(messages.status, STATUSES_OF[state]));
  }
  if (opts.cursor) where.push(gt(campaignRecipients.id, decodeIdCursor(opts.cursor)));
  const rows = await opts.db
    .select({
      r: campaignRecipients,
      status: messages.status,
      errorCode: messages.errorCode,
      errorReason: messages.errorReason,
      conversationId: messages.conversationId,
    })
    .from(campaignRecipients)
    .leftJoin(messages, eq(messages.id, campaignRecipients.messageId))
    .where(and(...where))
    .orderBy(campaignRecipients.id)
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map((row) => toRecipientDto(row.r, row)),
    nextCursor: rows.length > limit && last ? encodeIdCursor(last.r.id) : null,
  };
}
