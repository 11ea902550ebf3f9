import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { errorMessage } from '../lib/errors';
import { queryClient, trpc } from '../trpc';

/** Admins: round-robin auto-assignment on or off, and the per-agent cap of open conversations. */
export function AutoAssignSettings() {
  const settings = useQuery(trpc.settings.get.queryOptions());
  const [cap, setCap] = useState<string | null>(null);
  const update = useMutation(
    trpc.settings.update.mutationOptions({
      onSuccess: (next) => {
        queryClient.setQueryData(trpc.settings.get.queryKey(), next);
        setCap(null);
      },
    }),
  );
  if (!settings.data) return null;
  const on = settings.data.autoAssign === 'round-robin';
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    update.mutate({ maxOpenPerAgent: Number(cap ?? settings.data.maxOpenPerAgent) });
  };
  return (
    <section className="card auto-assign" aria-labelledby="auto-assign-title">
      <h2 id="auto-assign-title">Auto-assignment</h2>
      <p className="muted small">
        Round-robin gives each new conversation (its first text) to the next agent who is online and has fewer open conversations than the
        cap; when nobody is, it stays unassigned.
      </p>
      <label className="checkbox">
        <input
          type="checkbox"
          checked={on}
          disabled={update.isPending}
          onChange={(e) => update.mutate({ autoAssign: e.target.checked ? 'round-robin' : 'off' })}
          data-testid="auto-assign-toggle"
        />{' '}
        Assign new conversations round-robin
      </label>
      <form className="inline-form" onSubmit={onSubmit}>
        <label>
          Open conversations per agent at most{' '}
          <input
            className="input narrow"
            type="number"
            min={1}
            max={10000}
            value={cap ?? String(settings.data.maxOpenPerAgent)}
            onChange={(e) => setCap(e.target.value)}
          />
        </label>
        <button className="button" type="submit" disabled={update.isPending || cap === null}>
          Save
        </button>
      </form>
      {update.error && (
        <p className="error" role="alert">
          {errorMessage(update.error)}
        </p>
      )}
    </section>
  );
}
