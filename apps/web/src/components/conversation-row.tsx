import type { ConversationDto } from '@parley/shared/dto';
import { PROVIDER_LABELS } from '@parley/shared/providers';
import { isOptOutFlagOverdue } from '@parley/shared/compliance';
import { displayName, formatListTime } from '../lib/format';
import { presenceLabel, useOthersPresence } from '../live/presence';

export function ConversationRow({
  conversation,
  selected,
  cursor = false,
  onSelect,
  showNumber = false,
}: {
  conversation: ConversationDto;
  selected: boolean;
  /** Where the keyboard's j / k are (Enter opens it). */
  cursor?: boolean;
  onSelect: (id: number) => void;
  /** Several numbers configured: say which one (and provider) this conversation is on. */
  showNumber?: boolean;
}) {
  const unread = conversation.unreadCount > 0;
  const name = displayName(conversation);
  const here = presenceLabel(useOthersPresence(conversation.id));
  return (
    <button
      type="button"
      className={`conversation-row ${selected ? 'selected' : ''} ${cursor ? 'cursor' : ''} ${unread ? 'unread' : ''}`}
      aria-current={selected ? 'true' : undefined}
      data-conversation-id={conversation.id}
      onClick={() => onSelect(conversation.id)}
    >
      <span className="row-top">
        <span className="row-name">{name}</span>
        {conversation.lastMessageAt && (
          <time className="row-time" dateTime={conversation.lastMessageAt}>
            {formatListTime(conversation.lastMessageAt)}
          </time>
        )}
      </span>
      <span className="row-bottom">
        {here ? (
          <span className="row-preview row-presence" data-testid="row-presence">
            {here}
          </span>
        ) : (
          <span className="row-preview">
            {conversation.lastMessageDirection === 'out' && <span className="muted">You: </span>}
            {conversation.lastMessagePreview ?? <span className="muted">No messages yet</span>}
          </span>
        )}
        {showNumber && (
          <span className={`tag tag-provider provider-${conversation.provider}`} title={`On ${conversation.ourNumber}`}>
            {PROVIDER_LABELS[conversation.provider]}
          </span>
        )}
        {conversation.status === 'closed' && <span className="tag">Closed</span>}
        {conversation.contactOptedOut && <span className="tag tag-danger">Opted out</span>}
        {conversation.possibleOptOutAt && (
          <span className="tag tag-warn" data-testid="row-possible-opt-out">
            {isOptOutFlagOverdue(conversation, Date.now()) ? 'Opt-out overdue' : 'Possible opt-out'}
          </span>
        )}
        {unread && (
          <>
            <span className="badge" aria-hidden="true">
              {conversation.unreadCount > 99 ? '99+' : conversation.unreadCount}
            </span>
            {/* The button's name is its text (what it shows, WCAG 2.5.3), so the count is said in words. */}
            <span className="visually-hidden">, {conversation.unreadCount} unread</span>
          </>
        )}
      </span>
    </button>
  );
}
