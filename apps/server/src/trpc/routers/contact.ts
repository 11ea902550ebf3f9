import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { getContact } from '../../domain/conversation';
import { setOptOut } from '../../domain/optout';
import { agentProcedure } from '../init';

const id = z.number().int().positive();

export const contactRouter = {
  /** The contact and its conversations. */
  get: agentProcedure.input(z.object({ id })).query(({ ctx, input }) => getContact({ db: ctx.deps.db, id: input.id })),

  setOptOut: agentProcedure
    .input(z.object({ id, optedOut: z.boolean() }))
    .mutation(
      ({ ctx, input }) =>
        setOptOut({ log: ctx.deps.log, contactId: input.id, optedOut: input.optedOut, source: 'agent' }).contact,
    ),
} satisfies TRPCRouterRecord;
