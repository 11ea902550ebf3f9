import { useRef, useState } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import type { RouterOutputs } from '@parley/server';
import type { ConsentEntryDto } from '@parley/shared/compliance';
import { Link } from '../components/link';
import { errorMessage } from '../lib/errors';
import { formatListTime } from '../lib/format';
import { navigate, paths } from '../lib/navigation';
import { useDialogFocus } from '../lib/use-dialog-focus';
import { queryClient, trpc } from '../trpc';
import { optOutSourceLabel } from './contacts-page';

type Agent = RouterOutputs['auth']['me'];

const dateTime = new Intl.DateTimeFormat(undefined, {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});
const ADMIN_ONLY = 'Only an admin can export or erase a contact';

/** Saves `text` as a file through a Blob link. */
function download(filename: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}

/** One contact: its conversations, its consent history, and (admins) export and erasure. */
export function ContactPage({ id, me }: { id: number; me: Agent }) {
  const contact = useQuery({ ...trpc.contact.get.queryOptions({ id }), retry: false });
  const admin = me.role === 'admin';
  const [erasing, setErasing] = useState(false);

  if (contact.isPending) return <p className="page-body muted">Loading…</p>;
  if (contact.isError) {
    return (
      <div className="page-body">
        <p className="error" role="alert">
          {errorMessage(contact.error)}
        </p>
        <Link to={paths.contacts}>← All contacts</Link>
      </div>
    );
  }
  const c = contact.data;
  const label = c.name ?? c.phone;
  return (
    <div className="page-body contact-page" data-testid="contact-page">
      <div className="page-head">
        <Link to={paths.contacts}>← Contacts</Link>
        <h1>{label}</h1>
        <span className="spacer" />
        <ExportButtons id={id} admin={admin} />
        <span title={admin ? undefined : ADMIN_ONLY}>
          <button className="button danger" type="button" disabled={!admin} onClick={() => setErasing(true)}>
            Erase…
          </button>
        </span>
      </div>
      <div className="card pad">
        <p>
          <span className="mono">{c.phone}</span>
          {c.name && <> · {c.name}</>}
        </p>
        <p data-testid="contact-consent-state">
          {c.optedOutAt ? (
            <>
              <span className="tag tag-danger">Opted out</span>{' '}
              <span className="small muted">
                {dateTime.format(new Date(c.optedOutAt))} · {optOutSourceLabel(c.optOutSource)}
              </span>
            </>
          ) : (
            <span className="small muted">Subscribed</span>
          )}
        </p>
        <h2>Conversations</h2>
        {c.conversations.length === 0 ? (
          <p className="muted small">None.</p>
        ) : (
          <ul className="plain-list">
            {c.conversations.map((conv) => (
              <li key={conv.id}>
                <Link to={paths.conversation(conv.id)}>On {conv.ourNumber}</Link>{' '}
                <span className="small muted">
                  {conv.lastMessageAt ? formatListTime(conv.lastMessageAt) : 'no messages'} · {conv.status}
                </span>
              </li>
            ))}
          </ul>
        )}
      </div>
      <ConsentHistory id={id} />
      {erasing && <EraseDialog id={id} label={label} onClose={() => setErasing(false)} />}
    </div>
  );
}

function consentSourceLabel(entry: ConsentEntryDto, agentName: (id: number) => string): string {
  switch (entry.source) {
    case 'keyword':
      return 'texted a keyword';
    case 'agent':
      return entry.agentId === undefined ? 'by an agent' : `by ${agentName(entry.agentId)}`;
    case 'api':
      return entry.agentId === undefined ? 'through the API' : `through the API (${agentName(entry.agentId)}'s token)`;
    case 'import':
      return 'imported';
    case 'erasure':
      return 'kept from an erased contact';
  }
}

