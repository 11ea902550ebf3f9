/**
 * Send later: a message stored `scheduled` with its send_at (no outbox row), queued by the due scan when
 * it falls due — or held for the recipient's quiet hours, or failed when they opted out meanwhile — and
 * cancellable until then.
 */
import { and, asc, eq, gte, isNull, lte, or } from 'drizzle-orm';
import type { MessageDto } from '@parley/shared';
import { contacts, conversations, messages, outbox } from '../db/tables';
import { AppError } from '../errors';
import type { Db } from '../db/client';
import type { EventLog, Tx } from '../events/log';
import { messageDtoOf } from './media';
import { heldReason, quietHoursJudge } from './quiet-hours';
import { getSettings } from './settings';
import { formatUtc } from './views';
import { PRIORITY, loadRow, moveMessage } from './outbox';

/** A contact who texted within this long is in a conversation: replies to them are not held for quiet hours. */
export const CONVERSATIONAL_WINDOW_MS = 24 * 3_600_000;

/** Whether the contact sent us a text (in any of their conversations) since `since`. */
export async function wroteSince(tx: Tx | Db, contactId: number, since: number): Promise<boolean> {
  return (
    (
      await tx
        .select({ id: messages.id })
        .from(messages)
        .innerJoin(conversations, eq(conversations.id, messages.conversationId))
        .where(and(eq(conversations.contactId, contactId), eq(messages.direction, 'in'), gte(messages.createdAt, since)))
        .limit(1)
    )[0] !== undefined
  );
}

/** Send later: at most this far ahead. */
export const MAX_SEND_AHEAD_MS = 366 * 86_400_000;

/** `sendAt` (ISO) as epoch ms: BAD_REQUEST when unreadable, not in the future, or more than a year ahead. */
export function checkSendAt(sendAt: string, now: number): number {
  const at = Date.parse(sendAt);
  if (Number.isNaN(at)) throw new AppError('BAD_REQUEST', `sendAt is not an ISO time: ${sendAt}`);
  if (at <= now) throw new AppError('BAD_REQUEST', 'sendAt is in the past: pick a time in the future');
  if (at > now + MAX_SEND_AHEAD_MS) throw new AppError('BAD_REQUEST', 'sendAt may be at most a year ahead');
  return at;
}

/**
 * The scheduled-send due scan's one pass: every `scheduled` message whose send_at <= now is queued
 * into the outbox (status `queued`), or — when its contact opted out meanwhile — fails with
 * OPTED_OUT and the reason: opt-out is judged at send time, not when it was scheduled. A chunk per
 * transaction. Returns how many were queued (wake the outbox when > 0).
 *
 * Quiet hours: a due message whose recipient is outside the window in their time zone (and has not
 * texted in the last 24 h — then it is a reply in a conversation) is not queued: it gets
 * `held_until` (when their window opens) and the scan passes it by until then — durable, so a
 * restart keeps it. `now` is the injected clock.
 */
export async function releaseDueScheduled({ log, now, batch = 200 }: { log: EventLog; now: number; batch?: number }): Promise<number> {
  let queued = 0;
  for (;;) {
    const seen = await log.write(async (tx, append) => {
      const due = await tx
        .select({ m: messages, optedOutAt: contacts.optedOutAt, contactId: contacts.id, provider: conversations.provider })
        .from(messages)
        .innerJoin(conversations, eq(conversations.id, messages.conversationId))
        .innerJoin(contacts, eq(contacts.id, conversations.contactId))
        .where(
          and(eq(messages.status, 'scheduled'), lte(messages.sendAt, now), or(isNull(messages.heldUntil), lte(messages.heldUntil, now))),
        )
        .orderBy(asc(messages.sendAt), asc(messages.id))
        .limit(batch);
      const window = (await getSettings(tx)).quietHours;
      const judge = window ? quietHoursJudge(now, window) : null;
      for (const { m, optedOutAt, contactId, provider } of due) {
        if (optedOutAt !== null) {
          await moveMessage(tx, append, m, {
            status: 'failed',
            errorCode: 'OPTED_OUT',
            errorReason: `The contact opted out (STOP) on ${formatUtc(optedOutAt)}, before this scheduled message was due; it was not sent`,
          });
          continue;
        }
        if (judge && !(await wroteSince(tx, contactId, now - CONVERSATIONAL_WINDOW_MS))) {
          const verdict = judge(m.to);
          if (!verdict.open) {
            await moveMessage(tx, append, m, { heldUntil: verdict.until, errorReason: heldReason(verdict) });
            continue;
          }
        }
        await moveMessage(tx, append, m, { status: 'queued', heldUntil: null, errorReason: null });
        await tx
          .insert(outbox)
          // Due now on the outbox's own (real) clock: the scan's `now` may be an injected one.
          .values({
            messageId: m.id,
            provider,
            priority: PRIORITY.reply,
            state: 'queued',
            nextAttemptAt: Date.now(),
            createdAt: Date.now(),
          });
        queued += 1;
      }
      return due.length;
    });
    if (seen < batch) return queued;
  }
}

/** Cancels a scheduled message before it is due: status `failed` with errorCode CANCELLED. */
export async function cancelScheduled({ log, id }: { log: EventLog; id: number }): Promise<MessageDto> {
  return await log.write(async (tx, append) => {
    const m = await loadRow(tx, id);
    if (!m) throw new AppError('NOT_FOUND', `Message ${id} not found`);
    if (m.status !== 'scheduled')
      throw new AppError('CONFLICT', `Message ${id} is ${m.status}, not scheduled: it can no longer be cancelled`);
    await moveMessage(tx, append, m, { status: 'failed', errorCode: 'CANCELLED', errorReason: 'Cancelled before it was due' });
    const after = await loadRow(tx, id);
    if (!after) throw new Error(`message ${id} vanished inside its transaction`);
    return await messageDtoOf(tx, after);
  });
}
