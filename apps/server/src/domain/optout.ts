import { and, eq, isNotNull } from 'drizzle-orm';
import type { ConsentSource, ContactDto, ConversationDto } from '@parley/shared';
import { contacts, conversations } from '../db/tables';
import { AppError } from '../errors';
import type { EventLog, Tx, Append } from '../events/log';
import { recordAudit, type AuditActor } from './audit';
import { recordConsent } from './consent';
import { conversationIdsOfContact } from './conversation';
import { liftSuppression, suppressionOf } from './suppression';
import { loadConversation, toContactDto } from './views';

export type OptOutSource = ConsentSource;

export interface SetOptOutInput {
  contactId: number;
  optedOut: boolean;
  source: OptOutSource;
  /** source keyword: the inbound text that carried it. */
  messageId?: number | null;
  /** source agent: who. */
  agentId?: number | null;
  /** A person acted (an agent, a token): recorded in the audit log as contact.opted_out / contact.opted_in. */
  audit?: AuditActor;
  now?: number;
}

export interface SetOptOutResult {
  contact: ContactDto;
  /** false when the contact was already in that state (nothing written, nothing appended). */
  changed: boolean;
}

/**
 * Opts a contact out (or back in) inside the caller's transaction — every path that changes consent
 * comes through here: STOP/START keywords, an agent, a confirmed possible opt-out, a suppressed
 * number that returns. Writes the consent ledger row (and, for a person, the audit entry), appends
 * `contact.updated` and a `conversation.updated` for each of the contact's conversations. Opting out
 * again keeps the first time and source. An opt-in also lifts the number's suppression entry (an
 * erased number that opted out and now texts START).
 */
export async function setOptOutIn(tx: Tx, append: Append, input: SetOptOutInput): Promise<SetOptOutResult> {
  const row = (await tx.select().from(contacts).where(eq(contacts.id, input.contactId)))[0];
  if (!row) throw new AppError('NOT_FOUND', `Contact ${input.contactId} not found`);
  const now = input.now ?? Date.now();
  // A contact re-created for an erased number that had opted out is out too, until it opts in.
  const suppressed = row.optedOutAt === null && (await suppressionOf(tx, row.phone))?.state === 'opted_out';
  const isOut = row.optedOutAt !== null || suppressed;
  if (isOut === input.optedOut) return { contact: toContactDto(row), changed: false };

  if (!input.optedOut) await liftSuppression(tx, row.phone, now);
  const updated = (
    await tx
      .update(contacts)
      .set(input.optedOut ? { optedOutAt: now, optOutSource: input.source } : { optedOutAt: null, optOutSource: null })
      .where(eq(contacts.id, input.contactId))
      .returning()
  )[0];
  if (!updated) throw new Error(`contact ${input.contactId} vanished inside its transaction`);
  await recordConsent(tx, {
    contactId: row.id,
    state: input.optedOut ? 'opted_out' : 'opted_in',
    source: input.source,
    messageId: input.messageId ?? null,
    agentId: input.agentId ?? null,
    at: now,
  });
  if (input.audit) {
    await recordAudit(tx, {
      actor: input.audit,
      action: input.optedOut ? 'contact.opted_out' : 'contact.opted_in',
      target: { type: 'contact', id: row.id },
      detail: { source: input.source },
      now,
    });
  }
  // An opt-out settles any possible-opt-out flag of the contact's conversations.
  if (input.optedOut) {
    await tx
      .update(conversations)
      .set({ possibleOptOutAt: null, possibleOptOutMessageId: null })
      .where(and(eq(conversations.contactId, row.id), isNotNull(conversations.possibleOptOutAt)));
  }
  const contact = toContactDto(updated);
  append({ type: 'contact.updated', payload: { contact } });
  for (const id of await conversationIdsOfContact(tx, input.contactId)) {
    const conversation = await loadConversation(tx, id);
    if (conversation) append({ type: 'conversation.updated', payload: { conversation } });
  }
  return { contact, changed: true };
}

/**
 * `conversation.resolveOptOutFlag`: an agent confirms (`optOut: true`: the contact is opted out,
 * source agent, ledger row and audit entry) or dismisses (the flag is cleared) a possible opt-out.
 * A conversation without a flag is CONFLICT: someone resolved it already.
 */
export async function resolveOptOutFlag({
  log,
  id,
  optOut,
  agentId,
  audit,
  now = Date.now(),
}: {
  log: EventLog;
  id: number;
  optOut: boolean;
  agentId: number;
  audit: AuditActor;
  now?: number;
}): Promise<ConversationDto> {
  return await log.write(async (tx, append) => {
    const row = (await tx.select().from(conversations).where(eq(conversations.id, id)))[0];
    if (!row) throw new AppError('NOT_FOUND', `Conversation ${id} not found`);
    if (row.possibleOptOutAt === null)
      throw new AppError('CONFLICT', `Conversation ${id} has no possible opt-out to resolve (someone resolved it already)`);
    await tx.update(conversations).set({ possibleOptOutAt: null, possibleOptOutMessageId: null }).where(eq(conversations.id, id));
    let fannedOut = false;
    if (optOut) {
      fannedOut = (await setOptOutIn(tx, append, { contactId: row.contactId, optedOut: true, source: 'agent', agentId, audit, now }))
        .changed;
    } else {
      // Deciding that a request was not an opt-out is a compliance decision: on the record, with the message it was about.
      await recordAudit(tx, {
        actor: audit,
        action: 'conversation.opt_out_dismissed',
        target: { type: 'conversation', id },
        detail: { messageId: row.possibleOptOutMessageId },
        now,
      });
    }
    const conversation = await loadConversation(tx, id);
    if (!conversation) throw new Error(`conversation ${id} vanished inside its transaction`);
    if (!fannedOut) append({ type: 'conversation.updated', payload: { conversation } });
    return conversation;
  });
}

/** setOptOutIn in its own transaction. */
export async function setOptOut({ log, ...input }: SetOptOutInput & { log: EventLog }): Promise<SetOptOutResult> {
  return await log.write(async (tx, append) => await setOptOutIn(tx, append, input));
}

/**
 * A contact (re-)created for a number erased while opted out inherits the opt-out: the contact is
 * marked opted out with source `erasure` (a ledger row says so), so agents see why it cannot be
 * texted. Returns whether it did.
 */
export async function inheritSuppressionIn(tx: Tx, append: Append, contactId: number, now = Date.now()): Promise<boolean> {
  const row = (await tx.select().from(contacts).where(eq(contacts.id, contactId)))[0];
  if (!row || row.optedOutAt !== null) return false;
  const entry = await suppressionOf(tx, row.phone);
  if (entry?.state !== 'opted_out') return false;
  const updated = (
    await tx
      .update(contacts)
      .set({ optedOutAt: entry.optedOutAt ?? now, optOutSource: 'erasure' })
      .where(eq(contacts.id, contactId))
      .returning()
  )[0];
  if (!updated) return false;
  await recordConsent(tx, { contactId, state: 'opted_out', source: 'erasure', at: now });
  append({ type: 'contact.updated', payload: { contact: toContactDto(updated) } });
  for (const id of await conversationIdsOfContact(tx, contactId)) {
    const conversation = await loadConversation(tx, id);
    if (conversation) append({ type: 'conversation.updated', payload: { conversation } });
  }
  return true;
}
