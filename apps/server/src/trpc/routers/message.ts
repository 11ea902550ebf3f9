import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { e164Schema } from '@parley/shared';
import { queueMessage } from '../../domain/send';
import { agentProcedure } from '../init';

/** `{ to, text }` starts (or continues) a conversation with a number; `{ conversationId, text }` replies in one. */
export const sendMessageInput = z.union([
  z.strictObject({ to: e164Schema, text: z.string() }),
  z.strictObject({ conversationId: z.number().int().positive(), text: z.string() }),
]);

export const messageRouter = {
  /** Queues the message (status `queued`) and wakes the outbox; the answer is the queued message. */
  send: agentProcedure.input(sendMessageInput).mutation(({ ctx, input }) => {
    const { message } = queueMessage({ log: ctx.deps.log, ourNumber: ctx.deps.ourNumber, agentId: ctx.agent.id, ...input });
    ctx.deps.outbox.wake();
    return message;
  }),
} satisfies TRPCRouterRecord;
