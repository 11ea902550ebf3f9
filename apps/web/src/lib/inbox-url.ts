import { useCallback, useMemo } from 'react';
import { isConversationFilter, type ConversationFilter } from '../live/conversation-order';
import { navigate, useLocation } from './navigation';

/**
 * What the inbox shows, all of it in the URL so a reload or a shared link keeps it:
 * `/c/42?filter=mine&q=parcel&number=%2B447700900100` — the open conversation in the path, the filter,
 * the search text and our number in the query. Defaults (Open, no search, every number) are left out.
 */
export interface InboxState {
  filter: ConversationFilter;
  search: string;
  /** One of our numbers, '' = every number. */
  number: string;
  /** The open conversation. */
  selected: number | null;
}

export const DEFAULT_FILTER: ConversationFilter = 'open';

const CONVERSATION_PATH = /^\/c\/(\d+)\/?$/;

export function parseInboxUrl(pathname: string, query: string): InboxState {
  const params = new URLSearchParams(query);
  const filter = params.get('filter') ?? '';
  const id = CONVERSATION_PATH.exec(pathname)?.[1];
  const selected = id === undefined ? null : Number(id);
  return {
    filter: isConversationFilter(filter) ? filter : DEFAULT_FILTER,
    search: params.get('q') ?? '',
    number: params.get('number') ?? '',
    selected: selected !== null && Number.isSafeInteger(selected) && selected > 0 ? selected : null,
  };
}

export function inboxUrl(state: InboxState): string {
  const params = new URLSearchParams();
  if (state.filter !== DEFAULT_FILTER) params.set('filter', state.filter);
  if (state.search !== '') params.set('q', state.search);
  if (state.number !== '') params.set('number', state.number);
  const query = params.toString();
  return `${state.selected === null ? '/' : `/c/${state.selected}`}${query ? `?${query}` : ''}`;
}

/**
 * The inbox's state from the URL, and a setter that writes it back. Opening a conversation adds a history
 * entry (back returns to the previous one); filter, search and number replace the current entry, so typing a
 * search does not fill the history.
 */
export function useInboxState(): [InboxState, (patch: Partial<InboxState>) => void] {
  const location = useLocation();
  const state = useMemo(() => {
    const url = new URL(location, 'http://parley.invalid');
    return parseInboxUrl(url.pathname, url.search);
  }, [location]);
  const update = useCallback((patch: Partial<InboxState>) => {
    const current = parseInboxUrl(window.location.pathname, window.location.search);
    const next = { ...current, ...patch };
    const opening = patch.selected !== undefined && patch.selected !== current.selected;
    navigate(inboxUrl(next), { replace: !opening });
  }, []);
  return [state, update];
}
