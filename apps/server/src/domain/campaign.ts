import { and, eq, inArray, isNotNull } from 'drizzle-orm';
import { MAX_TEXT_CHARS, countSms } from '@parley/shared';
import type { CampaignCreatedDto, CampaignDto, CampaignPreviewDto, ProviderName } from '@parley/shared';
import type { Db } from '../db/client';
import { campaignRecipients, campaigns, contacts, messages, outbox } from '../db/tables';
import { AppError } from '../errors';
import type { EventLog, Tx } from '../events/log';
import {
  classifyRows,
  describeCsvErrors,
  normaliseRows,
  readRecipients,
  type CheckedRow,
  type NormalisedRow,
  type OptedOutContact,
  type RecipientReport,
  type RecipientsInput,
} from './campaign-recipients';
import { setCampaignStatus } from './campaign-feed';
import { CANCELLED_CODE, CANCELLED_REASON, appendProgressIn, campaignCounts, requireCampaign, toCampaignDto } from './campaign-views';
import { toMessageDto } from './views';
import { SYSTEM_ACTOR, recordAudit, type AuditActor } from './audit';
import { one } from '../db/store';

export interface CampaignTextInput {
  text: string;
  recipients: RecipientsInput;
}

export interface CreateCampaignInput extends CampaignTextInput {
  log: EventLog;
  name: string;
  /** Our sending number and its provider (from the number registry). */
  ourNumber: string;
  provider: ProviderName;
  agentId: number | null;
  /** false: the recipients' quiet hours do not apply (an admin's decision, audited). Default true. */
  quietHours?: boolean | undefined;
  /** Who creates it, for the audit log (default: Parley itself). */
  actor?: AuditActor;
}

function checkText(text: string): void {
  if (text.trim() === '') throw new AppError('BAD_REQUEST', 'Type the message');
  const length = Array.from(text).length;
  if (length > MAX_TEXT_CHARS) throw new AppError('BAD_REQUEST', `The text is ${length} characters; the limit is ${MAX_TEXT_CHARS}`);
}

/** Opted-out contacts by E.164 (read inside the writing transaction, so none slips through). */
async function loadOptedOut(db: Db): Promise<Map<string, OptedOutContact>> {
  const rows = await db
    .select({ id: contacts.id, phone: contacts.phone, optedOutAt: contacts.optedOutAt, source: contacts.optOutSource })
    .from(contacts)
    .where(isNotNull(contacts.optedOutAt));
  return new Map(rows.map((r) => [r.phone, { id: r.id, optedOutAt: r.optedOutAt ?? 0, source: r.source }]));
}

/** Rows read and normalised (no database): the slow part, done before the writing transaction. */
async function readAndNormalise(
  input: CampaignTextInput,
): Promise<{ normalised: NormalisedRow[]; csvErrors: CampaignPreviewDto['csvErrors'] }> {
  checkText(input.text);
  const { rows, csvErrors } = await readRecipients(input.recipients);
  return { normalised: await normaliseRows(rows, input.text), csvErrors };
}

/** The validation report and cost of a campaign, nothing written; CSV lines that could not be read are listed in `csvErrors`. */
export async function previewCampaign({ db, ...input }: CampaignTextInput & { db: Db }): Promise<CampaignPreviewDto> {
  const { normalised, csvErrors } = await readAndNormalise(input);
  const r = classifyRows(normalised, await loadOptedOut(db));
  const count = countSms(input.text);
  return {
    encoding: count.encoding,
    segments: Math.max(count.segments, 1),
    sendable: r.sendable,
    totalSegments: r.totalSegments,
    counts: r.counts,
    problems: r.problems,
    csvErrors: csvErrors.slice(0, MAX_CSV_ERRORS),
  };
}

/** CSV lines that could not be read, listed in a preview at most. */
const MAX_CSV_ERRORS = 100;

function nothingToSend(r: RecipientReport): string {
  const parts = [
    r.counts.invalid > 0 ? `${r.counts.invalid} invalid` : '',
    r.counts.duplicate > 0 ? `${r.counts.duplicate} duplicate` : '',
    r.counts.skipped > 0 ? `${r.counts.skipped} opted out` : '',
  ].filter((s) => s !== '');
  const first = r.problems[0];
  const example = first ? ` (line ${first.line}: ${first.reason ?? first.state})` : '';
  return `No recipient can be sent to: of ${r.counts.total}, ${parts.join(', ')}${example}`;
}

