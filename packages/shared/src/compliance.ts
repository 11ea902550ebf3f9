/**
 * Compliance shapes and rules (zod-free: the web app imports it by value): the consent ledger, the
 * possible-opt-out flag's deadline, a contact's data export.
 */
import type { ContactDto, ConversationDto, MessageDto } from './dto';
import type { NoteDto } from './team';

export type ConsentState = 'opted_out' | 'opted_in';
/** How a consent change came about: a keyword text (messageId), an agent (agentId), an import, the API, or an erasure. */
export type ConsentSource = 'keyword' | 'agent' | 'import' | 'api' | 'erasure';

/** One row of a contact's consent ledger (`contact.consentHistory`), oldest first. */
export interface ConsentEntryDto {
  at: string;
  state: ConsentState;
  source: ConsentSource;
  messageId?: number;
  agentId?: number;
}

export interface ConsentExportDto {
  filename: string;
  csv: string;
  count: number;
}

/** A possible opt-out not confirmed or dismissed within this many business days is overdue. */
export const POSSIBLE_OPT_OUT_BUSINESS_DAYS = 10;

/** `ms` plus `days` business days (Monday to Friday, UTC): the same time of day on the day it falls due. */
export function addBusinessDays(ms: number, days: number): number {
  const d = new Date(ms);
  let left = days;
  while (left > 0) {
    d.setUTCDate(d.getUTCDate() + 1);
    const day = d.getUTCDay();
    if (day !== 0 && day !== 6) left -= 1;
  }
  return d.getTime();
}

/** Whether a conversation's possible-opt-out flag is overdue at `now`. */
export function isOptOutFlagOverdue(conversation: Pick<ConversationDto, 'possibleOptOutDueAt'>, now: number): boolean {
  return conversation.possibleOptOutDueAt !== null && Date.parse(conversation.possibleOptOutDueAt) < now;
}

/** A message's status change as stored (the provider's report). */
export interface StatusHistoryDto {
  messageId: number;
  status: string;
  providerTimestamp: string;
  receivedAt: string;
  applied: boolean;
}

/** `contact.export`: everything Parley holds about one contact (GDPR Art. 15/20), as one JSON document. */
export interface ContactExportDto {
  format: 'parley.contact-export/1';
  exportedAt: string;
  contact: ContactDto;
  conversations: ConversationDto[];
  /** Oldest first, every conversation's. */
  messages: MessageDto[];
  notes: NoteDto[];
  statusHistory: StatusHistoryDto[];
  consent: ConsentEntryDto[];
}
