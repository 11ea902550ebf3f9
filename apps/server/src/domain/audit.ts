/**
 * The audit log: one append per admin action, written in the same transaction as the action (so an
 * action that rolls back leaves no entry, and no entry exists without its action). There is no
 * update or delete here on purpose: the log is append-only.
 */
import type { AuditAction, AuditVia } from '@parley/shared';
import { auditLog } from '../db/tables';
import type { Tx } from '../events/log';

export interface AuditActor {
  agentId: number | null;
  via: AuditVia;
}

/** Parley itself (a job or an automatic rule). */
export const SYSTEM_ACTOR: AuditActor = { agentId: null, via: 'system' };

export interface AuditRecord {
  actor: AuditActor;
  action: AuditAction;
  target?: { type: string; id: string | number } | null;
  detail?: Record<string, unknown> | null;
  now?: number;
}

export async function recordAudit(tx: Tx, entry: AuditRecord): Promise<void> {
  await tx.insert(auditLog).values({
    at: entry.now ?? Date.now(),
    agentId: entry.actor.agentId,
    via: entry.actor.via,
    action: entry.action,
    targetType: entry.target?.type ?? null,
    targetId: entry.target ? String(entry.target.id) : null,
    detail: entry.detail ? JSON.stringify(entry.detail) : null,
  });
}
