import type { CampaignCounts, CampaignDto, CampaignStatus } from '@parley/shared/campaign';

export type ProgressPart = 'delivered' | 'submitted' | 'failed' | 'skipped' | 'cancelled' | 'pending';

export interface Progress {
  /** Rows that will be (or were) sent or skipped: everything but invalid and duplicate rows. */
  total: number;
  /** Of those, no longer waiting for their turn (sent, delivered, failed, skipped, cancelled). */
  processed: number;
  /** 0–100, rounded down so 100 means every row is processed. */
  percent: number;
  parts: { part: ProgressPart; label: string; count: number }[];
}

const LABELS: Record<ProgressPart, string> = {
  delivered: 'Delivered',
  submitted: 'Sent',
  failed: 'Failed',
  skipped: 'Opted out',
  cancelled: 'Cancelled',
  pending: 'Pending',
};

/** The bar's shares from a campaign's counts. Interrupted sends count as failed; queued as pending. */
export function progressOf(counts: CampaignCounts): Progress {
  const count: Record<ProgressPart, number> = {
    delivered: counts.delivered,
    submitted: counts.submitted,
    failed: counts.failed + counts.interrupted,
    skipped: counts.skipped,
    cancelled: counts.cancelled,
    pending: counts.pending + counts.held + counts.queued,
  };
  const parts = (Object.keys(LABELS) as ProgressPart[]).map((part) => ({ part, label: LABELS[part], count: count[part] }));
  const total = parts.reduce((sum, p) => sum + p.count, 0);
  const processed = total - count.pending;
  const percent = total === 0 ? 0 : Math.floor((processed / total) * 100);
  return { total, processed, percent, parts };
}

const STATUS_LABELS: Record<CampaignStatus, string> = {
  running: 'Sending',
  paused: 'Paused',
  done: 'Done',
  cancelled: 'Cancelled',
};

export function CampaignStatusTag({ status }: { status: CampaignStatus }) {
  return (
    <span className={`tag campaign-status campaign-status-${status}`} data-status={status}>
      {STATUS_LABELS[status]}
    </span>
  );
}

const number = new Intl.NumberFormat();
export const formatCount = (n: number) => number.format(n);

/** A stacked bar (delivered, sent, failed, opted out, cancelled, pending) with its legend. */
export function CampaignProgress({ campaign, compact = false }: { campaign: Pick<CampaignDto, 'counts' | 'status'>; compact?: boolean }) {
  const progress = progressOf(campaign.counts);
  const { total, processed, percent } = progress;
  const summary = `${formatCount(processed)} of ${formatCount(total)} processed (${percent}%)`;
  return (
    <div className={`campaign-progress${compact ? ' compact' : ''}`}>
      <div
        className="progress"
        role="progressbar"
        aria-label="Campaign progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        aria-valuetext={summary}
        data-status={campaign.status}
        data-testid="campaign-progress"
      >
        {total > 0 &&
          progress.parts.map(({ part, count, label }) =>
            count === 0 ? null : (
              <span
                key={part}
                className={`progress-part part-${part}`}
                data-part={part}
                style={{ width: `${(count / total) * 100}%` }}
                title={`${label}: ${formatCount(count)}`}
              />
            ),
          )}
      </div>
      {compact ? (
        <span className="small muted">{summary}</span>
      ) : (
        <>
          <p className="progress-summary" data-testid="campaign-progress-summary">
            {summary}
          </p>
          <ul className="progress-legend" aria-label="Counts">
            {progress.parts.map(({ part, label, count }) => (
              <li key={part} data-part={part}>
                <span className={`legend-swatch part-${part}`} aria-hidden="true" />
                <span>{label}</span>
                <strong data-testid={`count-${part}`}>{formatCount(count)}</strong>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
