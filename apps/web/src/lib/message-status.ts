import type { MessageDto, MessageStatus } from '@parley/shared/dto';

export type StatusTone = 'pending' | 'ok' | 'failed';

const LABELS: Record<MessageStatus, { label: string; tone: StatusTone }> = {
  scheduled: { label: 'Scheduled', tone: 'pending' },
  queued: { label: 'Queued', tone: 'pending' },
  submitted: { label: 'Sent', tone: 'pending' },
  delivered: { label: 'Delivered', tone: 'ok' },
  read: { label: 'Read', tone: 'ok' },
  rejected: { label: 'Rejected', tone: 'failed' },
  undeliverable: { label: 'Undeliverable', tone: 'failed' },
  failed: { label: 'Failed', tone: 'failed' },
  interrupted: { label: 'Interrupted', tone: 'failed' },
  received: { label: 'Received', tone: 'ok' },
};

export function statusLabel(status: MessageStatus): { label: string; tone: StatusTone } {
  return LABELS[status];
}

/** Why a message failed, in words: the provider's reason, its detail and code when there are any. */
export function failureReason(message: Pick<MessageDto, 'errorCode' | 'errorReason' | 'errorDetail'>): string {
  const parts = [message.errorReason, message.errorDetail].filter((part): part is string => Boolean(part));
  const unique = parts.filter((part, index) => parts.indexOf(part) === index);
  const text = unique.join(' — ') || 'No reason given';
  return message.errorCode && !text.includes(message.errorCode) ? `${text} (error ${message.errorCode})` : text;
}

/**
 * Whether Parley knows the message never reached the handset (the server decides; this only hides
 * the button where it would refuse): rejected, or failed before the provider accepted it.
 */
export function canOfferRetry(message: Pick<MessageDto, 'direction' | 'status' | 'providerMessageId' | 'errorCode'>): boolean {
  if (message.direction !== 'out' || message.errorCode === 'CANCELLED' || message.errorCode === 'OPTED_OUT') return false;
  return message.status === 'rejected' || (message.status === 'failed' && message.providerMessageId === null);
}
