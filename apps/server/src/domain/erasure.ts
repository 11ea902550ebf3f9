/**
 * A contact's data rights (GDPR Art. 15/17/20): export everything Parley holds about one contact,
 * or erase it — and every copy of it.
 *
 * Erasure, in one transaction: the contact's messages (their full-text index entries go with them:
 * the delete trigger, FTS5 secure-delete), status history, outbox rows, notes, conversations and the
 * contact row; every webhook_log row whose body or headers mention the number; every event whose
 * payload carried any of it, rewritten in place as `event.erased` with an empty payload (ids stay,
 * so stream positions stay valid); campaign recipient rows keep their state but lose number, input
 * and name. What is kept: the consent ledger rows (times, states, ids — nothing readable) plus an
 * `erasure` row, the stats rollups' counts (failures re-counted under a neutral reason, since a
 * provider's reason may quote the number), and a suppression entry (keyed hash of the number and its opt-out state). The audit entry
 * names the contact id and counts only. Then the WAL is checkpointed (TRUNCATE): with
 * `secure_delete` on for the connection (db/client.ts) the deleted bytes were zeroed in the pages,
 * and the old page images in the WAL are gone with it.
 */
import { and, asc, eq, inArray, ne, or, sql } from 'drizzle-orm';
import type { ContactExportDto, StatusHistoryDto } from '@parley/shared';
import type { Db } from '../db/client';
import { SqliteStore } from '../db/sqlite-store';
import {
  campaignRecipients,
  contacts,
  conversations,
  events,
  media,
  messageStatusHistory,
  messages,
  notes,
  outbox,
  webhookLog,
} from '../db/tables';
import { AppError } from '../errors';
import type { EventLog, Tx } from '../events/log';
import { recordAudit, type AuditActor } from './audit';
import { ledgerRows, recordConsent, toConsentEntryDto } from './consent';
import { rememberErasedRefs, suppress, suppressionOf } from './suppression';
import { toNoteDto } from './notes';
import { messageDtosOf } from './media';
import { toContactDto, toConversationDto } from './views';
import { affected } from '../db/store';
import { containsText, jsonInteger } from '../db/dialect';

const CHUNK = 500;
const chunks = <T>(items: T[]): T[][] =>
  Array.from({ length: Math.ceil(items.length / CHUNK) }, (_, i) => items.slice(i * CHUNK, (i + 1) * CHUNK));

async function requireContact(db: Pick<Db, 'select'> | Tx, id: number): Promise<typeof contacts.$inferSelect> {
  const contact = (await db.select().from(contacts).where(eq(contacts.id, id)))[0];
  if (!contact) throw new AppError('NOT_FOUND', `Contact ${id} not found`);
  return contact;
}

/** `contact.export`: the JSON document (contact, conversations, messages, notes, status history, consent ledger); audited. */
export async function exportContact({
  log,
  id,
  actor,
  now = Date.now(),
}: {
  log: EventLog;
  id: number;
  actor: AuditActor;
  now?: number;
}): Promise<ContactExportDto> {
  return await log.write(async (tx) => {
    const contact = await requireContact(tx, id);
    const convs = await tx.select().from(conversations).where(eq(conversations.contactId, id)).orderBy(asc(conversations.id));
    const convIds = convs.map((c) => c.id);
    const msgs =
      convIds.length === 0
        ? []
        : await tx
            .select()
            .from(messages)
            .where(inArray(messages.conversationId, convIds))
            .orderBy(asc(messages.createdAt), asc(messages.id));
    const noteRows =
      convIds.length === 0
        ? []
        : await tx.select().from(notes).where(inArray(notes.conversationId, convIds)).orderBy(asc(notes.createdAt), asc(notes.id));
    const statusHistory: StatusHistoryDto[] = [];
    for (const ids of chunks(msgs.map((m) => m.id))) {
      for (const h of await tx
        .select()
        .from(messageStatusHistory)
        .where(inArray(messageStatusHistory.messageId, ids))
        .orderBy(asc(messageStatusHistory.id))) {
        statusHistory.push({
          messageId: h.messageId ?? 0,
          status: h.status,
          providerTimestamp: new Date(h.providerTimestamp).toISOString(),
          receivedAt: new Date(h.receivedAt).toISOString(),
          applied: h.applied,
        });
      }
    }
    await recordAudit(tx, {
      actor,
      action: 'contact.exported',
      target: { type: 'contact', id },
      detail: { conversations: convs.length, messages: msgs.length, notes: noteRows.length },
      now,
    });
    return {
      format: 'parley.contact-export/1',
      exportedAt: new Date(now).toISOString(),
      contact: toContactDto(contact),
      conversations: convs.map((c) => toConversationDto(c, contact)),
      messages: await messageDtosOf(tx, msgs),
      notes: noteRows.map(toNoteDto),
      statusHistory,
      consent: (await ledgerRows(tx, id)).map(toConsentEntryDto),
    };
  });
}

