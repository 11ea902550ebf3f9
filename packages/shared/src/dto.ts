/** Wire shapes: what procedures return and events carry. Plain JSON, timestamps as ISO-8601 strings. */
import type { ProviderName } from './providers';
import type { SmsEncoding } from './sms';

export type MessageDirection = 'in' | 'out';

/** Outbound: (scheduled →) queued → submitted → delivered|read, or a failure state (final). Inbound: received. */
export const MESSAGE_STATUSES = [
  'scheduled',
  'queued',
  'submitted',
  'delivered',
  'read',
  'rejected',
  'undeliverable',
  'failed',
  'interrupted',
  'received',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export interface MessageDto {
  id: number;
  conversationId: number;
  direction: MessageDirection;
  from: string;
  to: string;
  text: string;
  status: MessageStatus;
  statusAt: string;
  segments: number;
  encoding: SmsEncoding;
  providerMessageId: string | null;
  clientRef: string | null;
  errorCode: string | null;
  errorReason: string | null;
  errorDetail: string | null;
  price: string | null;
  currency: string | null;
  agentId: number | null;
  campaignId: number | null;
  /** Send later: when a `scheduled` message is queued (ISO); null otherwise. */
  sendAt: string | null;
  /** A scheduled message waiting for the recipient's quiet-hours window to open (ISO), or null. */
  heldUntil: string | null;
  /** A retry: the id of the failed message it resends; null otherwise. */
  retryOf: number | null;
  /** MMS attachments (empty for a plain text), in the order they came or were attached. */
  media: MediaDto[];
  createdAt: string;
}

/** What Parley knows of one attachment: `pending` while it downloads, `stored` once kept, `refused` with a reason. */
export type MediaState = 'pending' | 'stored' | 'refused';

/**
 * One MMS attachment. `url` is Parley's own (`/media/:id`, served only to signed-in agents); the
 * content type is what the bytes are (checked by content), or what the provider claimed while pending.
 */
export interface MediaDto {
  id: number;
  contentType: string;
  /** Bytes; 0 until stored. */
  size: number;
  url: string;
  state: MediaState;
  /** Why a refused attachment was not kept ("not an image: …", "larger than 5 MB"); null otherwise. */
  reason: string | null;
  /** The file name, when the sender or uploader gave one. */
  name: string | null;
}

export type ConversationStatus = 'open' | 'pending' | 'snoozed' | 'closed';

export interface ConversationDto {
  id: number;
  contactId: number;
  contactPhone: string;
  contactName: string | null;
  contactOptedOut: boolean;
  ourNumber: string;
  /** The provider of ourNumber: replies leave through it. */
  provider: ProviderName;
  status: ConversationStatus;
  /** ISO time a snoozed conversation reopens by itself; null unless status is 'snoozed'. */
  snoozeUntil: string | null;
  assignedAgentId: number | null;
  lastMessageAt: string | null;
  lastMessagePreview: string | null;
  lastMessageDirection: MessageDirection | null;
  unreadCount: number;
  /** A text that reads like an opt-out flagged it (ISO), until an agent confirms or dismisses; null otherwise. */
  possibleOptOutAt: string | null;
  /** The inbound message that raised the flag. */
  possibleOptOutMessageId: number | null;
  /** When the flag becomes overdue: 10 business days after it was raised (ISO); null without a flag. */
  possibleOptOutDueAt: string | null;
  createdAt: string;
}

export interface ContactDto {
  id: number;
  phone: string;
  name: string | null;
  optedOutAt: string | null;
  optOutSource: string | null;
  createdAt: string;
}

export interface CannedReplyDto {
  id: number;
  /** What follows `/` in the composer: lower-case letters, digits, '-' and '_'. */
  shortcut: string;
  text: string;
  createdBy: number | null;
  createdAt: string;
  updatedAt: string;
}
