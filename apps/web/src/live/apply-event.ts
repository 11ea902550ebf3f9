import type { InfiniteData, QueryClient } from '@tanstack/react-query';
import type { ConversationDto, ContactDto, MessageDto } from '@parley/shared/dto';
import type { CampaignDto } from '@parley/shared/campaign';
import type { ParleyEvent } from '@parley/shared/events';
import type { NoteDto } from '@parley/shared/team';
import { trpc } from '../trpc';
import { compareConversations, matchesFilter, type ConversationFilter } from './conversation-order';

type ConversationPage = { items: ConversationDto[]; nextCursor: string | null };
type MessagePage = { items: MessageDto[]; nextCursor: string | null };

/**
 * Applies one live event to the query cache — the only place the live stream touches data. Lists and
 * threads already loaded change in place; nothing is refetched.
 */
export function applyEvent(queryClient: QueryClient, event: ParleyEvent, me: { id: number }): void {
  switch (event.type) {
    case 'message.created':
    case 'message.status':
    case 'message.updated':
      upsertMessage(queryClient, event.payload.message);
      return;
    case 'conversation.updated':
      upsertConversation(queryClient, event.payload.conversation, me);
      return;
    case 'contact.updated':
      updateContact(queryClient, event.payload.contact);
      updateContactLists(queryClient, event.payload.contact);
      return;
    case 'campaign.progress':
      upsertCampaign(queryClient, event.payload.campaign);
      return;
    case 'note.created':
      addNote(queryClient, event.payload.note);
      return;
    case 'settings.updated':
      queryClient.setQueryData(trpc.settings.get.queryKey(), event.payload.settings);
      return;
    case 'contact.erased':
      dropErasedContact(queryClient, event.payload.contactId, event.payload.conversationIds);
      return;
    case 'event.erased':
      // A rewritten event (its contact was erased): nothing to apply.
      return;
  }
}

/**
 * contact.erased: its conversations leave every list, their threads and notes are forgotten, the
 * contact leaves the contact lists; an open thread or contact page then shows "not found".
 */
export function dropErasedContact(queryClient: QueryClient, contactId: number, conversationIds: number[]): void {
  const gone = new Set(conversationIds);
  for (const query of queryClient.getQueryCache().findAll(trpc.conversation.list.infiniteQueryFilter())) {
    queryClient.setQueryData<InfiniteData<ConversationPage>>(query.queryKey, (data) =>
      data
        ? {
            ...data,
            pages: data.pages.map((page) => ({
              ...page,
              items: page.items.filter((item) => !gone.has(item.id) && item.contactId !== contactId),
            })),
          }
        : data,
    );
  }
  for (const id of conversationIds) {
    queryClient.removeQueries(trpc.conversation.messages.infiniteQueryFilter({ conversationId: id }));
    queryClient.removeQueries({ queryKey: trpc.note.list.queryKey({ conversationId: id }) });
    void queryClient.invalidateQueries({ queryKey: trpc.conversation.get.queryKey({ id }) });
  }
  queryClient.setQueriesData<Paged<ContactDto & { id: number }>>({ queryKey: trpc.contact.list.pathKey() }, (data) =>
    mapPaged(data, (items) => items.filter((item) => item.id !== contactId)),
  );
  void queryClient.invalidateQueries({ queryKey: trpc.contact.get.queryKey({ id: contactId }) });
  void queryClient.invalidateQueries({ queryKey: trpc.conversation.unreadCount.queryKey() });
}

/** A private note joins its thread's notes (oldest first), once. */
export function addNote(queryClient: QueryClient, note: NoteDto): void {
  queryClient.setQueryData<NoteDto[]>(trpc.note.list.queryKey({ conversationId: note.conversationId }), (notes) =>
    notes && !notes.some((n) => n.id === note.id) ? [...notes, note] : notes,
  );
}

/**
 * A thread whose messages are being fetched as the event arrives: the answer in flight may be a snapshot
 * from before the event (the WebSocket can outrun the HTTP answer on a busy machine), and landing after
 * it, it would drop the message for good. So that fetch is dropped and the thread fetched again: the
 * new answer is from after the event.
 */
