import { useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { RouterOutputs } from '@parley/server';
import { ADMIN_ONLY, ContactRow } from '../components/contacts/contact-row';
import { ExportOptOuts } from '../components/contacts/export-opt-outs';
import { Pager } from '../components/pager';
import { errorMessage } from '../lib/errors';
import { useCursorPages } from '../lib/use-cursor-pages';
import { useDebounced } from '../lib/use-debounced';
import { trpc } from '../trpc';

export { optOutSourceLabel } from '../components/contacts/opt-out-source';

type Agent = RouterOutputs['auth']['me'];
type Filter = 'all' | 'opted-out';

const PAGE = 50;

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
