import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { AUDIT_ACTIONS } from '@parley/shared';
import { exportAudit, listAudit } from '../../domain/audit-views';
import { adminProcedure, auditActor } from '../init';

const action = z.enum(AUDIT_ACTIONS).optional();

/** The audit log, for admins. Read-only on purpose: no procedure updates or deletes an entry. */
export const auditRouter = {
  /** Newest first, 50 a page; `action` filters. */
  list: adminProcedure
    .input(z.object({ cursor: z.string().max(200).nullish(), action, limit: z.number().int().min(1).max(200).optional() }).optional())
    .query(
      async ({ ctx, input }) => await listAudit({ db: ctx.deps.db, cursor: input?.cursor, action: input?.action, limit: input?.limit }),
    ),
  /** The log as CSV (a mutation: the export is itself recorded, as `audit.exported`). */
  export: adminProcedure
    .input(z.object({ action }).optional())
    .mutation(async ({ ctx, input }) => await exportAudit({ db: ctx.deps.db, action: input?.action, actor: auditActor(ctx) })),
} satisfies TRPCRouterRecord;