function refetchIfInFlight(queryClient: QueryClient, filter: ReturnType<typeof trpc.conversation.messages.infiniteQueryFilter>): void {
  if (
    queryClient
      .getQueryCache()
      .findAll(filter)
      .some((query) => query.state.fetchStatus === 'fetching')
  ) {
    // (invalidateQueries would not do: a first fetch, with no data yet, is not cancelled but reused.)
    void queryClient.cancelQueries(filter).then(() => queryClient.refetchQueries(filter));
  }
}

function upsertMessage(queryClient: QueryClient, message: MessageDto): void {
  const filter = trpc.conversation.messages.infiniteQueryFilter({ conversationId: message.conversationId });
  refetchIfInFlight(queryClient, filter);
  queryClient.setQueriesData<InfiniteData<MessagePage>>(filter, (data) => {
    if (!data) return data;
    let found = false;
    const pages = data.pages.map((page) => ({
      ...page,
      items: page.items.map((item) => {
        if (item.id !== message.id) return item;
        found = true;
        return message;
      }),
    }));
    const [first, ...rest] = pages;
    if (found || !first) return { ...data, pages };
    // Newest first: a new message goes on top of the first page.
    return { ...data, pages: [{ ...first, items: [message, ...first.items] }, ...rest] };
  });
}

function upsertConversation(queryClient: QueryClient, conversation: ConversationDto, me: { id: number }): void {
  queryClient.setQueryData(trpc.conversation.get.queryKey({ id: conversation.id }), conversation);
  for (const query of queryClient.getQueryCache().findAll(trpc.conversation.list.infiniteQueryFilter())) {
    const input = inputOf(query.queryKey);
    queryClient.setQueryData<InfiniteData<ConversationPage>>(query.queryKey, (data) =>
      data ? placeConversation(data, conversation, input, me) : data,
    );
  }
}

interface ListInput {
  filter: ConversationFilter;
  search: string;
  /** Only conversations on this number of ours, when set. */
  number?: string | undefined;
}

function inputOf(queryKey: readonly unknown[]): ListInput {
  const meta = queryKey[1];
  const input = typeof meta === 'object' && meta !== null && 'input' in meta ? (meta as { input: unknown }).input : undefined;
  const record = typeof input === 'object' && input !== null ? (input as Partial<ListInput>) : {};
  return { filter: record.filter ?? 'all', search: record.search?.trim() ?? '', number: record.number };
}

/** Replaces, inserts or removes the conversation in one cached list, keeping the server's order. */
export function placeConversation(
  data: InfiniteData<ConversationPage>,
  conversation: ConversationDto,
  input: ListInput,
  me: { id: number },
): InfiniteData<ConversationPage> {
  const all = data.pages.flatMap((page) => page.items);
  const present = all.some((item) => item.id === conversation.id);
  // A search list keeps what the server matched (updated in place); it does not guess new matches.
  const onNumber = !input.number || conversation.ourNumber === input.number;
  const belongs = input.search === '' ? onNumber && matchesFilter(conversation, input.filter, me.id) : present;
  if (!present && !belongs) return data;
  const rest = all.filter((item) => item.id !== conversation.id);
  let items = rest;
  if (belongs) {
    const index = rest.findIndex((item) => compareConversations(conversation, item) < 0);
    const hasMore = (data.pages.at(-1)?.nextCursor ?? null) !== null;
    // Older than everything loaded while more pages exist: it arrives when the user scrolls there.
    if (index === -1 && hasMore) items = rest;
    else items = index === -1 ? [...rest, conversation] : [...rest.slice(0, index), conversation, ...rest.slice(index)];
  }
  // Same page sizes, the first page absorbing the difference, so each page's cursor stays right.
  const delta = items.length - all.length;
  let offset = 0;
  const pages = data.pages.map((page, index) => {
    const size = Math.max(0, page.items.length + (index === 0 ? delta : 0));
    const slice = items.slice(offset, offset + size);
    offset += size;
    return { ...page, items: slice };
  });
  return { ...data, pages };
}

