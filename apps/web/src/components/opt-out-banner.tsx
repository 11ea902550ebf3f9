import { useMutation } from '@tanstack/react-query';
import type { ConversationDto } from '@parley/shared/dto';
import { isOptOutFlagOverdue } from '@parley/shared/compliance';
import { errorMessage } from '../lib/errors';
import { queryClient, trpc } from '../trpc';

const day = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });

/**
 * A text that reads like an opt-out ("please stop texting me") flagged the conversation: one click
 * confirms it (the contact is opted out) or dismisses it. Overdue after 10 business days.
 */
export function OptOutBanner({ conversation }: { conversation: ConversationDto }) {
  const resolve = useMutation(
    trpc.conversation.resolveOptOutFlag.mutationOptions({
      onSuccess: (updated) => queryClient.setQueryData(trpc.conversation.get.queryKey({ id: updated.id }), updated),
    }),
  );
  const overdue = isOptOutFlagOverdue(conversation, Date.now());
  const due = conversation.possibleOptOutDueAt ? day.format(new Date(conversation.possibleOptOutDueAt)) : null;
  return (
    <div
      className={`notice opt-out-banner${overdue ? ' overdue' : ''}`}
      role="region"
      aria-label="Possible opt-out"
      data-testid="opt-out-banner"
    >
      <p>
        <strong>{overdue ? 'Overdue: possible opt-out.' : 'Possible opt-out.'}</strong> A message reads like a request to stop texting.
        {due && <> Confirm or dismiss it by {due}.</>}
      </p>
      <div className="opt-out-actions">
        <button
          className="button danger small-button"
          type="button"
          disabled={resolve.isPending}
          onClick={() => resolve.mutate({ id: conversation.id, optOut: true })}
        >
          Confirm opt-out
        </button>
        <button
          className="button small-button"
          type="button"
          disabled={resolve.isPending}
          onClick={() => resolve.mutate({ id: conversation.id, optOut: false })}
        >
          Dismiss
        </button>
      </div>
      {resolve.error && (
        <p className="error small" role="alert">
          {errorMessage(resolve.error)}
        </p>
      )}
    </div>
  );
}
