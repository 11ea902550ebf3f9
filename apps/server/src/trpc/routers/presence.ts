import type { TRPCRouterRecord } from '@trpc/server';
import { presenceUpdateInput } from '@parley/shared';
import { touchLastSeen } from '../../domain/team';
import { agentProcedure } from '../init';
import { whileSignedIn } from '../live';

export const presenceRouter = {
  /** A heartbeat (the web sends one every ~10 s and on each change): what this agent views and whether they type. */
  update: agentProcedure.input(presenceUpdateInput).mutation(async ({ ctx, input }) => {
    ctx.deps.presence.update({ agentId: ctx.agent.id, name: ctx.agent.name, ...input });
    await touchLastSeen(ctx.deps.db, ctx.agent.id);
    return { ok: true as const };
  }),

  /** The whole current list, again whenever it changes (in memory, never in the event log); ends with the credential. */
  stream: agentProcedure.subscription(async ({ ctx, signal }) => await whileSignedIn(ctx, signal, (s) => ctx.deps.presence.watch(s))),
} satisfies TRPCRouterRecord;
