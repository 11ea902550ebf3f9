import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { sendMessageInput } from '@parley/shared';
import { queueMessage } from '../../domain/send';
import { cancelScheduled, checkSendAt } from '../../domain/send-later';
import { retryMessage } from '../../domain/send-retry';
import { sendProcedure } from '../init';
import type { ProviderName } from '@parley/shared';
import { checkAttachable } from '../../domain/media';
import { loadConversation } from '../../domain/views';
import { AppError } from '../../errors';
import type { AppDeps } from '../context';

const id = z.number().int().positive();

export const messageRouter = {
  /**
   * Queues the message (status `queued`) and wakes the outbox; the answer is the queued message.
   * With `sendAt`: stored `scheduled`, queued by the due scan when its time comes.
   */
  send: sendProcedure.input(sendMessageInput).mutation(async ({ ctx, input }) => {
    const { from, sendAt, mediaIds, ...rest } = input;
    const at = sendAt === undefined ? undefined : checkSendAt(sendAt, (ctx.deps.now ?? Date.now)());
    const ours = ctx.deps.numbers.pick(from);
    if (mediaIds && mediaIds.length > 0) await checkMms(ctx.deps, { ...rest, ours }, mediaIds);
    const { message } = await queueMessage({
      log: ctx.deps.log,
      ourNumber: ours.number,
      provider: ours.provider,
      agentId: ctx.agent.id,
      ...rest,
      ...(mediaIds && mediaIds.length > 0 ? { mediaIds } : {}),
      ...(at === undefined ? {} : { sendAt: at }),
    });
    if (at === undefined) ctx.deps.outbox.wake();
    return message;
  }),

  /** A scheduled message, before it is due: not sent (status failed, errorCode CANCELLED). */
  cancelScheduled: sendProcedure
    .input(z.strictObject({ id }))
    .mutation(async ({ ctx, input }) => await cancelScheduled({ log: ctx.deps.log, id: input.id })),

  /** Resends a message that never reached the handset as a new queued message linked to it; CONFLICT with the reason otherwise. */
  retry: sendProcedure.input(z.strictObject({ id })).mutation(async ({ ctx, input }) => {
    const { message } = await retryMessage({ log: ctx.deps.log, id: input.id, agentId: ctx.agent.id });
    ctx.deps.outbox.wake();
    return message;
  }),
} satisfies TRPCRouterRecord;

/**
 * Before an MMS is queued: the uploads exist and are unattached, and the conversation's provider can
 * send MMS between these numbers (PRECONDITION_FAILED with the reason otherwise: nothing is queued).
 */
async function checkMms(
  deps: AppDeps,
  target: { to?: string | undefined; conversationId?: number | undefined; ours: { number: string; provider: ProviderName } },
  mediaIds: number[],
): Promise<void> {
  await checkAttachable(deps.db, mediaIds);
  let provider = target.ours.provider;
  let from = target.ours.number;
  let to = target.to;
  if (target.conversationId !== undefined) {
    const conversation = await loadConversation(deps.db, target.conversationId);
    if (!conversation) throw new AppError('NOT_FOUND', `Conversation ${target.conversationId} not found`);
    ({ provider, ourNumber: from, contactPhone: to } = conversation);
  }
  const refusal = deps.mms ? deps.mms.refusal(provider, from, to ?? '') : 'MMS is not available on this server';
  if (refusal !== null) throw new AppError('PRECONDITION_FAILED', `Cannot send a picture: ${refusal}`);
}
