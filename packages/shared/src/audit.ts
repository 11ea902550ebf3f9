/**
 * The audit log's vocabulary (zod-free: the web bundle imports it by value). Every admin action and
 * every change to a contact's consent made by a person is recorded with one of these actions.
 */
export const AUDIT_ACTIONS = [
  'agent.invited',
  'agent.disabled',
  'agent.enabled',
  'agent.role_changed',
  'token.created',
  'token.revoked',
  'settings.updated',
  'contact.exported',
  'contact.erased',
  'contact.opted_out',
  'contact.opted_in',
  'conversation.opt_out_dismissed',
  'consent.exported',
  'campaign.created',
  'campaign.paused',
  'campaign.resumed',
  'campaign.cancelled',
  'campaign.quiet_hours_overridden',
  'webhook_endpoint.created',
  'webhook_endpoint.updated',
  'webhook_endpoint.deleted',
  'webhook_endpoint.secret_rotated',
  'webhook_endpoint.disabled',
  'webhook_endpoint.replayed',
  'webhook_log.replayed',
  'webhook_log.dismissed',
  'audit.exported',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who did it: an agent over a session or an API token, or Parley itself (a job, an automatic rule). */
export type AuditVia = 'session' | 'token' | 'system';

export interface AuditEntryDto {
  id: number;
  at: string;
  /** null when Parley itself acted (via 'system'). */
  agentId: number | null;
  agentName: string | null;
  via: AuditVia;
  action: AuditAction;
  /** What it acted on, e.g. { type: 'contact', id: '42' }; null when nothing in particular. */
  targetType: string | null;
  targetId: string | null;
  /** Action-specific facts (never secrets, never message text of an erased contact). */
  detail: Record<string, unknown> | null;
}
