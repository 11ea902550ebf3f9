import { useEffect, useRef, useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { CampaignDto, CampaignRecipientState } from '@parley/shared/campaign';
import { errorMessage } from '../../lib/errors';
import { paths } from '../../lib/navigation';
import { useCursorPages } from '../../lib/use-cursor-pages';
import { queryClient, trpc } from '../../trpc';
import { Link } from '../link';
import { Pager } from '../pager';
import { RECIPIENT_STATES, RECIPIENT_STATE_LABELS, RecipientState } from './states';

const PAGE = 50;
/** While a campaign sends, the report refetches at most this often (its rows change state). */
const REFRESH_MS = 1_000;

/** Every row of the campaign, in CSV order: state, reason, and a link to the conversation it went to. */
export function RecipientReport({ campaign }: { campaign: CampaignDto }) {
  const [state, setState] = useState<CampaignRecipientState | ''>('');
  const pages = useCursorPages(state);
  const input = { id: campaign.id, limit: PAGE, ...(state ? { state } : {}), ...(pages.cursor ? { cursor: pages.cursor } : {}) };
  const report = useQuery({ ...trpc.campaign.recipients.queryOptions(input), placeholderData: keepPreviousData });
  useRefreshOnProgress(campaign);

  const rows = report.data?.items ?? [];

  return (
    <section className="card recipient-report" aria-labelledby="report-title">
      <div className="section-head">
        <h2 id="report-title">Recipients</h2>
        <span className="spacer" />
        <label className="inline-field" htmlFor="report-state">
          <span>Show</span>
          <select
            id="report-state"
            className="select"
            value={state}
            onChange={(e) => setState(e.target.value as CampaignRecipientState | '')}
          >
            <option value="">All ({campaign.counts.total})</option>
            {RECIPIENT_STATES.map((s) => (
              <option key={s} value={s}>
                {RECIPIENT_STATE_LABELS[s]} ({campaign.counts[s]})
              </option>
            ))}
          </select>
        </label>
      </div>
      {report.isError && (
        <p className="error" role="alert">
          {errorMessage(report.error)}
        </p>
      )}
      {report.isError && !report.data ? null : report.isPending ? (
        <p className="muted">Loading recipients…</p>
      ) : rows.length === 0 ? (
        <p className="muted">{state ? `No recipient is ${RECIPIENT_STATE_LABELS[state].toLowerCase()}.` : 'No recipients.'}</p>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="recipient-report" aria-busy={report.isFetching}>
            <thead>
              <tr>
                <th scope="col">Line</th>
                <th scope="col">Recipient</th>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Why</th>
                <th scope="col">
                  <span className="visually-hidden">Conversation</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.id} data-recipient={row.phone ?? row.input}>
                  <td className="num">{row.line}</td>
                  <td className="mono">{row.phone ?? row.input}</td>
                  <td>{row.name ?? ''}</td>
                  <td>
                    <RecipientState state={row.state} />
                  </td>
                  <td className="reason">{row.reason ?? ''}</td>
                  <td className="actions">
                    {row.conversationId !== null && (
                      <Link to={paths.conversation(row.conversationId)} aria-label={`Open the conversation with ${row.phone ?? row.input}`}>
                        Conversation →
                      </Link>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager pages={pages} nextCursor={report.data?.nextCursor} busy={report.isFetching} />
    </section>
  );
}

/** Live progress moves rows between states: refetch the report on a counts change, at most once a second. */
function useRefreshOnProgress(campaign: CampaignDto): void {
  const signature = `${campaign.status}:${JSON.stringify(campaign.counts)}`;
  const seen = useRef(signature);
  const lastRun = useRef(0);
  const id = campaign.id;
  useEffect(() => {
    if (seen.current === signature) return;
    const wait = Math.max(0, lastRun.current + REFRESH_MS - Date.now());
    const timer = setTimeout(() => {
      seen.current = signature;
      lastRun.current = Date.now();
      void queryClient.invalidateQueries(trpc.campaign.recipients.queryFilter({ id }));
    }, wait);
    return () => clearTimeout(timer);
  }, [signature, id]);
}
