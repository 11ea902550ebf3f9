import { useState } from 'react';
import { useMutation } from '@tanstack/react-query';
import type { ConversationDto } from '@parley/shared/dto';
import type { RouterOutputs } from '@parley/server';
import { errorMessage } from './errors';
import { queryClient, trpc } from '../trpc';

type Agent = RouterOutputs['auth']['me'];

/**
 * What the keys do to the open conversation: the same procedures as the thread header's buttons, with the
 * outcome announced (a polite status for success, an alert for a refusal).
 */
export function useConversationKeys(selected: number | null, me: Agent) {
  const [said, setSaid] = useState<{ text: string; error: boolean } | null>(null);
  const done = (text: string) => (updated: ConversationDto) => {
    queryClient.setQueryData(trpc.conversation.get.queryKey({ id: updated.id }), updated);
    setSaid({ text, error: false });
  };
  const failed = (error: unknown) => setSaid({ text: errorMessage(error), error: true });
  const assign = useMutation(trpc.conversation.assign.mutationOptions({ onSuccess: done('Assigned to you.'), onError: failed }));
  const close = useMutation(trpc.conversation.setStatus.mutationOptions({ onSuccess: done('Conversation closed.'), onError: failed }));
  const pending = useMutation(trpc.conversation.setStatus.mutationOptions({ onSuccess: done('Marked pending.'), onError: failed }));
  const current = () =>
    selected === null ? undefined : queryClient.getQueryData<ConversationDto>(trpc.conversation.get.queryKey({ id: selected }));

  return {
    said,
    close:
      selected === null
        ? undefined
        : () => {
            if (current()?.status === 'closed') return setSaid({ text: 'Already closed.', error: false });
            close.mutate({ id: selected, status: 'closed' });
          },
    assignToMe:
      selected === null
        ? undefined
        : () => {
            if (current()?.assignedAgentId === me.id) return setSaid({ text: 'Already assigned to you.', error: false });
            assign.mutate({ id: selected, agentId: me.id });
          },
    /** `p`: waiting on the customer (an inbound text reopens it). */
    markPending:
      selected === null
        ? undefined
        : () => {
            if (current()?.status === 'pending') return setSaid({ text: 'Already pending.', error: false });
            pending.mutate({ id: selected, status: 'pending' });
          },
  };
}
