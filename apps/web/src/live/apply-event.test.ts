import { describe, expect, it } from 'vitest';
import type { ConversationDto } from '@parley/shared/dto';
import { placeConversation } from './apply-event';

const conversation = (id: number, minute: number, patch: Partial<ConversationDto> = {}): ConversationDto => ({
  id,
  contactId: id,
  contactPhone: `+4477009000${String(id).padStart(2, '0')}`,
  contactName: null,
  contactOptedOut: false,
  ourNumber: '+447700900000',
  provider: 'vonage',
  status: 'open',
  assignedAgentId: null,
  lastMessageAt: new Date(Date.UTC(2025, 0, 1, 12, minute)).toISOString(),
  lastMessagePreview: 'hi',
  lastMessageDirection: 'in',
  unreadCount: 0,
  createdAt: new Date(Date.UTC(2025, 0, 1)).toISOString(),
  ...patch,
});

const data = (...pages: ConversationDto[][]) => ({
  pages: pages.map((items, index) => ({ items, nextCursor: index < pages.length - 1 ? `c${index}` : null })),
  pageParams: pages.map((_, index) => (index === 0 ? null : `c${index - 1}`)),
});
const ids = (d: { pages: { items: ConversationDto[] }[] }) => d.pages.map((page) => page.items.map((item) => item.id));
const me = { id: 7 };
const all = { filter: 'all' as const, search: '' };

describe('placeConversation', () => {
  it('moves a conversation with a new message to the top, page sizes unchanged', () => {
    const before = data([conversation(1, 30), conversation(2, 20)], [conversation(3, 10)]);
    const after = placeConversation(before, conversation(3, 40), all, me);
    expect(ids(after)).toEqual([[3, 1], [2]]);
  });

  it('inserts a new conversation into the first page', () => {
    const after = placeConversation(data([conversation(1, 30)]), conversation(9, 50), all, me);
    expect(ids(after)).toEqual([[9, 1]]);
  });

  it('removes a conversation that no longer matches the filter', () => {
    const before = data([conversation(1, 30), conversation(2, 20)]);
    const after = placeConversation(before, conversation(1, 30, { status: 'closed' }), { filter: 'open', search: '' }, me);
    expect(ids(after)).toEqual([[2]]);
  });

  it('adds to "mine" only what is assigned to me', () => {
    const before = data([conversation(1, 30, { assignedAgentId: 7 })]);
    expect(ids(placeConversation(before, conversation(2, 40, { assignedAgentId: 8 }), { filter: 'mine', search: '' }, me))).toEqual([[1]]);
    expect(ids(placeConversation(before, conversation(2, 40, { assignedAgentId: 7 }), { filter: 'mine', search: '' }, me))).toEqual([[2, 1]]);
  });

  it('updates a search result in place but does not add new ones', () => {
    const before = data([conversation(1, 30)]);
    const search = { filter: 'all' as const, search: 'order' };
    expect(ids(placeConversation(before, conversation(2, 40), search, me))).toEqual([[1]]);
    const updated = placeConversation(before, conversation(1, 30, { unreadCount: 3 }), search, me);
    expect(updated.pages[0]?.items[0]?.unreadCount).toBe(3);
  });

  it('leaves an older conversation for a later page when more pages exist', () => {
    const before = data([conversation(1, 30)], [conversation(2, 20)]);
    const stillMore = { ...before, pages: before.pages.map((page) => ({ ...page, nextCursor: 'more' })) };
    expect(ids(placeConversation(stillMore, conversation(9, 1), all, me))).toEqual([[1], [2]]);
  });
});
