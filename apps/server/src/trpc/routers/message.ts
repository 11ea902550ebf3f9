import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { sendMessageInput } from '@parley/shared';
import { cancelScheduled, checkSendAt, queueMessage, retryMessage } from '../../domain/send';
import { sendProcedure } from '../init';

const id = z.number().int().positive();

export const messageRouter = {
  /**
   * Queues the message (status `queued`) and wakes the outbox; the answer is the queued message.
   * With `sendAt`: stored `scheduled`, queued by the due scan when its time comes.
   */
  send: sendProcedure.input(sendMessageInput).mutation(({ ctx, input }) => {
    const { from, sendAt, ...rest } = input;
    const at = sendAt === undefined ? undefined : checkSendAt(sendAt, (ctx.deps.now ?? Date.now)());
    const ours = ctx.deps.numbers.pick(from);
    const { message } = queueMessage({
      log: ctx.deps.log,
      ourNumber: ours.number,
      provider: ours.provider,
      agentId: ctx.agent.id,
      ...rest,
      ...(at === undefined ? {} : { sendAt: at }),
    });
    if (at === undefined) ctx.deps.outbox.wake();
    return message;
  }),

  /** A scheduled message, before it is due: not sent (status failed, errorCode CANCELLED). */
  cancelScheduled: sendProcedure.input(z.strictObject({ id })).mutation(({ ctx, input }) => cancelScheduled({ log: ctx.deps.log, id: input.id })),

  /** Resends a message that never reached the handset as a new queued message linked to it; CONFLICT with the reason otherwise. */
  retry: sendProcedure.input(z.strictObject({ id })).mutation(({ ctx, input }) => {
    const { message } = retryMessage({ log: ctx.deps.log, id: input.id, agentId: ctx.agent.id });
    ctx.deps.outbox.wake();
    return message;
  }),
} satisfies TRPCRouterRecord;
