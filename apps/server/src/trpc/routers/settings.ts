import type { TRPCRouterRecord } from '@trpc/server';
import { settingsUpdateInput } from '@parley/shared';
import { getSettings, updateSettings } from '../../domain/settings';
import { adminProcedure, agentProcedure, auditActor } from '../init';

export const settingsRouter = {
  /** The workspace settings (every agent reads them: the UI follows them). */
  get: agentProcedure.query(async ({ ctx }) => await getSettings(ctx.deps.db)),
  /** Admins: change any subset; an event (`settings.updated`) tells every open inbox. */
  update: adminProcedure
    .input(settingsUpdateInput)
    .mutation(
      async ({ ctx, input }) => await updateSettings({ log: ctx.deps.log, agentId: ctx.agent.id, patch: input, actor: auditActor(ctx) }),
    ),
} satisfies TRPCRouterRecord;
