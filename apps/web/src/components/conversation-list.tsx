import { useEffect, useImperativeHandle, useMemo, useRef, useState, type Ref } from 'react';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { ConversationFilter } from '../live/conversation-order';
import { errorMessage } from '../lib/errors';
import { useDebounced } from '../lib/use-debounced';
import { stepCursor } from '../lib/list-cursor';
import { trpc } from '../trpc';
import { ConversationRow } from './conversation-row';
import { useNumbers } from '../lib/numbers';

/** What the inbox's keys do to the list: j / k move its cursor, Enter opens what the cursor is on. */
export interface ListNavigation {
  move: (step: 1 | -1) => void;
  openCursor: () => void;
}

const ROW_HEIGHT = 68;
const PAGE = 100;

export function ConversationList({
  filter,
  search,
  number = '',
  selected,
  onSelect,
  navRef,
}: {
  filter: ConversationFilter;
  search: string;
  /** Only conversations on this number of ours ('' = all). */
  number?: string;
  selected: number | null;
  onSelect: (id: number) => void;
  navRef?: Ref<ListNavigation>;
}) {
  const query = useDebounced(search.trim(), 250);
  const several = useNumbers().length > 1;
  const list = useInfiniteQuery(
    trpc.conversation.list.infiniteQueryOptions(
      { filter, search: query || undefined, number: number || undefined, limit: PAGE },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const items = useMemo(() => list.data?.pages.flatMap((page) => page.items) ?? [], [list.data]);
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
  });
  const virtualItems = virtualizer.getVirtualItems();
  const lastIndex = virtualItems.at(-1)?.index ?? -1;

  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && lastIndex >= items.length - 10) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage, lastIndex, items.length]);

  // The keyboard cursor: where j / k are (the open conversation until they move it). Moving it focuses
  // its row, once the virtualizer has rendered it.
  const [cursor, setCursor] = useState<number | null>(selected);
  const cursorIndex = useRef(-1);
  const focusPending = useRef<number | null>(null);
  useEffect(() => {
    if (selected !== null) setCursor(selected);
  }, [selected]);
  useEffect(() => {
    const index = items.findIndex((item) => item.id === cursor);
    if (index !== -1) cursorIndex.current = index;
  }, [items, cursor]);
  useEffect(() => {
    if (focusPending.current === null) return;
    const row = scroller.current?.querySelector<HTMLElement>(`[data-conversation-id="${focusPending.current}"]`);
    if (!row) return;
    focusPending.current = null;
    row.focus({ preventScroll: true });
  });
  useImperativeHandle(
    navRef,
    () => ({
      move: (step) => {
        const index = stepCursor(items, cursor, step, cursorIndex.current);
        const target = index === null ? undefined : items[index];
        if (index === null || !target) return;
        cursorIndex.current = index;
        focusPending.current = target.id;
        setCursor(target.id);
        virtualizer.scrollToIndex(index, { align: 'auto' });
      },
      openCursor: () => {
        if (cursor !== null && items.some((item) => item.id === cursor)) onSelect(cursor);
      },
    }),
    [items, cursor, virtualizer, onSelect],
  );

  if (list.isPending) return <p className="list-message muted">Loading conversations…</p>;
  if (list.isError)
    return (
      <p className="list-message error" role="alert">
        {errorMessage(list.error)}
      </p>
    );
  if (items.length === 0) {
    return (
      <div className="list-message">
        <p>{query ? `Nothing matches “${query}”.` : 'No conversations here yet.'}</p>
        <p className="muted">{query ? 'Try a number or a word from a message.' : 'New texts appear as they arrive.'}</p>
      </div>
    );
  }

  return (
    <div
      className="conversation-scroller"
      ref={scroller}
      role="list"
      aria-label="Conversation list"
      aria-busy={list.isFetching}
      data-list-keys
    >
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {virtualItems.map((row) => {
          const conversation = items[row.index];
          if (!conversation) return null;
          return (
            <div
              key={conversation.id}
              role="listitem"
              className="row-slot"
              style={{ transform: `translateY(${row.start}px)`, height: row.size }}
            >
              <ConversationRow
                conversation={conversation}
                selected={conversation.id === selected}
                cursor={conversation.id === cursor}
                onSelect={onSelect}
                showNumber={several}
              />
            </div>
          );
        })}
      </div>
    </div>
  );
}
