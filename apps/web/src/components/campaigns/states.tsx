import type { CampaignRecipientState } from '@parley/shared/campaign';

/** Recipient states in words (a local copy of the contract's list keeps zod out of this chunk). */
export const RECIPIENT_STATE_LABELS: Record<CampaignRecipientState, string> = {
  pending: 'Pending',
  held: 'Held (quiet hours)',
  queued: 'Queued',
  submitted: 'Sent',
  delivered: 'Delivered',
  failed: 'Failed',
  interrupted: 'Interrupted',
  skipped: 'Opted out',
  invalid: 'Invalid',
  duplicate: 'Duplicate',
  cancelled: 'Cancelled',
};

export const RECIPIENT_STATES = Object.keys(RECIPIENT_STATE_LABELS) as CampaignRecipientState[];

export type StateTone = 'ok' | 'pending' | 'failed' | 'muted';

export function stateTone(state: CampaignRecipientState): StateTone {
  switch (state) {
    case 'delivered':
      return 'ok';
    case 'pending':
    case 'held':
    case 'queued':
    case 'submitted':
      return 'pending';
    case 'failed':
    case 'interrupted':
    case 'invalid':
      return 'failed';
    case 'skipped':
    case 'duplicate':
    case 'cancelled':
      return 'muted';
  }
}

export function RecipientState({ state }: { state: CampaignRecipientState }) {
  return (
    <span className={`state state-${stateTone(state)}`} data-state={state}>
      {RECIPIENT_STATE_LABELS[state]}
    </span>
  );
}
