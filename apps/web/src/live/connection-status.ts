import { useSyncExternalStore } from 'react';

/** What the header shows: events flowing, trying to get them back, or no network at all. */
export type ConnectionStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';

let status: ConnectionStatus = 'connecting';
const listeners = new Set<() => void>();

export function setConnectionStatus(next: ConnectionStatus): void {
  if (next === status) return;
  status = next;
  for (const listener of listeners) listener();
}

export function getConnectionStatus(): ConnectionStatus {
  return status;
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useConnectionStatus(): ConnectionStatus {
  return useSyncExternalStore(subscribe, getConnectionStatus, getConnectionStatus);
}
