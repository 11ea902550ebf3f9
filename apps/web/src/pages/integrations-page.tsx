import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import type { WebhookEventType } from '@parley/shared/webhooks';
import { errorMessage } from '../lib/errors';
import { trpc } from '../trpc';
import { EndpointCard, refreshEndpoints } from '../components/integrations/endpoint-card';
import { EventPicker } from '../components/integrations/event-picker';

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
        void refreshEndpoints();
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
