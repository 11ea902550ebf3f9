import type { TRPCRouterRecord } from '@trpc/server';
import { sendMessageInput } from '@parley/shared';
import { queueMessage } from '../../domain/send';
import { sendProcedure } from '../init';


export const messageRouter = {
  /** Queues the message (status `queued`) and wakes the outbox; the answer is the queued message. */
  send: sendProcedure.input(sendMessageInput).mutation(({ ctx, input }) => {
    const { from, ...rest } = input;
    const ours = ctx.deps.numbers.pick(from);
    const { message } = queueMessage({ log: ctx.deps.log, ourNumber: ours.number, provider: ours.provider, agentId: ctx.agent.id, ...rest });
    ctx.deps.outbox.wake();
    return message;
  }),
} satisfies TRPCRouterRecord;
