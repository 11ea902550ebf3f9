import type { ConversationDto } from '@parley/shared/dto';

export type ConversationFilter = 'open' | 'pending' | 'snoozed' | 'closed' | 'mine' | 'unassigned' | 'all' | 'possible-opt-out';

/** Every filter, for reading one from the URL (a Record, so a new filter cannot be forgotten here). */
const FILTERS: Record<ConversationFilter, true> = { open: true, pending: true, snoozed: true, closed: true, mine: true, unassigned: true, all: true, 'possible-opt-out': true };

export function isConversationFilter(value: string): value is ConversationFilter {
  return Object.hasOwn(FILTERS, value);
}

/** The server's filters, client side (`mine` and `unassigned` are open conversations only). */
export function matchesFilter(conversation: ConversationDto, filter: ConversationFilter, meId: number): boolean {
  switch (filter) {
    case 'all':
      return true;
    case 'open':
      return conversation.status === 'open';
    case 'pending':
      return conversation.status === 'pending';
    case 'snoozed':
      return conversation.status === 'snoozed';
    case 'closed':
      return conversation.status === 'closed';
    case 'mine':
      return conversation.status === 'open' && conversation.assignedAgentId === meId;
    case 'unassigned':
      return conversation.status === 'open' && conversation.assignedAgentId === null;
    case 'possible-opt-out':
      return conversation.possibleOptOutAt !== null;
  }
}

/** The server's order: latest message first (none last), then newest id. */
export function compareConversations(a: ConversationDto, b: ConversationDto): number {
  const at = (c: ConversationDto) => (c.lastMessageAt ? Date.parse(c.lastMessageAt) : -Infinity);
  return at(b) - at(a) || b.id - a.id;
}

export function sortConversations(items: ConversationDto[]): ConversationDto[] {
  return [...items].sort(compareConversations);
}
