import { Fragment, useLayoutEffect, useMemo, useRef } from 'react';
import { useInfiniteQuery } from '@tanstack/react-query';
import { dayKey, formatDay } from '../lib/format';
import { errorMessage } from '../lib/errors';
import { trpc } from '../trpc';
import { MessageBubble } from './message-bubble';

export function MessageList({ conversationId }: { conversationId: number }) {
  const messages = useInfiniteQuery(
    trpc.conversation.messages.infiniteQueryOptions(
      { conversationId, limit: 50 },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  // Pages come newest first; the thread reads oldest first.
  const items = useMemo(() => (messages.data?.pages.flatMap((page) => page.items) ?? []).slice().reverse(), [messages.data]);
  const scroller = useRef<HTMLDivElement>(null);
  const newestId = items.at(-1)?.id;

  // Stay at the bottom when a message arrives (not when older pages load above).
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [newestId]);

  if (messages.isPending) return <div className="messages muted">Loading messages…</div>;
  if (messages.isError) return <div className="messages error" role="alert">{errorMessage(messages.error)}</div>;

  return (
    <div className="messages" ref={scroller} aria-label="Messages" tabIndex={0}>
      {messages.hasNextPage && (
        <button className="button ghost load-earlier" type="button" onClick={() => void messages.fetchNextPage()} disabled={messages.isFetchingNextPage}>
          {messages.isFetchingNextPage ? 'Loading…' : 'Load earlier messages'}
        </button>
      )}
      {items.length === 0 && <p className="muted center">No messages yet. Say hello below.</p>}
      <ol className="message-items">
        {items.map((message, index) => {
          const previous = items[index - 1];
          const newDay = !previous || dayKey(previous.createdAt) !== dayKey(message.createdAt);
          return (
            <Fragment key={message.id}>
              {newDay && (
                <li className="day-divider" role="separator">
                  <span>{formatDay(message.createdAt)}</span>
                </li>
              )}
              <MessageBubble message={message} />
            </Fragment>
          );
        })}
      </ol>
    </div>
  );
}
