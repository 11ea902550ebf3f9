import { useQuery } from '@tanstack/react-query';
import { paths } from '../lib/navigation';
import { trpc } from '../trpc';
import { Link } from './link';

/** Admins only: refused provider webhooks still needing review (re-checked every 30 s), with a link to review them. */
export function RefusedWebhooksBanner() {
  const summary = useQuery({ ...trpc.webhookLog.summary.queryOptions(), refetchInterval: 30_000, staleTime: 10_000 });
  const n = summary.data?.needsReview ?? 0;
  if (n === 0) return null;
  return (
    <div className="review-banner" role="status" data-testid="refused-webhooks-banner">
      <span aria-hidden="true">⚠</span>
      <span>
        {n} refused webhook{n === 1 ? '' : 's'} need{n === 1 ? 's' : ''} review: messages or delivery reports may be missing.
      </span>
      <Link to={paths.refusedWebhooks}>Review refused webhooks</Link>
    </div>
  );
}
