import type { TRPCRouterRecord } from '@trpc/server';
import { agentProcedure } from '../init';

export const numberRouter = {
  /** Our numbers, each with its provider; the default one (new conversations start from it) first. */
  list: agentProcedure.query(({ ctx }) => ctx.deps.numbers.list()),
} satisfies TRPCRouterRecord;
