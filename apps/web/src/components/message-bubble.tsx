import type { MessageDto } from '@parley/shared/dto';
import { formatTime } from '../lib/format';
import { MessageStatusBadge } from './message-status';

export function MessageBubble({ message }: { message: MessageDto }) {
  const outbound = message.direction === 'out';
  return (
    <li className={`message ${outbound ? 'message-out' : 'message-in'}`} data-message-id={message.id}>
      <div className="bubble">{message.text}</div>
      <div className="message-meta">
        <time dateTime={message.createdAt}>{formatTime(message.createdAt)}</time>
        {outbound && message.segments > 1 && <span className="muted">{message.segments} segments</span>}
        {outbound && <MessageStatusBadge message={message} />}
      </div>
    </li>
  );
}
