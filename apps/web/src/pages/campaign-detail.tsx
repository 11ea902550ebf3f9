import { useRef, useState } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import type { RouterOutputs } from '@parley/server';
import type { CampaignDto } from '@parley/shared/campaign';
import { CampaignProgress, CampaignStatusTag, formatCount } from '../components/campaigns/campaign-progress';
import { RecipientReport } from '../components/campaigns/recipient-report';
import { Link } from '../components/link';
import { upsertCampaign } from '../live/apply-event';
import { errorMessage } from '../lib/errors';
import { paths } from '../lib/navigation';
import { CAMPAIGN_ADMIN_HINT } from '../lib/roles';
import { useDialogFocus } from '../lib/use-dialog-focus';
import { queryClient, trpc } from '../trpc';

const dateTime = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });

/** One campaign: live progress and counts, pause/resume/cancel, and the per-recipient report. */
export function CampaignDetailPage({ id, me }: { id: number; me: RouterOutputs['auth']['me'] }) {
  const campaign = useQuery(trpc.campaign.get.queryOptions({ id }));

  return (
    <div className="page-body">
      <p className="breadcrumb">
        <Link to={paths.campaigns}>← Campaigns</Link>
      </p>
      {campaign.isPending ? (
        <p className="muted">Loading the campaign…</p>
      ) : campaign.isError ? (
        <div className="card">
          <p className="error" role="alert">
            {errorMessage(campaign.error)}
          </p>
        </div>
      ) : (
        <CampaignDetail campaign={campaign.data} admin={me.role === 'admin'} />
      )}
    </div>
  );
}

function CampaignDetail({ campaign, admin }: { campaign: CampaignDto; admin: boolean }) {
  const { counts } = campaign;
  const notSent = counts.invalid + counts.duplicate;
  return (
    <>
      <section className="card campaign-summary" aria-labelledby="campaign-title">
        <div className="section-head">
          <h1 id="campaign-title">{campaign.name}</h1>
          <CampaignStatusTag status={campaign.status} />
          <span className="spacer" />
          {admin ? <CampaignActions campaign={campaign} /> : <span className="muted small">{CAMPAIGN_ADMIN_HINT}</span>}
        </div>
        <p className="muted small campaign-meta">
          From {campaign.ourNumber} · {campaign.encoding === 'ucs2' ? 'Unicode' : 'GSM-7'} · {campaign.segments}{' '}
          {campaign.segments === 1 ? 'segment' : 'segments'} · created {dateTime.format(new Date(campaign.createdAt))}
          {campaign.finishedAt && ` · finished ${dateTime.format(new Date(campaign.finishedAt))}`}
        </p>
        <blockquote className="campaign-message">{campaign.text}</blockquote>
        <CampaignProgress campaign={campaign} />
        <p className="muted small">
          {formatCount(counts.total)} rows
          {notSent > 0 && ` · not sent: ${formatCount(counts.invalid)} invalid, ${formatCount(counts.duplicate)} duplicate`}
        </p>
        {counts.held > 0 && (
          <p className="muted small" data-testid="held-count">
            {formatCount(counts.held)} held for quiet hours: each goes out when the window opens in their time zone (see the report below)
          </p>
        )}
        {!campaign.quietHours && <p className="muted small">Quiet hours are off for this campaign (an admin's choice).</p>}
      </section>
      <RecipientReport campaign={campaign} />
    </>
  );
}

function CampaignActions({ campaign }: { campaign: CampaignDto }) {
  const [confirming, setConfirming] = useState(false);
  const opener = useRef<HTMLButtonElement>(null);
  const onSuccess = (updated: CampaignDto) => {
    setConfirming(false);
    upsertCampaign(queryClient, updated);
  };
  const pause = useMutation(trpc.campaign.pause.mutationOptions({ onSuccess }));
  const resume = useMutation(trpc.campaign.resume.mutationOptions({ onSuccess }));
  const cancel = useMutation(trpc.campaign.cancel.mutationOptions({ onSuccess }));
  const busy = pause.isPending || resume.isPending || cancel.isPending;
  const error = pause.error ?? resume.error ?? cancel.error;
  const open = campaign.status === 'running' || campaign.status === 'paused';
  const left = campaign.counts.pending + campaign.counts.held + campaign.counts.queued;

  if (!open) return null;
  return (
    <div className="campaign-actions">
      {campaign.status === 'running' ? (
        <button className="button" type="button" onClick={() => pause.mutate({ id: campaign.id })} disabled={busy}>
          Pause
        </button>
      ) : (
        <button className="button primary" type="button" onClick={() => resume.mutate({ id: campaign.id })} disabled={busy}>
          Resume
        </button>
      )}
      {/* Hidden, not removed, while confirming: focus comes back to it when the question closes. */}
      <button ref={opener} className="button danger" type="button" onClick={() => setConfirming(true)} disabled={busy} hidden={confirming}>
        Cancel…
      </button>
      {confirming && (
        <CancelConfirm
          left={left}
          busy={busy}
          onKeep={() => setConfirming(false)}
          onCancel={() => cancel.mutate({ id: campaign.id })}
          returnFocus={() => opener.current}
        />
      )}
      {error && (
        <p className="error campaign-action-error" role="alert">
          {errorMessage(error)}
        </p>
      )}
    </div>
  );
}

/** "Cancel the campaign?": focus starts on the safe answer and stays in the question; Escape keeps it. */
function CancelConfirm({
  left,
  busy,
  onKeep,
  onCancel,
  returnFocus,
}: {
  left: number;
  busy: boolean;
  onKeep: () => void;
  onCancel: () => void;
  returnFocus: () => HTMLElement | null;
}) {
  const box = useRef<HTMLDivElement>(null);
  useDialogFocus(box, onKeep, { initialFocus: '[data-keep]', returnFocus });
  return (
    <div ref={box} className="confirm" role="alertdialog" aria-labelledby="cancel-question">
      <span id="cancel-question">
        Cancel the campaign? {formatCount(left)} {left === 1 ? 'message' : 'messages'} not sent yet will not be sent.
      </span>
      <button className="button" type="button" onClick={onKeep} disabled={busy} data-keep>
        Keep it
      </button>
      <button className="button danger-solid" type="button" onClick={onCancel} disabled={busy}>
        Cancel campaign
      </button>
    </div>
  );
}