export interface EraseResult {
  erased: true;
  /** Whether the WAL checkpoint completed (false: a reader held it; the next checkpoint finishes the job). */
  checkpointed: boolean;
  /** The media store keys of the erased attachments: the caller deletes their files after the commit. */
  mediaKeys: string[];
}

/** The failure reason erased messages are counted under in the stats. */
const ERASED_REASON = 'Erased with its contact';

/** `contact.erase`: see the module comment. Appends `contact.erased`; audited without the number or any text. */
export async function eraseContact({
  log,
  id,
  actor,
  now = Date.now(),
}: {
  log: EventLog;
  id: number;
  actor: AuditActor;
  now?: number;
}): Promise<EraseResult> {
  const mediaKeys: string[] = [];
  await log.write(async (tx, append) => {
    const contact = await requireContact(tx, id);
    const phone = contact.phone;
    const digits = phone.replace(/\D/g, '');
    // A number is matched in raw payloads by its digits ("+447700900001", "447700900001", "%2B447700900001").
    const needle = digits.length >= 7 ? digits : phone;
    const convIds = (await tx.select({ id: conversations.id }).from(conversations).where(eq(conversations.contactId, id))).map((r) => r.id);
    const msgs =
      convIds.length === 0
        ? []
        : await tx
            .select({
              id: messages.id,
              direction: messages.direction,
              status: messages.status,
              createdAt: messages.createdAt,
              uuid: messages.providerMessageUuid,
              clientRef: messages.clientRef,
            })
            .from(messages)
            .where(inArray(messages.conversationId, convIds));
    const msgIds = msgs.map((m) => m.id);

    // Stats volumes survive by themselves (the rollups' triggers subtract nothing on delete). Failure
    // reasons may quote the number: an erased message's failure is counted again under a neutral
    // reason, and rollup rows left at zero (their text with them) are removed.
    for (const ids of chunks(msgIds)) {
      const list = sql.raw(ids.map((i) => String(Math.trunc(i))).join(', '));
      const failedHere = sql`direction = 'out' and status in ('rejected', 'undeliverable', 'failed') and id in (${list})`;
      await tx.$store.execute(sql`update stats_failures_hourly set n = n - (
          select count(*) from messages m where m.id in (${list}) and m.direction = 'out' and m.status in ('rejected', 'undeliverable', 'failed')
            and m.created_at / 3600000 = stats_failures_hourly.hour and coalesce(m.error_code, '') = stats_failures_hourly.code
            and coalesce(m.error_reason, m.error_title, m.error_code, 'Unknown reason') = stats_failures_hourly.reason)
        where hour in (select created_at / 3600000 from messages where ${failedHere})`);
      await tx.$store.execute(sql`insert into stats_failures_hourly (hour, code, reason, n)
        select created_at / 3600000, coalesce(error_code, ''), ${ERASED_REASON}, count(*) from messages where ${failedHere} group by 1, 2
        on conflict (hour, code, reason) do update set n = stats_failures_hourly.n + excluded.n`);
    }
    await tx.$store.execute(sql`delete from stats_failures_hourly where n <= 0`);

    for (const ids of chunks(msgIds)) {
      // Attachments: their rows now, their files once this commits (the caller).
      for (const m of await tx.delete(media).where(inArray(media.messageId, ids)).returning({ key: media.storageKey }))
        if (m.key) mediaKeys.push(m.key);
      await tx.delete(outbox).where(inArray(outbox.messageId, ids));
      await tx.delete(messageStatusHistory).where(inArray(messageStatusHistory.messageId, ids));
      await tx.update(campaignRecipients).set({ messageId: null }).where(inArray(campaignRecipients.messageId, ids));
    }
    // Status reports never matched to a message (orphans) of these messages; later ones are dropped on arrival.
    const allRefs = msgs.flatMap((m) => [m.uuid, m.clientRef].filter((v): v is string => v !== null));
    await rememberErasedRefs(tx, allRefs, now);
    for (const refs of chunks(allRefs)) {
      await tx
        .delete(messageStatusHistory)
        .where(or(inArray(messageStatusHistory.providerMessageUuid, refs), inArray(messageStatusHistory.clientRef, refs)));
    }
    await tx
      .update(campaignRecipients)
      .set({ phone: null, input: '', name: null, reason: 'Contact erased', contactId: null, messageId: null })
      .where(or(eq(campaignRecipients.contactId, id), eq(campaignRecipients.phone, phone)));
    const webhookRows = affected(
      await tx.delete(webhookLog).where(or(containsText(webhookLog.rawBody, needle), containsText(webhookLog.headers, needle))),
    );
    let noteCount = 0;
    let eventCount = 0;
    for (const ids of chunks(convIds)) {
      noteCount += affected(await tx.delete(notes).where(inArray(notes.conversationId, ids)));
      // Notes' events carry the conversation id, not the number.
      eventCount += affected(
        await tx
          .update(events)
          .set({ type: 'event.erased', payload: '{}' })
          .where(and(eq(events.type, 'note.created'), inArray(jsonInteger(events.payload, 'note', 'conversationId'), ids))),
      );
      await tx.delete(messages).where(inArray(messages.conversationId, ids));
    }
    // Every other event that carried the contact (messages, conversations, the contact) names the number.
    eventCount += affected(
      await tx
        .update(events)
        .set({ type: 'event.erased', payload: '{}' })
        .where(and(ne(events.type, 'event.erased'), containsText(events.payload, needle))),
    );
    await tx.delete(conversations).where(eq(conversations.contactId, id));

    // What stays: the suppression entry and the ledger's last word.
    const suppressedBefore = (await suppressionOf(tx, phone))?.state === 'opted_out';
    const optedOut = contact.optedOutAt !== null || suppressedBefore;
    await suppress(
      tx,
      phone,
      {
        state: optedOut ? 'opted_out' : 'opted_in',
        optedOutAt: optedOut ? (contact.optedOutAt ?? (await suppressionOf(tx, phone))?.optedOutAt ?? now) : null,
      },
      now,
    );
    await recordConsent(tx, {
      contactId: id,
      state: optedOut ? 'opted_out' : 'opted_in',
      source: 'erasure',
      agentId: actor.agentId,
      at: now,
    });
    await tx.delete(contacts).where(eq(contacts.id, id));
    await recordAudit(tx, {
      actor,
      action: 'contact.erased',
      target: { type: 'contact', id },
      detail: {
        conversations: convIds.length,
        messages: msgIds.length,
        notes: noteCount,
        events: eventCount,
        webhookLogRows: webhookRows,
        optedOut,
      },
      now,
    });
    append({ type: 'contact.erased', payload: { contactId: id, conversationIds: convIds } });
  });
  return { erased: true, checkpointed: await checkpoint(log.db), mediaKeys };
}

/** Copies the WAL into the database file and truncates it to zero bytes; false when a reader kept it from completing. */
export async function checkpoint(db: Db): Promise<boolean> {
  // PostgreSQL has no WAL file of Parley's to truncate: its own checkpoints recycle WAL segments.
  return db.$store instanceof SqliteStore ? await db.$store.checkpoint() : true;
}
