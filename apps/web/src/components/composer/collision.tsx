import { useRef } from 'react';
import type { InfiniteData } from '@tanstack/react-query';
import type { MessageDto } from '@parley/shared/dto';
import { formatTime } from '../../lib/format';
import { useDialogFocus } from '../../lib/use-dialog-focus';
import { queryClient, trpc } from '../../trpc';

type MessagePage = { items: MessageDto[]; nextCursor: string | null };

/**
 * Replies another agent sent in this conversation after `since` (from the thread's cached messages,
 * which the live stream keeps current): the collision check before sending.
 */
export function repliesByOthersSince(conversationId: number, meId: number, since: number): MessageDto[] {
  const found = new Map<number, MessageDto>();
  for (const [, data] of queryClient.getQueriesData<InfiniteData<MessagePage>>(
    trpc.conversation.messages.infiniteQueryFilter({ conversationId }),
  )) {
    for (const page of data?.pages ?? []) {
      for (const m of page.items) {
        if (m.direction === 'out' && m.agentId !== null && m.agentId !== meId && Date.parse(m.createdAt) > since) found.set(m.id, m);
      }
    }
  }
  return [...found.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/**
 * Asked before a reply goes out when a colleague replied meanwhile. A dialog like the others: focus starts on
 * the safe choice (Don't send), stays inside while it is shown, Esc is Don't send, and focus goes back to
 * the reply box after either answer.
 */
export function CollisionDialog({
  id,
  names,
  replies,
  returnFocus,
  onSend,
  onDismiss,
}: {
  id: string;
  names: string[];
  replies: MessageDto[];
  returnFocus: () => HTMLElement | null;
  onSend: () => void;
  onDismiss: () => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  useDialogFocus(box, onDismiss, { initialFocus: '[data-dismiss]', returnFocus });
  return (
    <div ref={box} className="collision" role="alertdialog" aria-labelledby={id} data-testid="collision">
      <p id={id}>
        <strong>{names.join(' and ')} replied while you were writing:</strong>
      </p>
      <ul>
        {replies.map((m) => (
          <li key={m.id}>
            <span className="muted">{formatTime(m.createdAt)}</span> “{m.text}”
          </li>
        ))}
      </ul>
      <div className="collision-actions">
        <button className="button primary" type="button" onClick={onSend}>
          Send mine anyway
        </button>
        <button className="button" type="button" onClick={onDismiss} data-dismiss>
          Don’t send
        </button>
      </div>
    </div>
  );
}
