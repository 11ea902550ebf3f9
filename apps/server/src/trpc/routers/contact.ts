import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { contactListInput, contactUpdateInput } from '@parley/shared';
import { exportOptOuts, listContacts, updateContactName } from '../../domain/contact-admin';
import { getContact } from '../../domain/conversation';
import { setOptOut } from '../../domain/optout';
import { adminProcedure, agentProcedure } from '../init';

const id = z.number().int().positive();

export const contactRouter = {
  /** The contact and its conversations. */
  get: agentProcedure.input(z.object({ id })).query(({ ctx, input }) => getContact({ db: ctx.deps.db, id: input.id })),

  /** Newest first; search by name or number; `optedOut` filters. */
  list: agentProcedure.input(contactListInput).query(({ ctx, input }) => listContacts({ db: ctx.deps.db, ...input })),

  /** Renames the contact (null clears); open inboxes get the new name live. */
  update: agentProcedure
    .input(contactUpdateInput)
    .mutation(({ ctx, input }) => updateContactName({ log: ctx.deps.log, id: input.id, name: input.name })),

  /** Manual opt-out / opt-in: admins only (recorded with source `agent`). */
  setOptOut: adminProcedure
    .input(z.object({ id, optedOut: z.boolean() }))
    .mutation(
      ({ ctx, input }) =>
        setOptOut({ log: ctx.deps.log, contactId: input.id, optedOut: input.optedOut, source: 'agent' }).contact,
    ),

  /** The opt-out list as CSV (phone,name,opted_out_at,source) for the browser to download; admins only. */
  exportOptOuts: adminProcedure.query(({ ctx }) => exportOptOuts({ db: ctx.deps.db })),
} satisfies TRPCRouterRecord;