/** One multi-row INSERT per this many recipients (8 columns each: well under SQLite's 32,766 variables). */
const INSERT_BATCH = 500;

/** Bulk insert in the caller's transaction: one multi-row statement per INSERT_BATCH recipients. */
async function insertRecipients(db: Db, campaignId: number, rows: CheckedRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_BATCH) {
    await db.insert(campaignRecipients).values(
      rows.slice(i, i + INSERT_BATCH).map((r) => ({
        campaignId,
        line: r.line,
        input: r.input,
        phone: r.phone,
        name: r.name,
        state: r.state,
        reason: r.reason,
        contactId: r.contactId,
      })),
    );
  }
}

/**
 * Creates a running campaign: every row validated (E.164, possible-number rules), duplicates
 * collapsed, opted-out contacts skipped, then the campaign and all its recipient rows written in one
 * transaction with a `campaign.progress` event. No message is queued here: the campaign feeder
 * queues recipients a window at a time (wake it after this returns). Throws BAD_REQUEST when the
 * input cannot be read or no recipient can be sent to.
 */
export async function createCampaign(opts: CreateCampaignInput): Promise<CampaignCreatedDto> {
  const { log } = opts;
  const { normalised, csvErrors } = await readAndNormalise(opts);
  // Never a campaign from a file that did not parse completely: the lost lines could be recipients.
  if (csvErrors.length > 0) {
    throw new AppError('BAD_REQUEST', `The CSV did not parse completely, so no campaign was created: ${describeCsvErrors(csvErrors)}`);
  }
  return await log.write(async (tx, append) => {
    const r = classifyRows(normalised, await loadOptedOut(log.db));
    if (r.sendable === 0) throw new AppError('BAD_REQUEST', nothingToSend(r));
    const now = Date.now();
    const count = countSms(opts.text);
    const row = one(
      await tx
        .insert(campaigns)
        .values({
          name: opts.name.trim(),
          text: opts.text,
          status: 'running',
          ourNumber: opts.ourNumber,
          provider: opts.provider,
          encoding: count.encoding,
          segments: Math.max(count.segments, 1),
          totalCount: r.counts.total,
          invalidCount: r.counts.invalid,
          duplicateCount: r.counts.duplicate,
          skippedCount: r.counts.skipped,
          createdByAgentId: opts.agentId,
          createdAt: now,
          updatedAt: now,
          quietHours: opts.quietHours !== false,
        })
        .returning(),
    );
    await insertRecipients(log.db, row.id, r.rows);
    const actor = opts.actor ?? SYSTEM_ACTOR;
    const target = { type: 'campaign', id: row.id };
    await recordAudit(tx, {
      actor,
      action: 'campaign.created',
      target,
      detail: { name: row.name, recipients: r.sendable, from: row.ourNumber },
      now,
    });
    if (!row.quietHours)
      await recordAudit(tx, { actor, action: 'campaign.quiet_hours_overridden', target, detail: { name: row.name }, now });
    const campaign = await appendProgressIn(log.db, append, row);
    return { ...campaign, problems: r.problems };
  });
}

/** Ids of a campaign's messages still `queued` (partial index messages_campaign_status_idx). */
const queuedMessageIds = (tx: Tx, id: number) =>
  tx
    .select({ id: messages.id })
    .from(messages)
    .where(and(eq(messages.campaignId, id), eq(messages.status, 'queued')));

/**
 * Pauses a running campaign at once: the feeder stops queueing it and its outbox rows not yet
 * claimed become `held` (the worker claims only `queued` rows); a send already in flight finishes.
 * Pausing a paused campaign changes nothing.
 */
export async function pauseCampaign({
  log,
  id,
  actor = SYSTEM_ACTOR,
}: {
  log: EventLog;
  id: number;
  actor?: AuditActor;
}): Promise<CampaignDto> {
  return await log.write(async (tx, append) => {
    const row = await requireCampaign(log.db, id);
    if (row.status === 'paused') return toCampaignDto(row, await campaignCounts(log.db, row));
    if (row.status !== 'running') {
      throw new AppError('PRECONDITION_FAILED', `Campaign ${id} is ${row.status}; only a running campaign can be paused`);
    }
    await tx
      .update(outbox)
      .set({ state: 'held' })
      .where(and(eq(outbox.state, 'queued'), inArray(outbox.messageId, queuedMessageIds(tx, id))));
    await recordAudit(tx, { actor, action: 'campaign.paused', target: { type: 'campaign', id }, detail: { name: row.name } });
    return await appendProgressIn(log.db, append, await setCampaignStatus(tx, id, 'paused', false));
  });
}