/** The consent ledger: every opt-out and opt-in, oldest first, with how it happened. */
function ConsentHistory({ id }: { id: number }) {
  const history = useQuery(trpc.contact.consentHistory.queryOptions({ id }));
  const agents = useQuery({ ...trpc.agent.list.queryOptions(), staleTime: 60_000 });
  const agentName = (agentId: number) => agents.data?.find((a) => a.id === agentId)?.name ?? `agent ${agentId}`;
  return (
    <section className="card pad" aria-labelledby="consent-title">
      <h2 id="consent-title">Consent history</h2>
      {history.isError && (
        <p className="error" role="alert">
          {errorMessage(history.error)}
        </p>
      )}
      {history.data && history.data.length === 0 && <p className="muted small">No opt-out or opt-in recorded.</p>}
      {history.data && history.data.length > 0 && (
        <table className="table" data-testid="consent-history">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">State</th>
              <th scope="col">How</th>
            </tr>
          </thead>
          <tbody>
            {history.data.map((entry, index) => (
              <tr key={index}>
                <td>{dateTime.format(new Date(entry.at))}</td>
                <td>{entry.state === 'opted_out' ? 'Opted out' : 'Opted in'}</td>
                <td>
                  {consentSourceLabel(entry, agentName)}
                  {entry.messageId !== undefined && <span className="small muted"> (message {entry.messageId})</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function ExportButtons({ id, admin }: { id: number; admin: boolean }) {
  const consentCsv = useMutation({
    mutationFn: () => queryClient.fetchQuery({ ...trpc.contact.exportConsent.queryOptions({ id }), staleTime: 0 }),
    onSuccess: ({ filename, csv }) => download(filename, csv, 'text/csv;charset=utf-8'),
  });
  const dataJson = useMutation({
    mutationFn: () => queryClient.fetchQuery({ ...trpc.contact.export.queryOptions({ id }), staleTime: 0, gcTime: 0 }),
    onSuccess: (doc) =>
      download(`parley-contact-${id}-${doc.exportedAt.slice(0, 10)}.json`, JSON.stringify(doc, null, 2), 'application/json'),
  });
  const error = consentCsv.error ?? dataJson.error;
  return (
    <span className="export" title={admin ? undefined : ADMIN_ONLY}>
      {error && (
        <span className="error small" role="alert">
          {errorMessage(error)}
        </span>
      )}
      {dataJson.isSuccess && (
        <span className="ok small" role="status">
          Exported.
        </span>
      )}
      <button className="button" type="button" disabled={!admin || consentCsv.isPending} onClick={() => consentCsv.mutate()}>
        Consent (CSV)
      </button>
      <button className="button" type="button" disabled={!admin || dataJson.isPending} onClick={() => dataJson.mutate()}>
        {dataJson.isPending ? 'Exporting…' : 'Export (JSON)'}
      </button>
    </span>
  );
}

/** Erasure cannot be undone: a dialog that keeps focus inside until it is confirmed or cancelled. */
function EraseDialog({ id, label, onClose }: { id: number; label: string; onClose: () => void }) {
  const dialog = useRef<HTMLDivElement>(null);
  useDialogFocus(dialog, onClose, { initialFocus: '#erase-cancel' });
  const erase = useMutation(
    trpc.contact.erase.mutationOptions({
      onSuccess: () => {
        void queryClient.invalidateQueries({ queryKey: trpc.contact.list.pathKey() });
        navigate(paths.contacts);
      },
    }),
  );
  return (
    <div className="sheet-backdrop" onClick={onClose}>
      <div
        ref={dialog}
        className="sheet"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="erase-title"
        aria-describedby="erase-desc"
        onClick={(e) => e.stopPropagation()}
      >
        <h2 id="erase-title">Erase {label}?</h2>
        <div id="erase-desc">
          <p>
            Their messages, notes, conversations, name and number are deleted for good, with every copy Parley keeps (delivery reports, the
            event log, campaign lists). Export first if they asked for their data.
          </p>
          <p className="small muted">
            Parley keeps only a keyed hash of the number with its opt-out state, so a number that opted out is still never texted.
          </p>
        </div>
        {erase.error && (
          <p className="error" role="alert">
            {errorMessage(erase.error)}
          </p>
        )}
        <div className="sheet-actions">
          <button id="erase-cancel" className="button" type="button" onClick={onClose} disabled={erase.isPending}>
            Cancel
          </button>
          <button className="button danger" type="button" onClick={() => erase.mutate({ id })} disabled={erase.isPending}>
            {erase.isPending ? 'Erasing…' : 'Erase for good'}
          </button>
        </div>
      </div>
    </div>
  );
}
