import type { ConversationDto } from '@parley/shared/dto';

import type { ConversationFilter } from '@parley/shared/conversation-filters';

export { isConversationFilter, type ConversationFilter } from '@parley/shared/conversation-filters';

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
  }
}

/** The server's order: latest message first (none last), then newest id. */
export function compareConversations(a: ConversationDto, b: ConversationDto): number {
  const at = (c: ConversationDto) => (c.lastMessageAt ? Date.parse(c.lastMessageAt) : -Infinity);
  return at(b) - at(a) || b.id - a.id;
}
