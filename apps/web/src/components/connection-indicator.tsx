import { useConnectionStatus, type ConnectionStatus } from '../live/connection-status';

const LABELS: Record<ConnectionStatus, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

export function ConnectionIndicator() {
  const status = useConnectionStatus();
  return (
    <span className={`connection connection-${status}`} role="status" aria-live="polite" data-status={status}>
      <span className="connection-dot" aria-hidden="true" />
      {LABELS[status]}
    </span>
  );
}
