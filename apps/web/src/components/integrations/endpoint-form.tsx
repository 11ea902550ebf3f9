import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import type { WebhookEventType } from '@parley/shared/webhooks';
import { errorMessage } from '../../lib/errors';
import { trpc } from '../../trpc';
import { EventPicker } from './event-picker';
import { refreshEndpoints } from './refresh';

/** Registers a new endpoint (URL, description, events); its signing secret goes to `onSecret`, shown once. */
export function EndpointForm({ onSecret }: { onSecret: (secret: string) => void }) {
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
