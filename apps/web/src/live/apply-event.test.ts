import { describe, expect, it, vi } from 'vitest';
import type { ParleyEvent } from '@parley/shared/events';
import type { ConversationDto, MessageDto } from '@parley/shared/dto';
import { InfiniteQueryObserver, QueryClient, type InfiniteData } from '@tanstack/react-query';
import type { CampaignDto, CampaignListDto, ContactListDto } from '@parley/shared/campaign';
import { trpc } from '../trpc';
import { applyEvent, placeConversation } from './apply-event';

const conversation = (id: number, minute: number, patch: Partial<ConversationDto> = {}): ConversationDto => ({
  id,
  contactId: id,
  contactPhone: `+4477009000${String(id).padStart(2, '0')}`,
  contactName: null,
  contactOptedOut: false,
  ourNumber: '+447700900000',
  provider: 'vonage',
  snoozeUntil: null,
  status: 'open',
  assignedAgentId: null,
  lastMessageAt: new Date(Date.UTC(2025, 0, 1, 12, minute)).toISOString(),
  lastMessagePreview: 'hi',
  lastMessageDirection: 'in',
  unreadCount: 0,
  possibleOptOutAt: null,
  possibleOptOutMessageId: null,
  possibleOptOutDueAt: null,
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
    expect(ids(placeConversation(before, conversation(2, 40, { assignedAgentId: 7 }), { filter: 'mine', search: '' }, me))).toEqual([
      [2, 1],
    ]);
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

// ---- campaign.progress and contact.updated (issue 5) ----

const campaign = (id: number, patch: Partial<CampaignDto> = {}): CampaignDto => ({
  id,
  name: `Campaign ${id}`,
  text: 'Hi {name}',
  status: 'running',
  ourNumber: '+447700900000',
  encoding: 'gsm7',
  segments: 1,
  counts: {
    total: 2,
    invalid: 0,
    duplicate: 0,
    skipped: 0,
    pending: 2,
    held: 0,
    queued: 0,
    submitted: 0,
    delivered: 0,
    failed: 0,
    interrupted: 0,
    cancelled: 0,
  },
  quietHours: true,
  createdByAgentId: 7,
  createdAt: '2025-01-01T12:00:00.000Z',
  updatedAt: `2025-01-01T12:00:0${id % 10}.000Z`,
  finishedAt: null,
  ...patch,
});

const progress = (c: CampaignDto) => ({ type: 'campaign.progress' as const, payload: { campaign: c }, id: 1, createdAt: c.updatedAt });

describe('campaign.progress', () => {
  it('updates the campaign and its row in every list, live', () => {
    const qc = new QueryClient();
    qc.setQueryData(trpc.campaign.get.queryKey({ id: 2 }), campaign(2));
    qc.setQueryData<CampaignListDto>(trpc.campaign.list.queryKey({ limit: 50 }), { items: [campaign(2), campaign(1)], nextCursor: null });
    qc.setQueryData<InfiniteData<CampaignListDto>>(trpc.campaign.list.infiniteQueryKey({ limit: 50 }), {
      pages: [{ items: [campaign(2), campaign(1)], nextCursor: null }],
      pageParams: [null],
    });
    const done = campaign(2, {
      status: 'done',
      updatedAt: '2025-01-01T12:01:00.000Z',
      counts: { ...campaign(2).counts, pending: 0, delivered: 2 },
    });
    applyEvent(qc, progress(done), me);
    expect(qc.getQueryData<CampaignDto>(trpc.campaign.get.queryKey({ id: 2 }))?.status).toBe('done');
    expect(qc.getQueryData<CampaignListDto>(trpc.campaign.list.queryKey({ limit: 50 }))?.items.map((c) => [c.id, c.status])).toEqual([
      [2, 'done'],
      [1, 'running'],
    ]);
    const infinite = qc.getQueryData<InfiniteData<CampaignListDto>>(trpc.campaign.list.infiniteQueryKey({ limit: 50 }));
    expect(infinite?.pages[0]?.items[0]?.counts.delivered).toBe(2);
  });

  it('puts a new campaign on top of the first page only, and keeps a newer state over a late event', () => {
    const qc = new QueryClient();
    qc.setQueryData<CampaignListDto>(trpc.campaign.list.queryKey({ limit: 1 }), { items: [campaign(2)], nextCursor: 'c' });
    qc.setQueryData<CampaignListDto>(trpc.campaign.list.queryKey({ limit: 1, cursor: 'c' }), { items: [campaign(1)], nextCursor: null });
    applyEvent(qc, progress(campaign(3)), me);
    expect(qc.getQueryData<CampaignListDto>(trpc.campaign.list.queryKey({ limit: 1 }))?.items.map((c) => c.id)).toEqual([3, 2]);
    expect(qc.getQueryData<CampaignListDto>(trpc.campaign.list.queryKey({ limit: 1, cursor: 'c' }))?.items.map((c) => c.id)).toEqual([1]);

    qc.setQueryData(trpc.campaign.get.queryKey({ id: 3 }), campaign(3, { status: 'paused', updatedAt: '2025-01-01T13:00:00.000Z' }));
    applyEvent(qc, progress(campaign(3, { updatedAt: '2025-01-01T12:30:00.000Z' })), me);
    expect(qc.getQueryData<CampaignDto>(trpc.campaign.get.queryKey({ id: 3 }))?.status).toBe('paused');
  });

  it('drops a campaign from a status-filtered list it no longer belongs to', () => {
    const qc = new QueryClient();
    qc.setQueryData<CampaignListDto>(trpc.campaign.list.queryKey({ status: 'running' }), { items: [campaign(2)], nextCursor: null });
    applyEvent(qc, progress(campaign(2, { status: 'done', updatedAt: '2025-01-01T12:05:00.000Z' })), me);
    expect(qc.getQueryData<CampaignListDto>(trpc.campaign.list.queryKey({ status: 'running' }))?.items).toEqual([]);
  });
});

describe('contact.updated in contact lists', () => {
  it('renames and opts out the row in place', () => {
    const qc = new QueryClient();
    const row = {
      id: 5,
      phone: '+447700900005',
      name: null,
      optedOutAt: null,
      optOutSource: null,
      createdAt: '2025-01-01T00:00:00.000Z',
      conversationCount: 1,
      lastMessageAt: null,
    };
    qc.setQueryData<ContactListDto>(trpc.contact.list.queryKey({ search: '0005' }), { items: [row], nextCursor: null });
    const { conversationCount: _c, lastMessageAt: _l, ...contact } = row;
    applyEvent(
      qc,
      {
        type: 'contact.updated',
        payload: { contact: { ...contact, name: 'Eve', optedOutAt: '2025-01-02T00:00:00.000Z', optOutSource: 'keyword' } },
        id: 2,
        createdAt: '2025-01-02T00:00:00.000Z',
      },
      me,
    );
    const updated = qc.getQueryData<ContactListDto>(trpc.contact.list.queryKey({ search: '0005' }))?.items[0];
    expect(updated).toMatchObject({ name: 'Eve', optOutSource: 'keyword', conversationCount: 1 });
  });
});

describe('message.created while the thread is being fetched', () => {
  type Page = { items: MessageDto[]; nextCursor: string | null };
  const message = (id: number, text: string): MessageDto => ({
    id,
    conversationId: 5,
    direction: id === 1 ? 'in' : 'out',
    from: '+447700900422',
    to: '+447700900000',
    text,
    media: [],
    status: 'queued',
    statusAt: '2025-01-01T12:00:00.000Z',
    segments: 1,
    encoding: 'gsm7',
    providerMessageId: null,
    clientRef: null,
    errorCode: null,
    errorReason: null,
    errorDetail: null,
    price: null,
    currency: null,
    agentId: id === 1 ? null : 7,
    campaignId: null,
    sendAt: null,
    retryOf: null,
    heldUntil: null,
    createdAt: `2025-01-01T12:0${id}:00.000Z`,
  });

  it('keeps the message when the answer in flight was taken before it (fetched again)', async () => {
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    // The server's answers, in order: the first is a snapshot from before the reply, held back until
    // after the event (the WebSocket outran it); any later one is from after.
    const answers: { resolve: (page: Page) => void }[] = [];
    const observer = new InfiniteQueryObserver(qc, {
      queryKey: trpc.conversation.messages.infiniteQueryKey({ conversationId: 5, limit: 50 }),
      queryFn: () => new Promise<Page>((resolve) => answers.push({ resolve })),
      initialPageParam: null as string | null,
      getNextPageParam: (page: Page) => page.nextCursor,
    });
    const unsubscribe = observer.subscribe(() => {});
    await vi.waitFor(() => expect(answers).toHaveLength(1));

    applyEvent(
      qc,
      {
        id: 10,
        createdAt: '2025-01-01T12:02:00.000Z',
        type: 'message.created',
        payload: { message: message(2, 'Your code is 9876') },
      } as ParleyEvent,
      me,
    );
    answers[0]?.resolve({ items: [message(1, 'Send me the code')], nextCursor: null });
    await vi.waitFor(() => expect(answers).toHaveLength(2));
    answers[1]?.resolve({ items: [message(2, 'Your code is 9876'), message(1, 'Send me the code')], nextCursor: null });

    await vi.waitFor(() => {
      const data = qc.getQueryData<InfiniteData<Page>>(trpc.conversation.messages.infiniteQueryKey({ conversationId: 5, limit: 50 }));
      expect(data?.pages[0]?.items.map((m) => m.text)).toEqual(['Your code is 9876', 'Send me the code']);
      expect(observer.getCurrentResult().isFetching).toBe(false);
    });
    unsubscribe();
  });

  it('fetches nothing again when no answer is in flight', async () => {
    const qc = new QueryClient();
    const key = trpc.conversation.messages.infiniteQueryKey({ conversationId: 5, limit: 50 });
    qc.setQueryData<InfiniteData<Page>>(key, {
      pages: [{ items: [message(1, 'Send me the code')], nextCursor: null }],
      pageParams: [null],
    });
    applyEvent(
      qc,
      {
        id: 10,
        createdAt: '2025-01-01T12:02:00.000Z',
        type: 'message.created',
        payload: { message: message(2, 'Your code is 9876') },
      } as ParleyEvent,
      me,
    );
    expect(qc.getQueryData<InfiniteData<Page>>(key)?.pages[0]?.items.map((m) => m.id)).toEqual([2, 1]);
    expect(qc.getQueryState(key)?.isInvalidated).toBe(false);
  });
});

describe('contact.erased', () => {
  it("drops the contact's conversations from every list and the contact from contact lists", () => {
    const qc = new QueryClient();
    qc.setQueryData(
      trpc.conversation.list.infiniteQueryKey({ filter: 'all' }),
      data([conversation(1, 30), conversation(2, 20)], [conversation(3, 10)]),
    );
    qc.setQueryData(trpc.conversation.list.infiniteQueryKey({ filter: 'possible-opt-out' }), data([conversation(2, 20)]));
    const row = {
      id: 2,
      phone: '+447700900002',
      name: null,
      optedOutAt: null,
      optOutSource: null,
      createdAt: '2025-01-01T00:00:00.000Z',
      conversationCount: 1,
      lastMessageAt: null,
    };
    qc.setQueryData<ContactListDto>(trpc.contact.list.queryKey({}), { items: [row, { ...row, id: 3 }], nextCursor: null });
    applyEvent(
      qc,
      { type: 'contact.erased', payload: { contactId: 2, conversationIds: [2] }, id: 9, createdAt: '2025-01-02T00:00:00.000Z' },
      me,
    );
    const lists = qc.getQueryCache().findAll(trpc.conversation.list.infiniteQueryFilter());
    expect(lists.map((q) => ids(q.state.data as ReturnType<typeof data>))).toEqual([[[1], [3]], [[]]]);
    expect(qc.getQueryData<ContactListDto>(trpc.contact.list.queryKey({}))?.items.map((c) => c.id)).toEqual([3]);
  });

  it('matches the possible-opt-out filter by the flag', () => {
    const before = data([conversation(1, 30)]);
    const flaggedConv = conversation(2, 40, {
      possibleOptOutAt: '2025-01-01T12:40:00.000Z',
      possibleOptOutDueAt: '2025-01-15T12:40:00.000Z',
      possibleOptOutMessageId: 4,
    });
    expect(ids(placeConversation(before, flaggedConv, { filter: 'possible-opt-out', search: '' }, me))).toEqual([[2, 1]]);
    expect(
      ids(
        placeConversation(data([flaggedConv]), { ...flaggedConv, possibleOptOutAt: null }, { filter: 'possible-opt-out', search: '' }, me),
      ),
    ).toEqual([[]]);
  });
});
