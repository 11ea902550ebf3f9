/**
 * The consent ledger (GDPR Art. 7: consent must be provable): one row per opt-out or opt-in, written
 * by whoever changes a contact's state, inside that change's transaction, and never updated.
 */
import { asc, eq } from 'drizzle-orm';
import type { ConsentEntryDto, ConsentExportDto, ConsentSource, ConsentState } from '@parley/shared';
import type { Db } from '../db/client';
import { consentLedger, contacts } from '../db/tables';
import { AppError } from '../errors';
import type { Tx } from '../events/log';
import { toCsv } from './contact-admin';

export interface ConsentRecord {
  contactId: number;
  state: ConsentState;
  source: ConsentSource;
  messageId?: number | null;
  agentId?: number | null;
  at?: number;
}

export async function recordConsent(tx: Tx, entry: ConsentRecord): Promise<void> {
  await tx.insert(consentLedger).values({
    contactId: entry.contactId,
    at: entry.at ?? Date.now(),
    state: entry.state,
    source: entry.source,
    messageId: entry.messageId ?? null,
    agentId: entry.agentId ?? null,
  });
}

type LedgerRow = typeof consentLedger.$inferSelect;

export function toConsentEntryDto(r: LedgerRow): ConsentEntryDto {
  return {
    at: new Date(r.at).toISOString(),
    state: r.state,
    source: r.source,
    ...(r.messageId === null ? {} : { messageId: r.messageId }),
    ...(r.agentId === null ? {} : { agentId: r.agentId }),
  };
}

/** Ledger rows of a contact, oldest first (a contact's id, even after erasure: the rows hold nothing readable). */
export async function ledgerRows(db: Pick<Db, 'select'> | Tx, contactId: number): Promise<LedgerRow[]> {
  return await db.select().from(consentLedger).where(eq(consentLedger.contactId, contactId)).orderBy(asc(consentLedger.id));
}

async function requireContact(db: Db, id: number): Promise<typeof contacts.$inferSelect> {
  const contact = (await db.select().from(contacts).where(eq(contacts.id, id)))[0];
  if (!contact) throw new AppError('NOT_FOUND', `Contact ${id} not found`);
  return contact;
}

/** `contact.consentHistory`: every consent change of the contact, oldest first. */
export async function consentHistory({ db, id }: { db: Db; id: number }): Promise<ConsentEntryDto[]> {
  await requireContact(db, id);
  return (await ledgerRows(db, id)).map(toConsentEntryDto);
}

/** The ledger as CSV (`at,state,source,message_id,agent_id`). */
export async function exportConsent({ db, id, now = Date.now() }: { db: Db; id: number; now?: number }): Promise<ConsentExportDto> {
  await requireContact(db, id);
  const rows = await ledgerRows(db, id);
  const csv = toCsv(
    ['at', 'state', 'source', 'message_id', 'agent_id'],
    rows.map((r) => [
      new Date(r.at).toISOString(),
      r.state,
      r.source,
      r.messageId === null ? null : String(r.messageId),
      r.agentId === null ? null : String(r.agentId),
    ]),
  );
  return { filename: `parley-consent-contact-${id}-${new Date(now).toISOString().slice(0, 10)}.csv`, csv, count: rows.length };
}
