import type { TRPCRouterRecord } from '@trpc/server';
import { addNoteInput, listNotesInput } from '@parley/shared';
import { addNote, listNotes } from '../../domain/notes';
import { agentProcedure } from '../init';

export const noteRouter = {
  /** A private note in the thread: never sent to the contact, never a message; `@name` mentions notify. */
  add: agentProcedure
    .input(addNoteInput)
    .mutation(async ({ ctx, input }) => await addNote({ log: ctx.deps.log, agentId: ctx.agent.id, ...input })),
  list: agentProcedure.input(listNotesInput).query(async ({ ctx, input }) => await listNotes(ctx.deps.db, input.conversationId)),
} satisfies TRPCRouterRecord;
