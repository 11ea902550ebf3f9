import { useRef, useState } from 'react';
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import type { RouterInputs, RouterOutputs } from '@parley/server';
import { PROVIDER_LABELS, PROVIDER_NAMES, type ProviderName } from '@parley/shared/providers';
import { Pager } from '../components/pager';
import { errorMessage } from '../lib/errors';
import { formatListTime } from '../lib/format';
import { useCursorPages } from '../lib/use-cursor-pages';
import { useDialogFocus } from '../lib/use-dialog-focus';
import { queryClient, trpc, trpcClient } from '../trpc';

type Item = RouterOutputs['webhookLog']['list']['items'][number];
type Replayed = RouterOutputs['webhookLog']['replay'];
type Filter = Omit<RouterInputs['webhookLog']['list'], 'cursor'>;

/** The server's batch limit per replay call (WEBHOOK_REPLAY_MAX_IDS). */
const BATCH = 200;

const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.webhookLog.pathKey() });

function tally(results: Replayed): string {
  const counts = new Map<string, number>();
  for (const r of results) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  return [...counts].map(([outcome, n]) => `${n} ${outcome}`).join(', ');
}

/**
 * Admins: what provider webhooks Parley refused (kept raw in webhook_log), opened raw, replayed one by
 * one or all matching the filter. A replay verifies again with the current secrets and stores what
 * passes exactly as a live webhook would; replaying twice changes nothing.
 */
export function RefusedWebhooksPage() {
  const [provider, setProvider] = useState<ProviderName | ''>('');
  const [outcome, setOutcome] = useState('');
  const [pendingOnly, setPendingOnly] = useState(true);
  const filter: Filter = {
    ...(provider ? { provider } : {}),
    ...(outcome ? { outcome } : {}),
    ...(pendingOnly ? { needsReview: true } : {}),
  };
  const pages = useCursorPages(JSON.stringify(filter));
  const list = useQuery({
    ...trpc.webhookLog.list.queryOptions({ ...filter, ...(pages.cursor ? { cursor: Number(pages.cursor) } : {}) }),
    placeholderData: keepPreviousData,
  });
  const summary = useQuery(trpc.webhookLog.summary.queryOptions());
  const [open, setOpen] = useState<number | null>(null);
  const [result, setResult] = useState<string | null>(null);

  const replay = useMutation({
    mutationFn: async (ids: number[]) => {
      const all: Replayed = [];
      for (let i = 0; i < ids.length; i += BATCH)
        all.push(...(await trpcClient.webhookLog.replay.mutate({ ids: ids.slice(i, i + BATCH) })));
      return all;
    },
    onSuccess: (results) => setResult(results.length === 0 ? 'Nothing matched.' : `Replayed ${results.length}: ${tally(results)}.`),
    onSettled: () => void refresh(),
  });
  const replayAll = async () => {
    const { ids } = await queryClient.fetchQuery({ ...trpc.webhookLog.matchingIds.queryOptions(filter), staleTime: 0 });
    if (ids.length === 0) return setResult('Nothing matched.');
    if (!window.confirm(`Replay ${ids.length} webhook${ids.length === 1 ? '' : 's'} matching this filter with the current secrets?`))
      return;
    replay.mutate(ids);
  };
  const dismiss = useMutation(trpc.webhookLog.dismiss.mutationOptions({ onSettled: () => void refresh() }));

  const items = list.data?.items ?? [];
  return (
    <div className="page-body refused-webhooks-page">
      <div className="page-head">
        <h1>Refused webhooks</h1>
      </div>
      <p className="muted">
        Provider webhooks Parley refused (a wrong signature secret, an unknown number, a body it could not read) are kept here. Fix the
        cause, then replay them: each is verified again with the current secrets and, if it passes, stored as it would have been when it
        arrived. Replaying twice stores nothing more.
        {summary.data && ` ${summary.data.needsReview} still need${summary.data.needsReview === 1 ? 's' : ''} review.`}
      </p>
      <div className="refused-filters card" role="group" aria-label="Filter">
        <label className="field inline">
          <span>Provider</span>
          <select value={provider} onChange={(e) => setProvider(e.target.value as ProviderName | '')}>
            <option value="">All</option>
            {PROVIDER_NAMES.map((p) => (
              <option key={p} value={p}>
                {PROVIDER_LABELS[p]}
              </option>
            ))}
          </select>
        </label>
        <label className="field inline">
          <span>Outcome</span>
          <select value={outcome} onChange={(e) => setOutcome(e.target.value)}>
            <option value="">All</option>
            {(summary.data?.outcomes ?? []).map((o) => (
              <option key={o.outcome} value={o.outcome}>
                {o.outcome} ({o.count})
              </option>
            ))}
          </select>
        </label>
        <label className="field inline checkbox">
          <input type="checkbox" checked={pendingOnly} onChange={(e) => setPendingOnly(e.target.checked)} />
          <span>Needs review only</span>
        </label>
        <span className="spacer" />
        <button className="button primary" type="button" onClick={() => void replayAll()} disabled={replay.isPending || items.length === 0}>
          {replay.isPending ? 'Replaying…' : 'Replay all matching'}
        </button>
      </div>
      {result && (
        <p className="ok" role="status" data-testid="replay-result">
          {result}
        </p>
      )}
      {(replay.isError || dismiss.isError) && (
        <p className="error" role="alert">
          {errorMessage(replay.error ?? dismiss.error)}
        </p>
      )}
      {list.isError && (
        <p className="error" role="alert">
          {errorMessage(list.error)}
        </p>
      )}
      <div className="card table-wrap">
        <table className="table refused-table" aria-label="Refused webhooks">
          <thead>
            <tr>
              <th scope="col">Received</th>
              <th scope="col">Provider</th>
              <th scope="col">Path</th>
              <th scope="col">Outcome</th>
              <th scope="col">Reason</th>
              <th scope="col">Signature</th>
              <th scope="col">Replay</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <Row
                key={item.id}
                item={item}
                onOpen={() => setOpen(item.id)}
                onReplay={() => replay.mutate([item.id])}
                busy={replay.isPending}
              />
            ))}
            {list.isSuccess && items.length === 0 && (
              <tr>
                <td colSpan={8} className="muted">
                  {pendingOnly ? 'Nothing needs review.' : 'Nothing was refused.'}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <Pager pages={pages} nextCursor={list.data?.nextCursor != null ? String(list.data.nextCursor) : null} busy={list.isFetching} />
      {open !== null && (
        <RawDialog
          id={open}
          onClose={() => setOpen(null)}
          onReplay={() => replay.mutate([open])}
          onDismiss={() => dismiss.mutate({ ids: [open] })}
          busy={replay.isPending || dismiss.isPending}
        />
      )}
    </div>
  );
}

