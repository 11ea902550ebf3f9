import { useRef, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import type { WebhookEndpointDto, WebhookEventType } from '@parley/shared/webhooks';
import { WEBHOOK_EVENT_TYPES } from '@parley/shared/webhooks';
import { errorMessage } from '../lib/errors';
import { useDialogFocus } from '../lib/use-dialog-focus';
import { queryClient, trpc } from '../trpc';

const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.webhookEndpoint.list.queryKey() });

/** Admins: outbound webhook endpoints, their deliveries, test events, replay, secrets. */
export function IntegrationsPage() {
  const list = useQuery({ ...trpc.webhookEndpoint.list.queryOptions(), refetchInterval: 3000 });
  const [secret, setSecret] = useState<{ label: string; secret: string } | null>(null);
  return (
    <div className="page-body integrations-page">
      <div className="page-head">
        <h1>Integrations: webhooks</h1>
      </div>
      <p className="muted">
        Parley posts the events you pick to your endpoints, signed per Standard Webhooks (headers <code>webhook-id</code>,{' '}
        <code>webhook-timestamp</code>, <code>webhook-signature</code>), in order, at least once: deduplicate by <code>webhook-id</code>.
      </p>
      <EndpointForm onSecret={(s) => setSecret({ label: 'The signing secret of the new endpoint.', secret: s })} />
      {secret && (
        <div className="invite-link card" role="status" data-testid="webhook-secret">
          <p>
            <strong>{secret.label}</strong> Copy it into your receiver now: Parley shows it only once.
          </p>
          <div className="copy-row">
            <input
              className="search"
              readOnly
              value={secret.secret}
              aria-label="Signing secret"
              onFocus={(e) => e.currentTarget.select()}
            />
            <button className="button" type="button" onClick={() => void navigator.clipboard?.writeText(secret.secret)}>
              Copy
            </button>
            <button className="button ghost" type="button" onClick={() => setSecret(null)}>
              Done
            </button>
          </div>
        </div>
      )}
      {list.isError && (
        <p className="error" role="alert">
          {errorMessage(list.error)}
        </p>
      )}
      {list.data?.length === 0 && <p className="muted">No endpoints yet.</p>}
      {(list.data ?? []).map((e) => (
        <EndpointCard key={e.id} endpoint={e} onSecret={(s) => setSecret({ label: `The new signing secret of ${e.url}.`, secret: s })} />
      ))}
    </div>
  );
}

function EventPicker({
  value,
  onChange,
  idPrefix,
}: {
  value: WebhookEventType[];
  onChange: (v: WebhookEventType[]) => void;
  idPrefix: string;
}) {
  return (
    <fieldset className="event-picker">
      <legend>Events</legend>
      {WEBHOOK_EVENT_TYPES.map((t) => (
        <label key={t} htmlFor={`${idPrefix}-${t}`} className="checkbox">
          <input
            id={`${idPrefix}-${t}`}
            type="checkbox"
            checked={value.includes(t)}
            onChange={(e) => onChange(e.target.checked ? [...value, t] : value.filter((x) => x !== t))}
          />{' '}
          <code>{t}</code>
        </label>
      ))}
    </fieldset>
  );
}

function EndpointForm({ onSecret }: { onSecret: (secret: string) => void }) {
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [events, setEvents] = useState<WebhookEventType[]>(['message.created', 'message.status']);
  const create = useMutation(
    trpc.webhookEndpoint.create.mutationOptions({
      onSuccess: ({ secret }) => {
        onSecret(secret);
        setUrl('');
        setDescription('');
        void refresh();
      },
    }),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate({ url, events, ...(description ? { description } : {}) });
  };
  return (
    <form className="card endpoint-form" onSubmit={submit} aria-label="New webhook endpoint">
      <label className="field">
        <span>URL</span>
        <input
          required
          type="url"
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          placeholder="https://crm.example.com/parley"
          data-testid="endpoint-url"
        />
      </label>
      <label className="field">
        <span>Description</span>
        <input value={description} onChange={(e) => setDescription(e.target.value)} maxLength={200} />
      </label>
      <EventPicker value={events} onChange={setEvents} idPrefix="new-endpoint" />
      <button className="button primary" type="submit" disabled={create.isPending || events.length === 0}>
        {create.isPending ? 'Adding…' : 'Add endpoint'}
      </button>
      {create.error && (
        <p className="error" role="alert" data-testid="endpoint-error">
          {errorMessage(create.error)}
        </p>
      )}
    </form>
  );
}

function EndpointCard({ endpoint, onSecret }: { endpoint: WebhookEndpointDto; onSecret: (secret: string) => void }) {
  const [editing, setEditing] = useState(false);
  const [events, setEvents] = useState(endpoint.events);
  const [replayFrom, setReplayFrom] = useState('');
  const [confirming, setConfirming] = useState(false);
  const deliveries = useQuery({ ...trpc.webhookEndpoint.deliveries.queryOptions({ id: endpoint.id }), refetchInterval: 3000 });
  const refreshAll = () => {
    void refresh();
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
