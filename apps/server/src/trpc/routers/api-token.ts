import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { createApiToken, listApiTokensFor, revokeApiToken } from '../../auth/tokens';
import { agentProcedure } from '../init';

const id = z.number().int().positive();

export const apiTokenRouter = {
  /** `token` is in this answer only; Parley keeps its hash. */
  create: agentProcedure
    .input(z.object({ name: z.string().trim().min(1, 'Name the token').max(100) }))
    .mutation(({ ctx, input }) => createApiToken({ db: ctx.deps.db, agentId: ctx.agent.id, name: input.name })),

  /** Your tokens (an admin sees everyone's), newest first, without the secrets. */
  list: agentProcedure.query(({ ctx }) => listApiTokensFor({ db: ctx.deps.db, agent: ctx.agent })),

  revoke: agentProcedure
    .input(z.object({ id }))
    .mutation(({ ctx, input }) => {
      const revoked = revokeApiToken({ db: ctx.deps.db, agent: ctx.agent, id: input.id });
      // Streams opened with it end now.
      ctx.deps.credentials.revoked();
      return revoked;
    }),
} satisfies TRPCRouterRecord;
