import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm';
import type { CampaignDto, ProviderName } from '@parley/shared';
import type { Db } from '../db/client';
import { campaignRecipients, campaigns, contacts, messages } from '../db/tables';
import { AppError } from '../errors';
import type { EventLog, Tx } from '../events/log';
import { optedOutReason, personalise } from './campaign-recipients';
import { appendProgressIn, findCampaign, requireCampaign, type CampaignRow } from './campaign-views';
import { PRIORITY } from './outbox';
import { queueMessageIn } from './send';
import { inheritSuppressionIn } from './optout';
import { heldReason, quietHoursJudge } from './quiet-hours';
import { getSettings } from './settings';
import { affected } from '../db/store';

/**
 * The campaign feeder's steps (campaigns/feeder.ts owns the loop and the pace). Each is one
 * transaction, so a crash leaves every recipient either pending or queued with its message — never
 * queued twice.
 */

export async function setCampaignStatus(tx: Tx, id: number, status: CampaignRow['status'], finished: boolean): Promise<CampaignRow> {
  const now = Date.now();
  const row = (
    await tx
      .update(campaigns)
      .set({ status, updatedAt: now, ...(finished ? { finishedAt: now } : {}) })
      .where(eq(campaigns.id, id))
      .returning()
  )[0];
  if (!row) throw new Error(`campaign ${id} vanished inside its transaction`);
  return row;
}

/** Campaigns the feeder works on, oldest first. */
export async function runningCampaigns(db: Db): Promise<{ id: number; provider: ProviderName }[]> {
  return await db
    .select({ id: campaigns.id, provider: campaigns.provider })
    .from(campaigns)
    .where(eq(campaigns.status, 'running'))
    .orderBy(asc(campaigns.id));
}

/** A campaign's messages still `queued` (in the outbox, claimed or not); partial index messages_campaign_status_idx. */
export async function queuedCampaignMessages(db: Db, id: number): Promise<number> {
  return (
    (
      await db
        .select({ n: sql<number>`count(*)` })
        .from(messages)
        .where(and(eq(messages.campaignId, id), eq(messages.status, 'queued')))
    )[0]?.n ?? 0
  );
}

export interface FeedResult {
  /** Recipients handed to the outbox (a message each). */
  queued: number;
  /** Recipients that opted out (or became unsendable) since the campaign was created. */
  skipped: number;
  /** Recipients outside their quiet-hours window: state 'held' until it opens. */
  held: number;
  /** Pending recipients are left after this step. */
  more: boolean;
}

/**
 * Queues up to `max` pending recipients of a running campaign, in list order: each gets its message
 * (in the contact's conversation, `{name}` personalised) and outbox row at campaign priority, and
 * is marked queued with its message id — one transaction. A contact who opted out since creation is
 * skipped. Nothing happens unless the campaign is running.
 */
