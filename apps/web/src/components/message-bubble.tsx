import { useMutation } from '@tanstack/react-query';
import type { MessageDto } from '@parley/shared/dto';
import { formatTime } from '../lib/format';
import { errorMessage } from '../lib/errors';
import { formatWhen } from '../lib/snooze-times';
import { canOfferRetry } from '../lib/message-status';
import { trpc } from '../trpc';
import { MessageStatusBadge } from './message-status';
import { MessageMedia } from './message-media';

export function MessageBubble({
  message,
  retried = false,
  optedOut = false,
}: {
  message: MessageDto;
  retried?: boolean;
  optedOut?: boolean;
}) {
  const outbound = message.direction === 'out';
  const retry = useMutation(trpc.message.retry.mutationOptions());
  const cancel = useMutation(trpc.message.cancelScheduled.mutationOptions());
  const error = retry.error ?? cancel.error;
  return (
    <li className={`message ${outbound ? 'message-out' : 'message-in'}`} data-message-id={message.id} data-status={message.status}>
      {message.media.length > 0 && <MessageMedia media={message.media} />}
      {(message.text !== '' || message.media.length === 0) && <div className="bubble">{message.text}</div>}
      <div className="message-meta">
        <time dateTime={message.createdAt}>{formatTime(message.createdAt)}</time>
        {outbound && message.segments > 1 && <span className="muted">{message.segments} segments</span>}
        {outbound && <MessageStatusBadge message={message} />}
        {message.status === 'scheduled' && message.sendAt && (
          <>
            <span className="muted" data-testid="scheduled-for">
              for {formatWhen(message.sendAt)}
            </span>
            {message.heldUntil && (
              <span className="muted" data-testid="held-for-quiet-hours" title={`Sends at ${formatWhen(message.heldUntil)} (your time)`}>
                · {message.errorReason ?? 'held for quiet hours'}
              </span>
            )}
            <button
              type="button"
              className="button ghost small"
              onClick={() => cancel.mutate({ id: message.id })}
              disabled={cancel.isPending}
            >
              Cancel
            </button>
          </>
        )}
        {message.retryOf !== null && <span className="muted">retry of an earlier message</span>}
        {outbound && !retried && !optedOut && canOfferRetry(message) && (
          <button
            type="button"
            className="button small"
            onClick={() => retry.mutate({ id: message.id })}
            disabled={retry.isPending || retry.isSuccess}
            data-testid="retry"
          >
            Retry
          </button>
        )}
        {retried && <span className="muted">retried</span>}
      </div>
      {error && (
        <p className="error small" role="alert">
          {errorMessage(error)}
        </p>
      )}
    </li>
  );
}
