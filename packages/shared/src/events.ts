import type { CampaignDto } from './campaign';
import type { ContactDto, ConversationDto, MessageDto } from './dto';
import type { SettingsDto } from './settings';
import type { NoteDto } from './team';

/** The event union: every state change appends exactly one or more of these to the event log. */
export type ParleyEventBody =
  | { type: 'message.created'; payload: { message: MessageDto } }
  | { type: 'message.status'; payload: { message: MessageDto; previousStatus: MessageDto['status'] } }
  /** A message changed other than by status: its media were downloaded or refused. */
  | { type: 'message.updated'; payload: { message: MessageDto } }
  | { type: 'conversation.updated'; payload: { conversation: ConversationDto } }
  | { type: 'contact.updated'; payload: { contact: ContactDto } }
  /** Coalesced: at most a few per second per campaign, each with the counts at that moment. */
  | { type: 'campaign.progress'; payload: { campaign: CampaignDto } }
  /** A private note between agents (never sent to the contact); `mentions` are agent ids. */
  | { type: 'note.created'; payload: { note: NoteDto; mentions: number[] } }
  /** An admin changed the workspace settings: the whole new document. */
  | { type: 'settings.updated'; payload: { settings: SettingsDto } }
  /** An admin erased a contact: its conversations are gone (clients drop them). No number, no text. */
  | { type: 'contact.erased'; payload: { contactId: number; conversationIds: number[] } }
  /** An event whose payload carried an erased contact's data, rewritten in place: its id stays, nothing readable does. */
  | { type: 'event.erased'; payload: Record<string, never> };

export type ParleyEventType = ParleyEventBody['type'];

/** An event as stored and streamed: the body plus its log position and time. */
export type ParleyEvent = ParleyEventBody & { id: number; createdAt: string };

export type EventOf<T extends ParleyEventType> = Extract<ParleyEvent, { type: T }>;
