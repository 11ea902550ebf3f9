import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import type { ContactListItemDto } from '@parley/shared/campaign';
import { errorMessage } from '../../lib/errors';
import { trpc } from '../../trpc';
import { onContactChanged } from './on-contact-changed';

/** The name, and in place an input to change it (Enter saves, Escape cancels; empty removes it). */
export function NameCell({ contact }: { contact: ContactListItemDto }) {
  const [draft, setDraft] = useState<string | null>(null);
  const update = useMutation(
    trpc.contact.update.mutationOptions({
      onSuccess: (updated) => {
        setDraft(null);
        onContactChanged(updated);
      },
    }),
  );

  if (draft === null) {
    return (
      <span className="name-cell">
        {contact.name ?? <span className="muted">No name</span>}
        <button
          className="button ghost small-button"
          type="button"
          onClick={() => setDraft(contact.name ?? '')}
          aria-label={`Edit the name of ${contact.phone}`}
          title="Edit the name"
        >
          ✎
        </button>
      </span>
    );
  }

  const save = (event: FormEvent) => {
    event.preventDefault();
    const name = draft.trim();
    if (name === (contact.name ?? '')) return setDraft(null);
    update.mutate({ id: contact.id, name: name === '' ? null : name });
  };
  return (
    <form className="name-edit" onSubmit={save}>
      <input
        aria-label={`Name of ${contact.phone}`}
        value={draft}
        maxLength={200}
        autoFocus
        onChange={(e) => setDraft(e.target.value)}
        onKeyDown={(e) => e.key === 'Escape' && setDraft(null)}
        disabled={update.isPending}
      />
      <button className="button primary small-button" type="submit" disabled={update.isPending}>
        Save
      </button>
      <button className="button ghost small-button" type="button" onClick={() => setDraft(null)} disabled={update.isPending}>
        Cancel
      </button>
      {update.error && (
        <p className="error small" role="alert">
          {errorMessage(update.error)}
        </p>
      )}
    </form>
  );
}
