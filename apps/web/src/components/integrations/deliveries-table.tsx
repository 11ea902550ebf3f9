import { useQuery } from '@tanstack/react-query';
import { trpc } from '../../trpc';

/** An endpoint's last 20 delivery attempts (polled): event, attempt, outcome, status code, latency, the receiver's answer. */
export function DeliveriesTable({ endpoint }: { endpoint: { id: number; url: string } }) {
  const deliveries = useQuery({ ...trpc.webhookEndpoint.deliveries.queryOptions({ id: endpoint.id }), refetchInterval: 3000 });
  return (
    <div className="table-wrap">
      <table className="table" aria-label={`Recent deliveries to ${endpoint.url}`}>
        <thead>
          <tr>
            <th>Time</th>
            <th>Event</th>
            <th>Attempt</th>
            <th>Status</th>
            <th>Code</th>
            <th>Latency</th>
            <th>Answer</th>
          </tr>
        </thead>
        <tbody>
          {(deliveries.data?.items ?? []).slice(0, 20).map((d) => (
            <tr key={d.id} data-testid="delivery-row">
              <td>{new Date(d.at).toLocaleTimeString()}</td>
              <td>
                <code>{d.eventId === null ? d.webhookId.slice(0, 13) : `#${d.eventId}`}</code> {d.eventType}
              </td>
              <td>{d.attempt}</td>
              <td className={d.status === 'succeeded' ? 'ok' : 'error'}>{d.status}</td>
              <td>{d.responseStatus ?? '–'}</td>
              <td>{d.latencyMs} ms</td>
              <td className="excerpt">
                <code>{d.error && d.responseStatus === null ? d.error : (d.responseExcerpt ?? '').slice(0, 120)}</code>
              </td>
            </tr>
          ))}
          {deliveries.data?.items.length === 0 && (
            <tr>
              <td colSpan={7} className="muted">
                No deliveries yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
