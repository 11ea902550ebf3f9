import { useState } from 'react';
import { useMutation } from '@tanstack/react-query';
import type { ContactListItemDto } from '@parley/shared/campaign';
import { Link } from '../link';
import { paths } from '../../lib/navigation';
import { errorMessage } from '../../lib/errors';
import { formatListTime } from '../../lib/format';
import { trpc } from '../../trpc';
import { NameCell } from './name-cell';
import { onContactChanged } from './on-contact-changed';
import { optOutSourceLabel } from './opt-out-source';

const dateTime = new Intl.DateTimeFormat(undefined, {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});
export const ADMIN_ONLY = 'Only an admin can opt a contact out or back in';

/** One contact in the table: phone (its page), name (editable), last message, opt-out state and the opt out/in action. */
export function ContactRow({ contact, admin }: { contact: ContactListItemDto; admin: boolean }) {
  const [confirmOptIn, setConfirmOptIn] = useState(false);
  const setOptOut = useMutation(
    trpc.contact.setOptOut.mutationOptions({
      onSuccess: (updated) => {
        setConfirmOptIn(false);
        onContactChanged(updated);
      },
    }),
  );
  const optedOut = contact.optedOutAt !== null;
  const label = contact.name ?? contact.phone;

  return (
    <tr data-contact={contact.phone} data-opted-out={optedOut}>
      <td className="mono">
        <Link to={paths.contact(contact.id)} aria-label={`Contact page of ${label}`}>
          {contact.phone}
        </Link>
      </td>
      <td>
        <NameCell contact={contact} />
      </td>
      <td className="muted small">
        {contact.lastMessageAt ? formatListTime(contact.lastMessageAt) : '—'}
        {contact.conversationCount > 1 && ` · ${contact.conversationCount} conversations`}
      </td>
      <td>
        {optedOut && contact.optedOutAt ? (
          <span className="optout" data-testid="optout-state">
            <span className="tag tag-danger">Opted out</span>
            <span className="small muted">
              {' '}
              {dateTime.format(new Date(contact.optedOutAt))} · {optOutSourceLabel(contact.optOutSource)}
            </span>
          </span>
        ) : (
          <span className="small muted">Subscribed</span>
        )}
      </td>
      <td className="actions">
        {confirmOptIn ? (
          <span className="confirm">
            <span className="small">Only with their consent.</span>
            <button className="button small-button" type="button" onClick={() => setConfirmOptIn(false)} disabled={setOptOut.isPending}>
              Keep
            </button>
            <button
              className="button primary small-button"
              type="button"
              onClick={() => setOptOut.mutate({ id: contact.id, optedOut: false })}
              disabled={setOptOut.isPending}
            >
              Opt in
            </button>
          </span>
        ) : (
          <span title={admin ? undefined : ADMIN_ONLY}>
            <button
              className={`button small-button${optedOut ? '' : ' danger'}`}
              type="button"
              disabled={!admin || setOptOut.isPending}
              aria-label={`${optedOut ? 'Opt in' : 'Opt out'} ${label}`}
              aria-describedby={admin ? undefined : 'admin-only-hint'}
              onClick={() => (optedOut ? setConfirmOptIn(true) : setOptOut.mutate({ id: contact.id, optedOut: true }))}
            >
              {optedOut ? 'Opt in…' : 'Opt out'}
            </button>
          </span>
        )}
        {setOptOut.error && (
          <p className="error small" role="alert">
            {errorMessage(setOptOut.error)}
          </p>
        )}
      </td>
    </tr>
  );
}
