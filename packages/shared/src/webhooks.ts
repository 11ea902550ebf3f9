/**
 * Outbound webhooks (zod-free: the web bundle imports it by value). Parley posts the events of its
 * event log to the endpoints an admin registers, signed per the Standard Webhooks specification.
 */

/** The event types an endpoint may ask for (every type of the event log). */
export const WEBHOOK_EVENT_TYPES = [
  'message.created',
  'message.status',
  'conversation.updated',
  'contact.updated',
  'campaign.progress',
  'note.created',
  'settings.updated',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The type of the payload `webhookEndpoint.sendTest` posts (never in the event log). */
export const WEBHOOK_TEST_EVENT_TYPE = 'webhook.test';

/** At most this many endpoints (each has its own delivery loop and at most one request in flight). */
export const MAX_WEBHOOK_ENDPOINTS = 20;

export interface WebhookEndpointDto {
  id: number;
  url: string;
  events: WebhookEventType[];
  description: string;
  enabled: boolean;
  /** Why it is disabled (after repeated failures, or by an admin); null while enabled. */
  disabledReason: string | null;
  /** The last event id delivered (or passed over as not wanted): delivery resumes after it. */
  lastEventId: number;
  /** Failed attempts at the event after `lastEventId` so far (0 when nothing is failing). */
  failures: number;
  /** When the next attempt is due after a failure (ISO), or null. */
  nextAttemptAt: string | null;
  /** Until when the previous secret still signs too (after a rotation), or null. */
  previousSecretUntil: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookDeliveryDto {
  id: number;
  endpointId: number;
  /** The event delivered (null for a test event). */
  eventId: number | null;
  /** The `webhook-id` header: the event id, or `test_…` for a test event. */
  webhookId: string;
  eventType: string;
  /** 1 for the first try of this event, 2 for its first retry, … */
  attempt: number;
  status: 'succeeded' | 'failed';
  /** The receiver's HTTP status, or null when there was no answer (refused, timeout, connection error). */
  responseStatus: number | null;
  /** The first bytes of the receiver's answer. */
  responseExcerpt: string | null;
  /** What went wrong when there was no 2xx answer. */
  error: string | null;
  latencyMs: number;
  at: string;
}