function Row({ item, onOpen, onReplay, busy }: { item: Item; onOpen: () => void; onReplay: () => void; busy: boolean }) {
  return (
    <tr data-webhook-log-id={item.id} data-needs-review={item.needsReview ? 'true' : 'false'}>
      <td title={item.receivedAt}>{formatListTime(item.receivedAt)}</td>
      <td>{item.provider ? PROVIDER_LABELS[item.provider] : '—'}</td>
      <td>
        <code>{item.path}</code>
      </td>
      <td>
        {item.outcome} <span className="muted small">({item.httpStatus})</span>
        {item.dismissedAt && <span className="tag">dismissed</span>}
      </td>
      <td className="reason-cell">{item.reason ?? '—'}</td>
      <td>{item.signatureOk ? 'verified' : <span className="warn-text">not verified</span>}</td>
      <td>
        {item.replayOutcome ? (
          <span title={item.replayReason ?? undefined}>
            {item.replayOutcome}
            {item.replayedAt && <span className="muted small"> · {formatListTime(item.replayedAt)}</span>}
          </span>
        ) : (
          <span className="muted">never</span>
        )}
      </td>
      <td className="actions">
        <button className="button ghost" type="button" data-view-webhook={item.id} onClick={onOpen}>
          View<span className="visually-hidden"> webhook {item.id}</span>
        </button>
        <button className="button" type="button" onClick={onReplay} disabled={busy}>
          Replay<span className="visually-hidden"> webhook {item.id}</span>
        </button>
      </td>
    </tr>
  );
}

/** One entry raw: headers as kept (credentials and signatures redacted) and the body, in a modal dialog. */
function RawDialog({
  id,
  onClose,
  onReplay,
  onDismiss,
  busy,
}: {
  id: number;
  onClose: () => void;
  onReplay: () => void;
  onDismiss: () => void;
  busy: boolean;
}) {
  const dialog = useRef<HTMLDivElement>(null);
  // The list re-renders with every poll: find this row's View button again if the one that opened us is gone.
  useDialogFocus(dialog, onClose, { returnFocus: () => document.querySelector<HTMLElement>(`[data-view-webhook="${id}"]`) });
  const entry = useQuery(trpc.webhookLog.get.queryOptions({ id }));
  const e = entry.data;
  return (
    <div className="sheet-backdrop" onClick={onClose}>
      <div
        ref={dialog}
        className="sheet raw-webhook-sheet"
        role="dialog"
        aria-modal="true"
        aria-labelledby="raw-webhook-title"
        onClick={(ev) => ev.stopPropagation()}
      >
        <h2 id="raw-webhook-title">Webhook {id}</h2>
        {entry.isError && (
          <p className="error" role="alert">
            {errorMessage(entry.error)}
          </p>
        )}
        {e && (
          <>
            <p className="muted small">
              {e.provider ? PROVIDER_LABELS[e.provider] : 'Unknown provider'} · POST <code>{e.path}</code> ·{' '}
              {new Date(e.receivedAt).toLocaleString()} · answered {e.httpStatus} {e.outcome}
              {e.reason && <> — {e.reason}</>}
            </p>
            {e.replayOutcome && (
              <p className="small">
                Last replay: <strong>{e.replayOutcome}</strong>
                {e.replayReason && <> — {e.replayReason}</>}
              </p>
            )}
            <h3>Headers</h3>
            <pre className="raw-block" tabIndex={0} aria-label="Headers">
              {JSON.stringify(e.headers, null, 2)}
            </pre>
            <h3>
              Body{' '}
              {e.bodyBytes !== null && (
                <span className="muted small">
                  ({e.bodyBytes} bytes{e.bodyComplete ? '' : ', only an excerpt kept: cannot be replayed'})
                </span>
              )}
            </h3>
            <pre className="raw-block" tabIndex={0} aria-label="Body">
              {e.rawBody}
            </pre>
          </>
        )}
        <div className="sheet-actions">
          <button className="button primary" type="button" onClick={onReplay} disabled={busy || !e}>
            Replay
          </button>
          {e?.needsReview && (
            <button className="button" type="button" onClick={onDismiss} disabled={busy}>
              Dismiss
            </button>
          )}
          <span className="spacer" />
          <button className="button ghost" type="button" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
