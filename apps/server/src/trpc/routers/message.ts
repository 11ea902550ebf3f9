import type { TRPCRouterRecord } from '@trpc/server';
import { sendMessageInput } from '@parley/shared';
import { queueMessage } from '../../domain/send';
import { agentProcedure } from '../init';


export const messageRouter = {
  /** Queues the message (status `queued`) and wakes the outbox; the answer is the queued message. */
  send: agentProcedure.input(sendMessageInput).mutation(({ ctx, input }) => {
    const { message } = queueMessage({ log: ctx.deps.log, ourNumber: ctx.deps.ourNumber, agentId: ctx.agent.id, ...input });
    ctx.deps.outbox.wake();
    return message;
  }),
} satisfies TRPCRouterRecord;