function updateContact(queryClient: QueryClient, contact: ContactDto): void {
  const optedOut = contact.optedOutAt !== null;
  for (const query of queryClient.getQueryCache().findAll(trpc.conversation.list.infiniteQueryFilter())) {
    queryClient.setQueryData<InfiniteData<ConversationPage>>(query.queryKey, (data) =>
      data
        ? {
            ...data,
            pages: data.pages.map((page) => ({
              ...page,
              items: page.items.map((item) =>
                item.contactId === contact.id ? { ...item, contactOptedOut: optedOut, contactName: contact.name } : item,
              ),
            })),
          }
        : data,
    );
  }
  for (const query of queryClient.getQueryCache().findAll(trpc.conversation.get.queryFilter())) {
    queryClient.setQueryData<ConversationDto>(query.queryKey, (data) =>
      data && data.contactId === contact.id ? { ...data, contactOptedOut: optedOut, contactName: contact.name } : data,
    );
  }
  queryClient.setQueriesData<ContactDto>(trpc.contact.get.queryFilter({ id: contact.id }), (data) =>
    data ? { ...data, ...contact } : data,
  );
}

// ---- campaigns and contacts (issue 5) ----

/** A cached page list, as a plain query ({ items, nextCursor }) or an infinite one ({ pages }). */
type Paged<T> = { items: T[]; nextCursor: string | null } | InfiniteData<{ items: T[]; nextCursor: string | null }>;

function mapPaged<T>(data: Paged<T> | undefined, map: (items: T[], first: boolean) => T[]): Paged<T> | undefined {
  if (!data) return data;
  if ('pages' in data) return { ...data, pages: data.pages.map((page, index) => ({ ...page, items: map(page.items, index === 0) })) };
  return { ...data, items: map(data.items, true) };
}

function inputRecord(queryKey: readonly unknown[]): Record<string, unknown> {
  const meta = queryKey[1];
  const input = typeof meta === 'object' && meta !== null && 'input' in meta ? (meta as { input: unknown }).input : undefined;
  return typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
}

/** campaign.progress: the campaign's own cache, and every list that shows it (a new one goes on top). */
export function upsertCampaign(queryClient: QueryClient, campaign: CampaignDto): void {
  queryClient.setQueryData<CampaignDto>(trpc.campaign.get.queryKey({ id: campaign.id }), (old) =>
    // Coalesced events can overtake a mutation's answer; keep whichever is newer.
    old && old.updatedAt > campaign.updatedAt ? old : { ...old, ...campaign },
  );
  for (const query of queryClient.getQueryCache().findAll({ queryKey: trpc.campaign.list.pathKey() })) {
    const input = inputRecord(query.queryKey);
    const firstPage = input.cursor === undefined || input.cursor === null;
    const belongs = input.status === undefined || input.status === campaign.status;
    queryClient.setQueryData<Paged<CampaignDto>>(query.queryKey, (data) =>
      mapPaged(data, (items, first) => {
        const index = items.findIndex((item) => item.id === campaign.id);
        if (index !== -1) {
          if (!belongs) return items.filter((item) => item.id !== campaign.id);
          return items.map((item) => (item.id === campaign.id && item.updatedAt <= campaign.updatedAt ? campaign : item));
        }
        // Newest first: a campaign we have not seen is newer than the first page's first row.
        const newest = items[0];
        const isNew = !newest || campaign.id > newest.id;
        return first && firstPage && belongs && isNew ? [campaign, ...items] : items;
      }),
    );
  }
}

/** contact.updated: rows of contact.list change in place (name, opt-out); nothing is added or removed. */
export function updateContactLists(queryClient: QueryClient, contact: ContactDto): void {
  queryClient.setQueriesData<Paged<ContactDto>>({ queryKey: trpc.contact.list.pathKey() }, (data) =>
    mapPaged(data, (items) => items.map((item) => (item.id === contact.id ? { ...item, ...contact } : item))),
  );
}
