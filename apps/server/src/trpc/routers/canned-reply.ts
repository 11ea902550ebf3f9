import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { CANNED_SHORTCUT_PATTERN, MAX_CANNED_TEXT_CHARS } from '@parley/shared';
import { createCannedReply, deleteCannedReply, listCannedReplies, updateCannedReply } from '../../domain/canned';
import { agentProcedure } from '../init';

const id = z.number().int().positive();
const shortcut = z
  .string()
  .trim()
  .toLowerCase()
  .transform((s) => s.replace(/^\//, ''))
  .pipe(
    z.string().regex(CANNED_SHORTCUT_PATTERN, 'A shortcut is 1–32 lower-case letters, digits, - or _ (starting with a letter or digit)'),
  );
const text = z.string().trim().min(1, 'Type the reply').max(MAX_CANNED_TEXT_CHARS);

/** Shared by the workspace: every agent may read and manage them. */
export const cannedReplyRouter = {
  list: agentProcedure
    .input(z.object({ search: z.string().max(100).optional() }).optional())
    .query(async ({ ctx, input }) => await listCannedReplies(ctx.deps.db, input?.search)),
  create: agentProcedure
    .input(z.strictObject({ shortcut, text }))
    .mutation(async ({ ctx, input }) => await createCannedReply({ log: ctx.deps.log, agentId: ctx.agent.id, ...input })),
  update: agentProcedure
    .input(z.strictObject({ id, shortcut: shortcut.optional(), text: text.optional() }))
    .mutation(async ({ ctx, input }) => await updateCannedReply({ log: ctx.deps.log, ...input })),
  delete: agentProcedure
    .input(z.strictObject({ id }))
    .mutation(async ({ ctx, input }) => await deleteCannedReply({ log: ctx.deps.log, id: input.id })),
} satisfies TRPCRouterRecord;
