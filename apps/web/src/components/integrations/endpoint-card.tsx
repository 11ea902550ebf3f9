import { useRef, useState } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import type { WebhookEndpointDto } from '@parley/shared/webhooks';
import { errorMessage } from '../../lib/errors';
import { useDialogFocus } from '../../lib/use-dialog-focus';
import { queryClient, trpc } from '../../trpc';
import { EventPicker } from './event-picker';

/** The endpoint list again, after a change. */
export const refreshEndpoints = () => queryClient.invalidateQueries({ queryKey: trpc.webhookEndpoint.list.queryKey() });

export function EndpointCard({ endpoint, onSecret }: { endpoint: WebhookEndpointDto; onSecret: (secret: string) => void }) {
  const [editing, setEditing] = useState(false);
  const [events, setEvents] = useState(endpoint.events);
  const [replayFrom, setReplayFrom] = useState('');
  const [confirming, setConfirming] = useState(false);
  const deliveries = useQuery({ ...trpc.webhookEndpoint.deliveries.queryOptions({ id: endpoint.id }), refetchInterval: 3000 });
  const refreshAll = () => {
    void refreshEndpoints();
    void queryClient.invalidateQueries({ queryKey: trpc.webhookEndpoint.deliveries.queryKey({ id: endpoint.id }) });
  };
  const update = useMutation(trpc.webhookEndpoint.update.mutationOptions({ onSuccess: () => (setEditing(false), refreshAll()) }));
  const rotate = useMutation(
    trpc.webhookEndpoint.rotateSecret.mutationOptions({ onSuccess: ({ secret }) => (onSecret(secret), refreshAll()) }),
  );
  const test = useMutation(trpc.webhookEndpoint.sendTest.mutationOptions({ onSuccess: refreshAll }));
  const replay = useMutation(trpc.webhookEndpoint.replay.mutationOptions({ onSuccess: () => (setReplayFrom(''), refreshAll()) }));
  const remove = useMutation(trpc.webhookEndpoint.delete.mutationOptions({ onSuccess: () => (setConfirming(false), refreshAll()) }));
  const error = update.error ?? rotate.error ?? test.error ?? replay.error ?? remove.error;
  return (
    <section className="card endpoint-card" aria-label={`Endpoint ${endpoint.url}`} data-endpoint-id={endpoint.id}>
      <div className="endpoint-head">
        <h2 className="endpoint-url">
          <code>{endpoint.url}</code>
        </h2>
        <span className={`endpoint-state${endpoint.enabled ? '' : ' off'}`}>{endpoint.enabled ? 'Enabled' : 'Disabled'}</span>
      </div>
      {endpoint.description && <p className="muted">{endpoint.description}</p>}
      {!endpoint.enabled && endpoint.disabledReason && (
        <p className="error" role="status" data-testid="disabled-reason">
          {endpoint.disabledReason}
        </p>
      )}
      <p className="muted small">
        Delivered up to event #{endpoint.lastEventId}
        {endpoint.failures > 0 &&
          ` · ${endpoint.failures} failed attempt(s), next ${endpoint.nextAttemptAt ? new Date(endpoint.nextAttemptAt).toLocaleString() : 'soon'}`}
        {endpoint.previousSecretUntil &&
          ` · the previous secret signs too until ${new Date(endpoint.previousSecretUntil).toLocaleString()}`}
      </p>
      {editing ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            update.mutate({ id: endpoint.id, events });
          }}
        >
          <EventPicker value={events} onChange={setEvents} idPrefix={`endpoint-${endpoint.id}`} />
          <button className="button primary" type="submit" disabled={update.isPending || events.length === 0}>
            Save events
          </button>
          <button className="button ghost" type="button" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <p className="small">
          Events:{' '}
          {endpoint.events.map((t) => (
            <code key={t}>{t} </code>
          ))}
        </p>
      )}
      <div className="endpoint-actions">
        <button className="button" type="button" onClick={() => test.mutate({ id: endpoint.id })} disabled={test.isPending}>
          {test.isPending ? 'Sending…' : 'Send test event'}
        </button>
        {!editing && (
          <button className="button ghost" type="button" onClick={() => setEditing(true)}>
            Edit events
          </button>
        )}
        <button
          className="button ghost"
          type="button"
          onClick={() => update.mutate({ id: endpoint.id, enabled: !endpoint.enabled })}
          disabled={update.isPending}
        >
          {endpoint.enabled ? 'Disable' : 'Enable'}
        </button>
        <button className="button ghost" type="button" onClick={() => rotate.mutate({ id: endpoint.id })} disabled={rotate.isPending}>
          Rotate secret
        </button>
        <button className="button ghost danger" type="button" data-delete-endpoint={endpoint.id} onClick={() => setConfirming(true)}>
          Delete
        </button>
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            replay.mutate({ id: endpoint.id, fromEventId: Number(replayFrom) });
          }}
        >
          <label>
            Replay from event #{' '}
            <input
              className="search replay-input"
              inputMode="numeric"
              pattern="[0-9]+"
              required
              value={replayFrom}
              onChange={(e) => setReplayFrom(e.target.value)}
              aria-label="Replay from event id"
            />
          </label>
          <button className="button ghost" type="submit" disabled={replay.isPending}>
            Replay
          </button>
        </form>
      </div>
      {error && (
        <p className="error" role="alert">
          {errorMessage(error)}
        </p>
      )}
      <div className="table-wrap">
        <table className="table" aria-label={`Recent deliveries to ${endpoint.url}`}>
          <thead>
            <tr>
              <th>Time</th>
              <th>Event</th>
              <th>Attempt</th>
              <th>Status</th>
              <th>Code</th>
              <th>Latency</th>
              <th>Answer</th>
            </tr>
          </thead>
          <tbody>
            {(deliveries.data?.items ?? []).slice(0, 20).map((d) => (
              <tr key={d.id} data-testid="delivery-row">
                <td>{new Date(d.at).toLocaleTimeString()}</td>
                <td>
                  <code>{d.eventId === null ? d.webhookId.slice(0, 13) : `#${d.eventId}`}</code> {d.eventType}
                </td>
                <td>{d.attempt}</td>
                <td className={d.status === 'succeeded' ? 'ok' : 'error'}>{d.status}</td>
                <td>{d.responseStatus ?? '–'}</td>
                <td>{d.latencyMs} ms</td>
                <td className="excerpt">
                  <code>{d.error && d.responseStatus === null ? d.error : (d.responseExcerpt ?? '').slice(0, 120)}</code>
                </td>
              </tr>
            ))}
            {deliveries.data?.items.length === 0 && (
              <tr>
                <td colSpan={7} className="muted">
                  No deliveries yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {confirming && (
        <ConfirmDelete
          id={endpoint.id}
          url={endpoint.url}
          pending={remove.isPending}
          onCancel={() => setConfirming(false)}
          onConfirm={() => remove.mutate({ id: endpoint.id })}
        />
      )}
    </section>
  );
}

