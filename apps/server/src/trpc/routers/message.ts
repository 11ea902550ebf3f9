import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { e164Schema } from '@parley/shared';
import { queueMessage } from '../../domain/send';
import { agentProcedure } from '../init';

/** `{ to, text }` starts (or continues) a conversation with a number; `{ conversationId, text }` replies in one. */
export const sendMessageInput = z
  .strictObject({
    to: e164Schema.optional(),
    conversationId: z.number().int().positive().optional(),
    text: z.string(),
  })
  .refine((v) => (v.to === undefined) !== (v.conversationId === undefined), {
    message: 'Give either `to` (a phone number) or `conversationId`, not both',
  });

export const messageRouter = {
  /** Queues the message (status `queued`) and wakes the outbox; the answer is the queued message. */
  send: agentProcedure.input(sendMessageInput).mutation(({ ctx, input }) => {
    const { message } = queueMessage({ log: ctx.deps.log, ourNumber: ctx.deps.ourNumber, agentId: ctx.agent.id, ...input });
    ctx.deps.outbox.wake();
    return message;
  }),
} satisfies TRPCRouterRecord;
