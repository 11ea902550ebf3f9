/** The conversation list's filters, once (zod-free: the web bundle imports it by value). */
export const CONVERSATION_FILTERS = ['open', 'pending', 'snoozed', 'closed', 'mine', 'unassigned', 'all'] as const;
export type ConversationFilter = (typeof CONVERSATION_FILTERS)[number];

export function isConversationFilter(value: string): value is ConversationFilter {
  return (CONVERSATION_FILTERS as readonly string[]).includes(value);
}
