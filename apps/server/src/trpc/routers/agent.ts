import type { TRPCRouterRecord } from '@trpc/server';
import { listAgents } from '../../domain/agents';
import { agentProcedure } from '../init';

export const agentRouter = {
  /** Everyone who can be assigned a conversation (and who cannot: disabledAt). */
  list: agentProcedure.query(({ ctx }) => listAgents(ctx.deps.db)),
} satisfies TRPCRouterRecord;
