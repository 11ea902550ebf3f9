import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { errorMessage } from '../lib/errors';
import { trpc } from '../trpc';
import { EndpointCard } from '../components/integrations/endpoint-card';
import { EndpointForm } from '../components/integrations/endpoint-form';

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
