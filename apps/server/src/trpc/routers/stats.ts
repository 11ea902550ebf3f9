import type { TRPCRouterRecord } from '@trpc/server';
import { statsSummaryInput } from '@parley/shared';
import { statsSummary } from '../../domain/stats';
import { agentProcedure } from '../init';

export const statsRouter = {
  summary: agentProcedure.input(statsSummaryInput).query(async ({ ctx, input }) => await statsSummary({ db: ctx.deps.db, ...input })),
} satisfies TRPCRouterRecord;
