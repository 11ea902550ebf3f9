import { eq } from 'drizzle-orm';
import type { ContactDto } from '@parley/shared';
import { contacts } from '../db/schema';
import { AppError } from '../errors';
import type { EventLog, Tx, Append } from '../events/log';
import { conversationIdsOfContact } from './conversation';
import { loadConversation, toContactDto } from './views';

export type OptOutSource = 'agent' | 'keyword' | 'import';

export interface SetOptOutInput {
  contactId: number;
  optedOut: boolean;
  source: OptOutSource;
}

export interface SetOptOutResult {
  contact: ContactDto;
  /** false when the contact was already in that state (nothing written, nothing appended). */
  changed: boolean;
}

/**
 * Opts a contact out (or back in) inside the caller's transaction — STOP/START keyword handling calls
 * this from within its own write. Appends `contact.updated` and a `conversation.updated` for each of
 * the contact's conversations (their `contactOptedOut` flips). Opting out again keeps the first time
 * and source.
 */
export function setOptOutIn(tx: Tx, append: Append, input: SetOptOutInput): SetOptOutResult {
  const row = tx.select().from(contacts).where(eq(contacts.id, input.contactId)).get();
  if (!row) throw new AppError('NOT_FOUND', `Contact ${input.contactId} not found`);
  if ((row.optedOutAt !== null) === input.optedOut) return { contact: toContactDto(row), changed: false };

  const updated = tx
    .update(contacts)
    .set(input.optedOut ? { optedOutAt: Date.now(), optOutSource: input.source } : { optedOutAt: null, optOutSource: null })
    .where(eq(contacts.id, input.contactId))
    .returning()
    .get();
  if (!updated) throw new Error(`contact ${input.contactId} vanished inside its transaction`);
  const contact = toContactDto(updated);
  append({ type: 'contact.updated', payload: { contact } });
  for (const id of conversationIdsOfContact(tx, input.contactId)) {
    const conversation = loadConversation(tx, id);
    if (conversation) append({ type: 'conversation.updated', payload: { conversation } });
  }
  return { contact, changed: true };
}

/** setOptOutIn in its own transaction. */
export function setOptOut({ log, ...input }: SetOptOutInput & { log: EventLog }): SetOptOutResult {
  return log.write((tx, append) => setOptOutIn(tx, append, input));
}
