import { useState } from 'react';
import { useInfiniteQuery, useMutation } from '@tanstack/react-query';
import { AUDIT_ACTIONS, type AuditAction, type AuditEntryDto } from '@parley/shared/audit';
import { errorMessage } from '../lib/errors';
import { queryClient, trpc } from '../trpc';

const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** "target: campaign 12" and the facts, as one readable line. */
function describe(e: AuditEntryDto): string {
  const target = e.targetType ? `${e.targetType} ${e.targetId ?? ''}`.trim() : '';
  const facts = e.detail ? Object.entries(e.detail).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`) : [];
  return [target, ...facts].filter((s) => s !== '').join(' · ');
}

function download(filename: string, csv: string): void {
  const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}

/** Admins: who did what and when — newest first, filtered by action, paged, exportable as CSV. */
export function AuditPage() {
  const [action, setAction] = useState<AuditAction | ''>('');
  const filter = action === '' ? undefined : action;
  const pages = useInfiniteQuery(
    trpc.audit.list.infiniteQueryOptions(
      { action: filter },
      { getNextPageParam: (last) => last.nextCursor ?? undefined, initialCursor: null },
    ),
  );
  const exportCsv = useMutation(
    trpc.audit.export.mutationOptions({
      onSuccess: ({ filename, csv }) => {
        download(filename, csv);
        // The export is itself an entry: show it.
        void queryClient.invalidateQueries({ queryKey: trpc.audit.list.pathKey() });
      },
    }),
  );
  const items = pages.data?.pages.flatMap((p) => p.items) ?? [];
  const error = pages.error ?? exportCsv.error;
  return (
    <div className="page-body audit-page">
      <div className="page-head">
        <h1>Audit log</h1>
        <button
          className="button"
          type="button"
          onClick={() => exportCsv.mutate({ action: filter })}
          disabled={exportCsv.isPending}
          data-testid="audit-export"
        >
          Export CSV
        </button>
      </div>
      <p className="muted">
        Every admin action — invitations, roles, disabled accounts, API tokens, settings, campaigns, exports — with who did it and when.
        Entries cannot be changed or deleted.
      </p>
      <label>
        Action{' '}
        <select
          className="select"
          value={action}
          onChange={(e) => setAction(e.target.value as AuditAction | '')}
          data-testid="audit-filter"
        >
          <option value="">All actions</option>
          {AUDIT_ACTIONS.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </label>
      {error && (
        <p className="error" role="alert">
          {errorMessage(error)}
        </p>
      )}
      <table className="table audit-table" data-testid="audit-table">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">Action</th>
            <th scope="col">What</th>
          </tr>
        </thead>
        <tbody>
          {items.map((e) => (
            <tr key={e.id} data-action={e.action}>
              <td>
                <time dateTime={e.at}>{when.format(new Date(e.at))}</time>
              </td>
              <td>
                {e.agentName ?? (e.via === 'system' ? 'Parley' : `agent ${e.agentId ?? '?'}`)}
                {e.via === 'token' && <span className="muted small"> (API token)</span>}
              </td>
              <td>
                <code>{e.action}</code>
              </td>
              <td className="small">{describe(e)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {pages.isSuccess && items.length === 0 && <p className="muted">Nothing recorded{filter ? ` for ${filter}` : ''} yet.</p>}
      {pages.hasNextPage && (
        <button className="button" type="button" onClick={() => void pages.fetchNextPage()} disabled={pages.isFetchingNextPage}>
          Load more
        </button>
      )}
    </div>
  );
}
