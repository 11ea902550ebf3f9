import { useSnoozeMenuShortcut } from '../lib/snooze-menu-shortcut';
import { useEffect, useImperativeHandle, useRef, useState, type Ref } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { TimeMenu } from './time-menu';
import { formatWhen } from '../lib/snooze-times';
import type { ConversationDto } from '@parley/shared/dto';
import type { RouterOutputs } from '@parley/server';
import { PROVIDER_LABELS } from '@parley/shared/providers';
import { displayName } from '../lib/format';
import { paths } from '../lib/navigation';
import { Link } from './link';
import { presenceLabel, useOthersPresence } from '../live/presence';
import { errorMessage } from '../lib/errors';
import { queryClient, trpc } from '../trpc';

/** What keyboard shortcuts (or anything else) can trigger in the open thread's header. */
export interface ThreadHeaderActions {
  /** Marks the conversation pending (waiting on the customer); again: back to open. */
  togglePending(): void;
  /** Opens the snooze menu (focus on its first choice). */
  openSnoozeMenu(): void;
}

export function ThreadHeader({
  conversation,
  me,
  onBack,
  actionsRef,
}: {
  conversation: ConversationDto;
  me: RouterOutputs['auth']['me'];
  onBack: () => void;
  /** Shortcuts `p` and `s` call these. */
  actionsRef?: Ref<ThreadHeaderActions>;
}) {
  const [snoozeOpen, setSnoozeOpen] = useState(false);
  const agents = useQuery({ ...trpc.agent.list.queryOptions(), staleTime: 5 * 60_000 });
  const onSuccess = (updated: ConversationDto) => queryClient.setQueryData(trpc.conversation.get.queryKey({ id: updated.id }), updated);
  const assign = useMutation(trpc.conversation.assign.mutationOptions({ onSuccess }));
  const setStatus = useMutation(trpc.conversation.setStatus.mutationOptions({ onSuccess }));
  const error = assign.error ?? setStatus.error;
  const closed = conversation.status === 'closed';
  const here = presenceLabel(useOthersPresence(conversation.id));
  const pending = conversation.status === 'pending';
  const snoozed = conversation.status === 'snoozed';
  const togglePending = () => setStatus.mutate({ id: conversation.id, status: pending ? 'open' : 'pending' });
  useImperativeHandle(actionsRef, () => ({ togglePending, openSnoozeMenu: () => setSnoozeOpen(true) }));
  // The `s` key opens this menu while the header is shown.
  useSnoozeMenuShortcut(() => setSnoozeOpen(true));
  // Snooze and Unsnooze replace each other: the one used had focus, so the other gets it (not the page).
  const actions = useRef<HTMLDivElement>(null);
  const swapped = useRef(false);
  // (Once the request is done: a disabled button cannot take focus.)
  const busy = setStatus.isPending;
  useEffect(() => {
    if (!swapped.current || busy) return;
    swapped.current = false;
    if (document.activeElement !== null && document.activeElement !== document.body) return;
    actions.current?.querySelector<HTMLElement>(snoozed ? '[data-testid="unsnooze"]' : '[data-testid="snooze"]')?.focus();
  }, [snoozed, busy]);
  const active = (agents.data ?? []).filter((agent) => agent.disabledAt === null || agent.id === conversation.assignedAgentId);

  return (
    <header className="thread-header">
      <button className="button ghost back" type="button" onClick={onBack} aria-label="Back to conversations">
        ←
      </button>
      <div className="thread-title">
        <h2>
          <Link to={paths.contact(conversation.contactId)} className="contact-link" title="The contact: consent history, export, erasure">
            {displayName(conversation)}
          </Link>
        </h2>
        <span className="muted small">
          {conversation.contactName ? `${conversation.contactPhone} · ` : ''}to {conversation.ourNumber} via{' '}
          {PROVIDER_LABELS[conversation.provider]}
          {conversation.contactOptedOut && <span className="tag tag-danger">Opted out</span>}
        </span>
        {pending && (
          <span className="tag" data-testid="status-tag">
            Pending
          </span>
        )}
        {snoozed && conversation.snoozeUntil && (
          <span className="tag" data-testid="status-tag">
            Snoozed until {formatWhen(conversation.snoozeUntil)}
          </span>
        )}
        {here && (
          <span className="presence" role="status" data-testid="thread-presence">
            <span className="presence-dot" aria-hidden="true" /> {here}
          </span>
        )}
      </div>
      <div className="thread-actions" ref={actions}>
        {conversation.assignedAgentId !== me.id && !closed && (
          <button
            className="button"
            type="button"
            onClick={() => assign.mutate({ id: conversation.id, agentId: me.id })}
            disabled={assign.isPending}
          >
            Assign to me
          </button>
        )}
        <label className="visually-hidden" htmlFor={`assign-${conversation.id}`}>
          Assigned agent
        </label>
        <select
          id={`assign-${conversation.id}`}
          className="select"
          value={conversation.assignedAgentId ?? ''}
          onChange={(e) => assign.mutate({ id: conversation.id, agentId: e.target.value === '' ? null : Number(e.target.value) })}
          disabled={assign.isPending}
        >
          <option value="">Unassigned</option>
          {active.map((agent) => (
            <option key={agent.id} value={agent.id}>
              {agent.id === me.id ? `${agent.name} (me)` : agent.name}
            </option>
          ))}
        </select>
        {!closed && (
          <button
            className="button"
            type="button"
            onClick={togglePending}
            disabled={setStatus.isPending}
            aria-pressed={pending}
            data-testid="pending-button"
          >
            {pending ? 'Not pending' : 'Pending'}
          </button>
        )}
        {snoozed ? (
          <button
            className="button"
            type="button"
            onClick={() => {
              swapped.current = true;
              setStatus.mutate({ id: conversation.id, status: 'open' });
            }}
            disabled={setStatus.isPending}
            data-testid="unsnooze"
          >
            Unsnooze
          </button>
        ) : (
          !closed && (
            <TimeMenu
              label="Snooze"
              title="Snooze until"
              open={snoozeOpen}
              onOpenChange={setSnoozeOpen}
              disabled={setStatus.isPending}
              testId="snooze"
              onPick={(at) => {
                swapped.current = true;
                setStatus.mutate({ id: conversation.id, status: 'snoozed', snoozeUntil: at.toISOString() });
              }}
            />
          )
        )}
        <button
          className="button"
          type="button"
          onClick={() => setStatus.mutate({ id: conversation.id, status: closed ? 'open' : 'closed' })}
          disabled={setStatus.isPending}
        >
          {closed ? 'Reopen' : 'Close'}
        </button>
      </div>
      {error && (
        <p className="error thread-error" role="alert">
          {errorMessage(error)}
        </p>
      )}
    </header>
  );
}
