import { eq } from 'drizzle-orm';
import {
  POSSIBLE_OPT_OUT_BUSINESS_DAYS,
  addBusinessDays,
  type ContactDto,
  type ConversationDto,
  type MediaDto,
  type MessageDto,
  type MessageStatus,
} from '@parley/shared';
import { contacts, conversations, type messages } from '../db/tables';
import type { Tx } from '../events/log';
import type { Db } from '../db/client';

type Reader = Pick<Db, 'select'> | Tx;
type MessageRow = typeof messages.$inferSelect;
type ConversationRow = typeof conversations.$inferSelect;
type ContactRow = typeof contacts.$inferSelect;

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

/** A message row as its DTO; `media` are its attachments (domain/media.ts loads them: messageDtoOf). */
export function toMessageDto(m: MessageRow, media: MediaDto[]): MessageDto {
  return {
    id: m.id,
    conversationId: m.conversationId,
    direction: m.direction,
    from: m.from,
    to: m.to,
    text: m.text,
    status: m.status as MessageStatus,
    statusAt: iso(m.statusAt),
    segments: m.segments,
    encoding: m.encoding,
    providerMessageId: m.providerMessageUuid,
    clientRef: m.clientRef,
    errorCode: m.errorCode,
    errorReason: m.errorReason,
    errorDetail: m.errorDetail,
    price: m.price,
    currency: m.currency,
    agentId: m.agentId,
    campaignId: m.campaignId,
    sendAt: isoOrNull(m.sendAt),
    heldUntil: isoOrNull(m.heldUntil),
    retryOf: m.retryOf,
    media,
    createdAt: iso(m.createdAt),
  };
}

export function toContactDto(c: ContactRow): ContactDto {
  return {
    id: c.id,
    phone: c.phone,
    name: c.name,
    optedOutAt: isoOrNull(c.optedOutAt),
    optOutSource: c.optOutSource,
    createdAt: iso(c.createdAt),
  };
}

export function toConversationDto(c: ConversationRow, contact: ContactRow): ConversationDto {
  return {
    id: c.id,
    contactId: c.contactId,
    contactPhone: contact.phone,
    contactName: contact.name,
    contactOptedOut: contact.optedOutAt !== null,
    ourNumber: c.ourNumber,
    provider: c.provider,
    status: c.status,
    snoozeUntil: c.status === 'snoozed' ? isoOrNull(c.snoozeUntil) : null,
    assignedAgentId: c.assignedAgentId,
    lastMessageAt: isoOrNull(c.lastMessageAt),
    lastMessagePreview: c.lastMessagePreview,
    lastMessageDirection: c.lastMessageDirection,
    unreadCount: c.unreadCount,
    possibleOptOutAt: isoOrNull(c.possibleOptOutAt),
    possibleOptOutMessageId: c.possibleOptOutAt === null ? null : c.possibleOptOutMessageId,
    possibleOptOutDueAt: c.possibleOptOutAt === null ? null : iso(addBusinessDays(c.possibleOptOutAt, POSSIBLE_OPT_OUT_BUSINESS_DAYS)),
    createdAt: iso(c.createdAt),
  };
}

export async function loadConversation(db: Reader, id: number): Promise<ConversationDto | null> {
  const row = (
    await db
      .select({ c: conversations, contact: contacts })
      .from(conversations)
      .innerJoin(contacts, eq(contacts.id, conversations.contactId))
      .where(eq(conversations.id, id))
  )[0];
  return row ? toConversationDto(row.c, row.contact) : null;
}

/** Up to 140 characters of a message for the conversation list. */
export function previewOf(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 140 ? `${flat.slice(0, 139)}…` : flat;
}

/** "2026-02-03 12:14 UTC": a time as the reasons shown to agents write it. */
export function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
