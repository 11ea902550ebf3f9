import { useState } from 'react';
import type { MessageDto } from '@parley/shared/dto';
import { failureReason, statusLabel } from '../lib/message-status';

/** An outbound message's status; a failure shows its reason on hover (title) or tap. */
export function MessageStatusBadge({ message }: { message: Pick<MessageDto, 'status' | 'errorCode' | 'errorReason' | 'errorDetail'> }) {
  const [open, setOpen] = useState(false);
  const { label, tone } = statusLabel(message.status);
  if (tone !== 'failed') {
    return (
      <span className={`status status-${tone}`} data-status={message.status}>
        {label}
      </span>
    );
  }
  const reason = failureReason(message);
  return (
    <span className="status-wrap">
      <button
        type="button"
        className="status status-failed"
        data-status={message.status}
        title={reason}
        aria-expanded={open}
        aria-label={`${label}: ${reason}`}
        onClick={() => setOpen(!open)}
      >
        <span aria-hidden="true">⚠</span> {label}
      </button>
      {open && (
        <span className="status-reason" role="note">
          {reason}
        </span>
      )}
    </span>
  );
}
