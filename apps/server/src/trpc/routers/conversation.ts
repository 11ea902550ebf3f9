import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { conversationListInput, pageCursor, pageLimit } from '@parley/shared';
import {
  assignConversation,
  getConversation,
  listConversations,
  listMessages,
  markRead,
  setConversationStatus,
} from '../../domain/conversation';
import { unreadTotal } from '../../domain/team';
import { resolveOptOutFlag } from '../../domain/optout';
import { agentProcedure, auditActor } from '../init';

const id = z.number().int().positive();
const cursor = pageCursor;
const limit = pageLimit;

export const conversationRouter = {
  list: agentProcedure
    .input(conversationListInput)
    .query(async ({ ctx, input }) => await listConversations({ db: ctx.deps.db, agentId: ctx.agent.id, ...input })),

  /** Unread inbound texts across open conversations, and how many conversations hold them (the tab title). */
  unreadCount: agentProcedure.query(async ({ ctx }) => await unreadTotal(ctx.deps.db)),

  get: agentProcedure.input(z.object({ id })).query(async ({ ctx, input }) => await getConversation({ db: ctx.deps.db, id: input.id })),

  /** Newest first; `nextCursor` pages back in time. */
  messages: agentProcedure
    .input(z.object({ conversationId: id, cursor, limit }))
    .query(async ({ ctx, input }) => await listMessages({ db: ctx.deps.db, ...input })),

  markRead: agentProcedure.input(z.object({ id })).mutation(async ({ ctx, input }) => await markRead({ log: ctx.deps.log, id: input.id })),

  assign: agentProcedure
    .input(z.object({ id, agentId: id.nullable() }))
    .mutation(async ({ ctx, input }) => await assignConversation({ log: ctx.deps.log, ...input })),

  /**
   * A possible opt-out ("please stop texting me"): `optOut: true` confirms it (the contact is opted
   * out, source agent, audited), false dismisses it. Any agent may resolve one: a request to stop is
   * honoured by whoever reads it first.
   */
  resolveOptOutFlag: agentProcedure.input(z.strictObject({ id, optOut: z.boolean() })).mutation(
    async ({ ctx, input }) =>
      await resolveOptOutFlag({
        log: ctx.deps.log,
        id: input.id,
        optOut: input.optOut,
        agentId: ctx.agent.id,
        audit: auditActor(ctx),
        now: (ctx.deps.now ?? Date.now)(),
      }),
  ),

  setStatus: agentProcedure
    .input(z.object({ id, status: z.enum(['open', 'pending', 'snoozed', 'closed']), snoozeUntil: z.string().max(40).optional() }))
    .mutation(async ({ ctx, input }) => await setConversationStatus({ log: ctx.deps.log, now: (ctx.deps.now ?? Date.now)(), ...input })),
} satisfies TRPCRouterRecord;
