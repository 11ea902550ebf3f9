import type { MessageStatus } from '@parley/shared';

/** Failure states: final. The first final state a message reaches is the one it keeps. */
const FAILURES = new Set<string>(['rejected', 'undeliverable', 'failed']);

/**
 * Progress order for outbound messages. `interrupted` (sent or not, unknown) sits with `queued`:
 * any provider status settles it.
 */
const RANK: Record<string, number> = {
  queued: 0,
  interrupted: 0,
  submitted: 1,
  delivered: 2,
  read: 3,
};

export function isFinalStatus(status: string): boolean {
  return FAILURES.has(status) || status === 'delivered' || status === 'read';
}

export function isFailureStatus(status: string): boolean {
  return FAILURES.has(status);
}

/** Vonage statuses Parley tracks; anything else is kept in history only. */
export function isKnownProviderStatus(status: string): status is MessageStatus {
  return status in RANK || FAILURES.has(status);
}

/**
 * Whether a message in `current` may move to `next`. Statuses only go forward:
 * submitted < delivered < read; failures are final; after delivered only read may follow.
 */
export function canTransition(current: string, next: string): boolean {
  if (current === next) return false;
  if (!isKnownProviderStatus(next) || next === 'queued' || next === 'interrupted') return false;
  if (FAILURES.has(current)) return false;
  if (current === 'delivered' || current === 'read') return next === 'read' && current === 'delivered';
  if (FAILURES.has(next)) return true;
  const from = RANK[current];
  const to = RANK[next];
  return from !== undefined && to !== undefined && to > from;
}
