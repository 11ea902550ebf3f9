import { useInfiniteQuery } from '@tanstack/react-query';
import type { RouterOutputs } from '@parley/server';
import { CampaignForm } from '../components/campaigns/campaign-form';
import { CampaignProgress, CampaignStatusTag, formatCount } from '../components/campaigns/campaign-progress';
import { Link } from '../components/link';
import { errorMessage } from '../lib/errors';
import { formatListTime } from '../lib/format';
import { navigate, paths } from '../lib/navigation';
import { CAMPAIGN_ADMIN_HINT } from '../lib/roles';
import { trpc } from '../trpc';

const PAGE = 50;

type Agent = RouterOutputs['auth']['me'];

/** Every campaign, newest first, each with its status and progress (kept live by campaign.progress). */
export function CampaignsPage({ me }: { me: Agent }) {
  const admin = me.role === 'admin';
  const list = useInfiniteQuery(
    trpc.campaign.list.infiniteQueryOptions({ limit: PAGE }, { getNextPageParam: (page) => page.nextCursor ?? undefined }),
  );
  const campaigns = list.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <div className="page-body">
      <div className="page-head">
        <h1>Campaigns</h1>
        <span className="spacer" />
        {admin ? (
          <Link to={paths.newCampaign} className="button primary">
            <span aria-hidden="true">+</span> New campaign
          </Link>
        ) : (
          <span className="muted small">{CAMPAIGN_ADMIN_HINT}</span>
        )}
      </div>
      {list.isPending ? (
        <p className="muted">Loading campaigns…</p>
      ) : list.isError ? (
        <p className="error" role="alert">
          {errorMessage(list.error)}
        </p>
      ) : campaigns.length === 0 ? (
        <div className="empty-state card">
          <h2>No campaigns yet</h2>
          <p className="muted">Send one text to a list of numbers from a CSV: each reply lands in the inbox.</p>
          {admin && (
            <p>
              <Link to={paths.newCampaign} className="button primary">
                New campaign
              </Link>
            </p>
          )}
        </div>
      ) : (
        <ul className="campaign-list" aria-label="Campaigns">
          {campaigns.map((campaign) => (
            <li key={campaign.id} className="campaign-card card" data-campaign-id={campaign.id}>
              <div className="campaign-card-head">
                <Link to={paths.campaign(campaign.id)} className="campaign-name">
                  {campaign.name}
                </Link>
                <CampaignStatusTag status={campaign.status} />
                <span className="spacer" />
                <span className="muted small" title={new Date(campaign.createdAt).toLocaleString()}>
                  {formatListTime(campaign.createdAt)}
                </span>
              </div>
              <p className="campaign-text muted small">{campaign.text}</p>
              <CampaignProgress campaign={campaign} compact />
              <p className="small muted campaign-card-counts">
                {formatCount(campaign.counts.delivered)} delivered · {formatCount(campaign.counts.failed + campaign.counts.interrupted)}{' '}
                failed · {formatCount(campaign.counts.skipped)} opted out
                {campaign.counts.invalid + campaign.counts.duplicate > 0 &&
                  ` · ${formatCount(campaign.counts.invalid + campaign.counts.duplicate)} invalid or duplicate`}
              </p>
            </li>
          ))}
        </ul>
      )}
      {list.hasNextPage && (
        <button className="button load-more" type="button" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
          {list.isFetchingNextPage ? 'Loading…' : 'Show older campaigns'}
        </button>
      )}
    </div>
  );
}

export function NewCampaignPage({ me }: { me: Agent }) {
  return (
    <div className="page-body narrow">
      <p className="breadcrumb">
        <Link to={paths.campaigns}>← Campaigns</Link>
      </p>
      {me.role === 'admin' ? (
        <CampaignForm onCreated={(campaign) => navigate(paths.campaign(campaign.id), { replace: true })} />
      ) : (
        <p className="muted">{CAMPAIGN_ADMIN_HINT}.</p>
      )}
    </div>
  );
}