export async function feedCampaign({
  log,
  id,
  max,
  now = Date.now(),
}: {
  log: EventLog;
  id: number;
  max: number;
  now?: number;
}): Promise<FeedResult> {
  return await log.write(async (tx, append) => {
    const result: FeedResult = { queued: 0, skipped: 0, held: 0, more: false };
    const campaign = await findCampaign(log.db, id);
    if (!campaign || campaign.status !== 'running' || max <= 0) return result;
    // Quiet hours (the workspace window, unless an admin switched them off for this campaign),
    // judged in each recipient's own time zone at the feeder's clock.
    const window = campaign.quietHours ? (await getSettings(tx)).quietHours : null;
    const judge = window ? quietHoursJudge(now, window) : null;
    const pending = await tx
      .select({ id: campaignRecipients.id, phone: campaignRecipients.phone, name: campaignRecipients.name })
      .from(campaignRecipients)
      .where(and(eq(campaignRecipients.campaignId, id), eq(campaignRecipients.state, 'pending')))
      .orderBy(asc(campaignRecipients.id))
      .limit(max + 1);
    result.more = pending.length > max;
    for (const r of pending.slice(0, max)) {
      const mark = async (patch: Partial<typeof campaignRecipients.$inferInsert>) =>
        await tx.update(campaignRecipients).set(patch).where(eq(campaignRecipients.id, r.id));
      const verdict = judge && r.phone ? judge(r.phone) : null;
      if (verdict && !verdict.open) {
        await mark({ state: 'held', heldUntil: verdict.until, reason: heldReason(verdict) });
        result.held += 1;
        continue;
      }
      try {
        // A name from the CSV fills in a contact without one (never overwrites an agent's edit).
        if (r.phone && r.name && r.name.trim() !== '') {
          await tx
            .insert(contacts)
            .values({ phone: r.phone, name: r.name.trim(), createdAt: Date.now() })
            .onConflictDoUpdate({ target: contacts.phone, set: { name: sql`coalesce(${contacts.name}, excluded.name)` } });
        }
        const { message, conversation } = await queueMessageIn(tx, append, {
          ourNumber: campaign.ourNumber,
          provider: campaign.provider,
          to: r.phone ?? '',
          text: personalise(campaign.text, r.name),
          agentId: null,
          campaignId: id,
          priority: PRIORITY.campaign,
        });
        await mark({ state: 'queued', messageId: message.id, contactId: conversation.contactId });
        result.queued += 1;
      } catch (err) {
        // queueMessageIn refuses before it writes anything: the rest of the batch goes on.
        if (!(err instanceof AppError) || (err.code !== 'OPTED_OUT' && err.code !== 'BAD_REQUEST')) throw err;
        const contact = (
          await tx
            .select()
            .from(contacts)
            .where(eq(contacts.phone, r.phone ?? ''))
        )[0];
        if (err.code === 'OPTED_OUT' && contact?.optedOutAt != null) {
          const reason = `${optedOutReason({ optedOutAt: contact.optedOutAt, source: contact.optOutSource })}, after the campaign was created`;
          await mark({ state: 'skipped', reason, contactId: contact.id });
        } else if (err.code === 'OPTED_OUT') {
          // On the suppression list (erased after opting out): a contact the CSV re-created inherits it.
          if (contact) await inheritSuppressionIn(tx, append, contact.id);
          await mark({ state: 'skipped', reason: 'Opted out (STOP) before its contact was erased', contactId: contact?.id ?? null });
        } else {
          await mark({ state: 'invalid', reason: err.message });
        }
        result.skipped += 1;
      }
    }
    return result;
  });
}

/**
 * Held recipients whose window opened (held_until <= now) become pending again, in their list
 * place; all of a campaign's held recipients when quiet hours no longer apply to it (switched off
 * in the settings). No event: the feeder marks the campaign's progress dirty. Returns how many.
 */
export async function releaseHeldRecipients({ log, id, now }: { log: EventLog; id: number; now: number }): Promise<number> {
  return await log.write(async (tx) => {
    const campaign = await findCampaign(log.db, id);
    if (!campaign) return 0;
    const applies = campaign.quietHours && (await getSettings(tx)).quietHours !== null;
    const held = and(eq(campaignRecipients.campaignId, id), eq(campaignRecipients.state, 'held'));
    return affected(
      await tx
        .update(campaignRecipients)
        .set({ state: 'pending', heldUntil: null, reason: null })
        .where(applies ? and(held, lte(campaignRecipients.heldUntil, now)) : held),
    );
  });
}

/** A running campaign with nothing pending and nothing queued becomes done (with a progress event). */
export async function finishCampaignIfDone({ log, id }: { log: EventLog; id: number }): Promise<CampaignDto | null> {
  return await log.write(async (tx, append) => {
    const campaign = await findCampaign(log.db, id);
    if (!campaign || campaign.status !== 'running') return null;
    const pending = (
      await tx
        .select({ id: campaignRecipients.id })
        .from(campaignRecipients)
        .where(and(eq(campaignRecipients.campaignId, id), inArray(campaignRecipients.state, ['pending', 'held'])))
        .limit(1)
    )[0];
    if (pending || (await queuedCampaignMessages(log.db, id)) > 0) return null;
    return await appendProgressIn(log.db, append, await setCampaignStatus(tx, id, 'done', true));
  });
}

/** A `campaign.progress` event in its own transaction (the feeder's coalesced updates). */
export async function appendCampaignProgress({ log, id }: { log: EventLog; id: number }): Promise<CampaignDto> {
  return await log.write(async (_tx, append) => await appendProgressIn(log.db, append, await requireCampaign(log.db, id)));
}
