import { useState } from 'react';
import { useMutation } from '@tanstack/react-query';
import type { WebhookEndpointDto } from '@parley/shared/webhooks';
import { errorMessage } from '../../lib/errors';
import { queryClient, trpc } from '../../trpc';
import { ConfirmDelete } from './confirm-delete';
import { DeliveriesTable } from './deliveries-table';
import { EventPicker } from './event-picker';
import { refreshEndpoints } from './refresh';

/** One endpoint: its state, events (editable), test event, enable/disable, secret rotation, delete, replay, deliveries. */
export function EndpointCard({ endpoint, onSecret }: { endpoint: WebhookEndpointDto; onSecret: (secret: string) => void }) {
  const [editing, setEditing] = useState(false);
  const [events, setEvents] = useState(endpoint.events);
  const [replayFrom, setReplayFrom] = useState('');
  const [confirming, setConfirming] = useState(false);
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
      <DeliveriesTable endpoint={endpoint} />
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