/** Resumes a paused campaign: held rows back to `queued`. Wake the outbox and the feeder after. */
export async function resumeCampaign({
  log,
  id,
  actor = SYSTEM_ACTOR,
}: {
  log: EventLog;
  id: number;
  actor?: AuditActor;
}): Promise<CampaignDto> {
  return await log.write(async (tx, append) => {
    const row = await requireCampaign(log.db, id);
    if (row.status === 'running') return toCampaignDto(row, await campaignCounts(log.db, row));
    if (row.status !== 'paused') {
      throw new AppError('PRECONDITION_FAILED', `Campaign ${id} is ${row.status}; only a paused campaign can be resumed`);
    }
    await tx
      .update(outbox)
      .set({ state: 'queued' })
      .where(and(eq(outbox.state, 'held'), inArray(outbox.messageId, queuedMessageIds(tx, id))));
    await recordAudit(tx, { actor, action: 'campaign.resumed', target: { type: 'campaign', id }, detail: { name: row.name } });
    return await appendProgressIn(log.db, append, await setCampaignStatus(tx, id, 'running', false));
  });
}

/**
 * Cancels a running or paused campaign: recipients not yet queued become `cancelled`; queued or
 * held messages not yet claimed leave the outbox and fail with code CANCELLED (a `message.status`
 * each); a send already in flight finishes. Cancelling a cancelled campaign changes nothing.
 */
export async function cancelCampaign({
  log,
  id,
  actor = SYSTEM_ACTOR,
}: {
  log: EventLog;
  id: number;
  actor?: AuditActor;
}): Promise<CampaignDto> {
  return await log.write(async (tx, append) => {
    const row = await requireCampaign(log.db, id);
    if (row.status === 'cancelled') return toCampaignDto(row, await campaignCounts(log.db, row));
    if (row.status === 'done') {
      throw new AppError('PRECONDITION_FAILED', `Campaign ${id} is done; only a running or paused campaign can be cancelled`);
    }
    await tx
      .update(campaignRecipients)
      .set({ state: 'cancelled', reason: CANCELLED_REASON, heldUntil: null })
      .where(and(eq(campaignRecipients.campaignId, id), inArray(campaignRecipients.state, ['pending', 'held'])));
    const unsent = await tx
      .select({ m: messages })
      .from(messages)
      .innerJoin(outbox, eq(outbox.messageId, messages.id))
      .where(and(eq(messages.campaignId, id), eq(messages.status, 'queued'), inArray(outbox.state, ['queued', 'held'])));
    const now = Date.now();
    for (const { m } of unsent) {
      await tx.delete(outbox).where(eq(outbox.messageId, m.id));
      const updated = (
        await tx
          .update(messages)
          .set({ status: 'failed', statusAt: now, errorCode: CANCELLED_CODE, errorReason: CANCELLED_REASON })
          .where(eq(messages.id, m.id))
          .returning()
      )[0];
      if (updated) append({ type: 'message.status', payload: { message: toMessageDto(updated, []), previousStatus: 'queued' } });
    }
    const ids = unsent.map((u) => u.m.id);
    for (let i = 0; i < ids.length; i += 500) {
      await tx
        .update(campaignRecipients)
        .set({ state: 'cancelled', reason: CANCELLED_REASON })
        .where(
          and(
            eq(campaignRecipients.campaignId, id),
            eq(campaignRecipients.state, 'queued'),
            inArray(campaignRecipients.messageId, ids.slice(i, i + 500)),
          ),
        );
    }
    await recordAudit(tx, {
      actor,
      action: 'campaign.cancelled',
      target: { type: 'campaign', id },
      detail: { name: row.name, unsent: unsent.length },
    });
    return await appendProgressIn(log.db, append, await setCampaignStatus(tx, id, 'cancelled', true));
  });
}
