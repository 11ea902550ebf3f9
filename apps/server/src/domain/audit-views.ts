/**
 * Reading the audit log (admins): newest first, keyset-paged by id, optionally one action; and the
 * CSV export, which is itself recorded (audit.exported) in the transaction that reads it.
 */
import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import { stringify } from 'csv-stringify/sync';
import type { AuditAction, AuditEntryDto, AuditVia } from '@parley/shared';
import type { Db } from '../db/client';
import { agents, auditLog } from '../db/tables';
import { recordAudit, type AuditActor } from './audit';
import { decodeIdCursor, encodeIdCursor } from './campaign-views';
import { runTx } from '../db/store';

export const AUDIT_PAGE = 50;
/** The most rows one CSV export holds (newest first); the file says when it was cut. */
export const AUDIT_EXPORT_MAX = 100_000;

type Row = { e: typeof auditLog.$inferSelect; agentName: string | null };

function toDto({ e, agentName }: Row): AuditEntryDto {
  let detail: Record<string, unknown> | null = null;
  if (e.detail !== null) {
    try {
      const parsed: unknown = JSON.parse(e.detail);
      detail =
        typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { value: parsed };
    } catch {
      detail = { unreadable: e.detail };
    }
  }
  return {
    id: e.id,
    at: new Date(e.at).toISOString(),
    agentId: e.agentId,
    agentName,
    via: e.via as AuditVia,
    action: e.action as AuditAction,
    targetType: e.targetType,
    targetId: e.targetId,
    detail,
  };
}

async function select(db: Db, where: (SQL | undefined)[], limit: number): Promise<Row[]> {
  return await db
    .select({ e: auditLog, agentName: agents.name })
    .from(auditLog)
    .leftJoin(agents, eq(agents.id, auditLog.agentId))
    .where(and(...where))
    .orderBy(desc(auditLog.id))
    .limit(limit);
}

export async function listAudit(opts: {
  db: Db;
  cursor?: string | null | undefined;
  action?: AuditAction | undefined;
  limit?: number | undefined;
}): Promise<{
  items: AuditEntryDto[];
  nextCursor: string | null;
}> {
  const limit = Math.min(Math.max(Math.trunc(opts.limit ?? AUDIT_PAGE), 1), 200);
  const where = [
    opts.action ? eq(auditLog.action, opts.action) : undefined,
    opts.cursor ? lt(auditLog.id, decodeIdCursor(opts.cursor)) : undefined,
  ];
  const rows = await select(opts.db, where, limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(toDto), nextCursor: rows.length > limit && last ? encodeIdCursor(last.e.id) : null };
}

/** CSV of the log (one action or all), newest first; the export is recorded as `audit.exported` in the same transaction. */
export async function exportAudit(opts: { db: Db; action?: AuditAction | undefined; actor: AuditActor; now?: number }): Promise<{
  filename: string;
  csv: string;
  count: number;
}> {
  const now = opts.now ?? Date.now();
  return await runTx(opts.db, async (tx) => {
    const rows = (await select(opts.db, [opts.action ? eq(auditLog.action, opts.action) : undefined], AUDIT_EXPORT_MAX)).map(toDto);
    await recordAudit(tx, { actor: opts.actor, action: 'audit.exported', detail: { action: opts.action ?? null, rows: rows.length }, now });
    const csv = stringify(
      rows.map((r) => [
        r.id,
        r.at,
        r.agentId ?? '',
        r.agentName ?? '',
        r.via,
        r.action,
        r.targetType ?? '',
        r.targetId ?? '',
        r.detail ? JSON.stringify(r.detail) : '',
      ]),
      { header: true, columns: ['id', 'at', 'agent_id', 'agent_name', 'via', 'action', 'target_type', 'target_id', 'detail'] },
    );
    const day = new Date(now).toISOString().slice(0, 10);
    return { filename: `parley-audit-${opts.action ?? 'all'}-${day}.csv`, csv, count: rows.length };
  });
}
