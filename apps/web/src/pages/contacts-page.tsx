import { useState, type FormEvent } from 'react';
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import type { RouterOutputs } from '@parley/server';
import type { ContactListItemDto } from '@parley/shared/campaign';
import type { ContactDto } from '@parley/shared/dto';
import { Link } from '../components/link';
import { Pager } from '../components/pager';
import { paths } from '../lib/navigation';
import { updateContactLists } from '../live/apply-event';
import { errorMessage } from '../lib/errors';
import { formatListTime } from '../lib/format';
import { useCursorPages } from '../lib/use-cursor-pages';
import { useDebounced } from '../lib/use-debounced';
import { queryClient, trpc } from '../trpc';

type Agent = RouterOutputs['auth']['me'];
type Filter = 'all' | 'opted-out';

const PAGE = 50;
const dateTime = new Intl.DateTimeFormat(undefined, {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});
const ADMIN_ONLY = 'Only an admin can opt a contact out or back in';

/** How a contact was opted out, in words. */
export function optOutSourceLabel(source: string | null): string {
  switch (source) {
    case 'keyword':
      return 'texted STOP';
    case 'agent':
      return 'by an agent';
    case 'import':
      return 'imported';
    case 'api':
      return 'through the API';
    case 'erasure':
      return 'opted out before an erasure';
    default:
      return source ?? 'unknown';
  }
}

/** Everyone who texted us or was texted: search, rename, opt-out state and (admins) opt out/in, CSV export. */
export function ContactsPage({ me }: { me: Agent }) {
  const [search, setSearch] = useState('');
  const [filter, setFilter] = useState<Filter>('all');
  const query = useDebounced(search.trim(), 250);
  const pages = useCursorPages(`${filter}:${query}`);
  const input = {
    limit: PAGE,
    ...(query ? { search: query } : {}),
    ...(filter === 'opted-out' ? { optedOut: true } : {}),
    ...(pages.cursor ? { cursor: pages.cursor } : {}),
  };
  const list = useQuery({ ...trpc.contact.list.queryOptions(input), placeholderData: keepPreviousData });
  const rows = list.data?.items ?? [];
  const admin = me.role === 'admin';

  return (
    <div className="page-body">
      <div className="page-head">
        <h1>Contacts</h1>
        <span className="spacer" />
        <ExportOptOuts admin={admin} />
      </div>
      <div className="card contacts">
        <div className="contacts-toolbar">
          <label className="visually-hidden" htmlFor="contact-search">
            Search contacts
          </label>
          <input
            id="contact-search"
            className="search"
            type="search"
            placeholder="Search by number or name"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
          <div className="filters" role="tablist" aria-label="Show">
            {(
              [
                ['all', 'All'],
                ['opted-out', 'Opted out'],
              ] as const
            ).map(([id, label]) => (
              <button
                key={id}
                type="button"
                role="tab"
                aria-selected={filter === id}
                className={`filter${filter === id ? ' active' : ''}`}
                onClick={() => setFilter(id)}
              >
                {label}
              </button>
            ))}
          </div>
        </div>
        {!admin && (
          <p id="admin-only-hint" className="muted small contacts-note">
            {ADMIN_ONLY}.
          </p>
        )}
        {list.isError && (
          <p className="error pad" role="alert">
            {errorMessage(list.error)}
          </p>
        )}
        {list.isPending ? (
          <p className="muted pad">Loading contacts…</p>
        ) : rows.length === 0 ? (
          !list.isError && (
            <p className="muted pad center">
              {query ? `No contact matches “${query}”.` : filter === 'opted-out' ? 'Nobody has opted out.' : 'No contacts yet.'}
            </p>
          )
        ) : (
          <div className="table-wrap">
            <table className="table contacts-table" data-testid="contacts-table" aria-busy={list.isFetching}>
              <thead>
                <tr>
                  <th scope="col">Phone</th>
                  <th scope="col">Name</th>
                  <th scope="col">Last message</th>
                  <th scope="col">Opt-out</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((contact) => (
                  <ContactRow key={contact.id} contact={contact} admin={admin} />
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pager pages={pages} nextCursor={list.data?.nextCursor} busy={list.isFetching} />
      </div>
    </div>
  );
}

function onContactChanged(contact: ContactDto): void {
  updateContactLists(queryClient, contact);
  // A filtered list (opted out) may no longer hold it; the next look asks the server.
  void queryClient.invalidateQueries({ queryKey: trpc.contact.list.pathKey(), refetchType: 'none' });
}

function ContactRow({ contact, admin }: { contact: ContactListItemDto; admin: boolean }) {
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

/** The name, and in place an input to change it (Enter saves, Escape cancels; empty removes it). */
function NameCell({ contact }: { contact: ContactListItemDto }) {
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

/** Downloads the opt-out list as the server writes it (phone, name, when, how), through a Blob. */
function ExportOptOuts({ admin }: { admin: boolean }) {
  const exportCsv = useMutation({
    mutationFn: () => queryClient.fetchQuery({ ...trpc.contact.exportOptOuts.queryOptions(), staleTime: 0 }),
    onSuccess: ({ filename, csv }) => {
      const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
      const link = document.createElement('a');
      link.href = url;
      link.download = filename;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1_000);
    },
  });
  return (
    <span className="export">
      {exportCsv.isSuccess && (
        <span className="ok small" role="status">
          {exportCsv.data.count} {exportCsv.data.count === 1 ? 'opt-out' : 'opt-outs'} exported.
        </span>
      )}
      {exportCsv.error && (
        <span className="error small" role="alert">
          {errorMessage(exportCsv.error)}
        </span>
      )}
      <span title={admin ? undefined : 'Only an admin can export the opt-out list'}>
        <button className="button" type="button" onClick={() => exportCsv.mutate()} disabled={!admin || exportCsv.isPending}>
          {exportCsv.isPending ? 'Exporting…' : 'Export opt-outs (CSV)'}
        </button>
      </span>
    </span>
  );
}