function ConfirmDelete({
  id,
  url,
  pending,
  onCancel,
  onConfirm,
}: {
  id: number;
  url: string;
  pending: boolean;
  onCancel: () => void;
  onConfirm: () => void;
}) {
  const dialog = useRef<HTMLDivElement>(null);
  // Focus stays inside, starts on Cancel, Escape cancels, and focus goes back to the Delete button.
  useDialogFocus(dialog, onCancel, {
    initialFocus: '[data-cancel]',
    // The card re-renders with every poll: find its Delete button again if the one that opened us is gone.
    returnFocus: () => document.querySelector<HTMLElement>(`[data-delete-endpoint="${id}"]`),
  });
  return (
    <div className="sheet-backdrop" onClick={onCancel}>
      <div
        ref={dialog}
        className="sheet"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="delete-endpoint-title"
        onClick={(e) => e.stopPropagation()}
      >
        <h2 id="delete-endpoint-title">Delete this endpoint?</h2>
        <p>
          <code>{url}</code> stops receiving events at once, and its delivery history is deleted.
        </p>
        <div className="sheet-actions">
          <button className="button ghost" type="button" data-cancel onClick={onCancel}>
            Cancel
          </button>
          <button className="button danger-solid" type="button" onClick={onConfirm} disabled={pending}>
            Delete endpoint
          </button>
        </div>
      </div>
    </div>
  );
}
