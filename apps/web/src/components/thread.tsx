import { useEffect } from 'react';
import { reportPresence } from '../live/presence';
import { useMutation, useQuery } from '@tanstack/react-query';
import type { RouterOutputs } from '@parley/server';
import { errorMessage } from '../lib/errors';
import { queryClient, trpc } from '../trpc';
import { Composer } from './composer';
import { MessageList } from './message-list';
import { ThreadHeader, type ThreadHeaderActions } from './thread-header';
import { OptOutBanner } from './opt-out-banner';
import type { Ref } from 'react';

export function Thread({
  id,
  me,
  onBack,
  headerActionsRef,
}: {
  id: number;
  me: RouterOutputs['auth']['me'];
  onBack: () => void;
  /** Keyboard shortcuts: `p` → togglePending(), `s` → openSnoozeMenu(). */
  headerActionsRef?: Ref<ThreadHeaderActions>;
}) {
  const conversation = useQuery(trpc.conversation.get.queryOptions({ id }));
  const markRead = useMutation(
    trpc.conversation.markRead.mutationOptions({
      onSuccess: (updated) => queryClient.setQueryData(trpc.conversation.get.queryKey({ id }), updated),
    }),
  );
  const unread = conversation.data?.unreadCount ?? 0;
  const { mutate: markAsRead, isPending: marking } = markRead;

  // Others see who is looking at this conversation (and, from the composer, who is typing).
  useEffect(() => {
    reportPresence({ conversationId: id, typing: false });
    return () => reportPresence({ conversationId: null, typing: false });
  }, [id]);

  // Open means read: on opening, and again when a text arrives while it is open.
  useEffect(() => {
    if (unread > 0 && !marking) markAsRead({ id });
  }, [unread, id, marking, markAsRead]);

  if (conversation.isPending) return <div className="thread muted pad">Loading…</div>;
  if (conversation.isError) {
    return (
      <div className="thread pad">
        <button className="button ghost back" type="button" onClick={onBack}>
          ← Back
        </button>
        <p className="error" role="alert">
          {errorMessage(conversation.error)}
        </p>
      </div>
    );
  }
  return (
    <section className="thread" aria-label={`Conversation with ${conversation.data.contactName ?? conversation.data.contactPhone}`}>
      <ThreadHeader
        conversation={conversation.data}
        me={me}
        onBack={onBack}
        {...(headerActionsRef ? { actionsRef: headerActionsRef } : {})}
      />
      {conversation.data.possibleOptOutAt && <OptOutBanner conversation={conversation.data} />}
      <MessageList conversationId={id} />
      <Composer conversation={conversation.data} me={me} />
    </section>
  );
}
