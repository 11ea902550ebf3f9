import type { TRPCRouterRecord } from '@trpc/server';
import { simulateInboundInput } from '@parley/shared';
import { AppError } from '../../errors';
import { sendProcedure } from '../init';

export const sandboxRouter = {
  /** A text "from" a phone, through the real signed /webhooks/inbound path; it arrives on event.stream. */
  simulateInbound: sendProcedure.input(simulateInboundInput).mutation(async ({ ctx, input }) => {
    const { config, simulateInbound } = ctx.deps;
    if (config.provider !== 'sandbox') {
      throw new AppError('PRECONDITION_FAILED', 'Simulated inbound texts work only with the sandbox provider (SMS_PROVIDER=sandbox)');
    }
    if (!simulateInbound) throw new AppError('PRECONDITION_FAILED', 'Simulated inbound texts are not available on this server');
    await simulateInbound(input);
    return { ok: true as const };
  }),
} satisfies TRPCRouterRecord;
