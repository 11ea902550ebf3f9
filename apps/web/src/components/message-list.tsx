import { Fragment, useLayoutEffect, useMemo, useRef } from 'react';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import type { MessageDto } from '@parley/shared/dto';
import type { NoteDto } from '@parley/shared/team';
import { dayKey, formatDay } from '../lib/format';
import { errorMessage } from '../lib/errors';
import { trpc } from '../trpc';
import { MessageBubble } from './message-bubble';
import { NoteItem } from './note-item';

type Item = { kind: 'message'; at: string; message: MessageDto } | { kind: 'note'; at: string; note: NoteDto };

export function MessageList({ conversationId }: { conversationId: number }) {
  const messages = useInfiniteQuery(
    trpc.conversation.messages.infiniteQueryOptions(
      { conversationId, limit: 50 },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const notes = useQuery(trpc.note.list.queryOptions({ conversationId }));
  // Pages come newest first; the thread reads oldest first. Private notes sit between messages by time
  // (only from the oldest loaded message on, while earlier pages are not loaded).
  const items = useMemo(() => {
    const list = (messages.data?.pages.flatMap((page) => page.items) ?? []).slice().reverse();
    const oldest = messages.hasNextPage ? list[0]?.createdAt : undefined;
    const merged: Item[] = list.map((message) => ({ kind: 'message', at: message.createdAt, message }));
    for (const note of notes.data ?? []) {
      if (oldest === undefined || note.createdAt >= oldest) merged.push({ kind: 'note', at: note.createdAt, note });
    }
    return merged.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  }, [messages.data, messages.hasNextPage, notes.data]);
  // Originals that were retried already (the retry is in the thread too): no second Retry.
  const retried = useMemo(() => {
    const ids = new Set<number>();
    for (const item of items) if (item.kind === 'message' && item.message.retryOf !== null) ids.add(item.message.retryOf);
    return ids;
  }, [items]);
  const scroller = useRef<HTMLDivElement>(null);
  const newest = items.at(-1);
  const newestKey = newest ? `${newest.kind}-${newest.kind === 'message' ? newest.message.id : newest.note.id}` : undefined;

  // Stay at the bottom when a message or note arrives (not when older pages load above).
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [newestKey]);

  if (messages.isPending) return <div className="messages muted">Loading messages…</div>;
  if (messages.isError)
    return (
      <div className="messages error" role="alert">
        {errorMessage(messages.error)}
      </div>
    );

  return (
    <div className="messages" ref={scroller} aria-label="Messages" tabIndex={0}>
      {messages.hasNextPage && (
        <button
          className="button ghost load-earlier"
          type="button"
          onClick={() => void messages.fetchNextPage()}
          disabled={messages.isFetchingNextPage}
        >
          {messages.isFetchingNextPage ? 'Loading…' : 'Load earlier messages'}
        </button>
      )}
      {items.length === 0 && <p className="muted center">No messages yet. Say hello below.</p>}
      <ol className="message-items">
        {items.map((item, index) => {
          const previous = items[index - 1];
          const newDay = !previous || dayKey(previous.at) !== dayKey(item.at);
          return (
            <Fragment key={item.kind === 'message' ? `m${item.message.id}` : `n${item.note.id}`}>
              {newDay && (
                <li className="day-divider">
                  <span>{formatDay(item.at)}</span>
                </li>
              )}
              {item.kind === 'message' ? (
                <MessageBubble message={item.message} retried={retried.has(item.message.id)} />
              ) : (
                <NoteItem note={item.note} />
              )}
            </Fragment>
          );
        })}
      </ol>
    </div>
  );
}
