import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES } from '@parley/shared';
import {
  createEndpoint,
  deleteEndpoint,
  listEndpoints,
  replayEndpoint,
  rotateSecret,
  updateEndpoint,
} from '../../domain/webhook-endpoints';
import { listDeliveries } from '../../domain/webhook-deliveries';
import { AppError } from '../../errors';
import type { Context } from '../context';
import { adminProcedure, auditActor } from '../init';

const id = z.number().int().positive();
const url = z.string().trim().min(1, 'Type the receiver URL').max(2048);
const events = z
  .array(z.enum(WEBHOOK_EVENT_TYPES))
  .min(1, 'Pick at least one event type')
  .transform((list) => WEBHOOK_EVENT_TYPES.filter((t) => list.includes(t)));

function service(ctx: Context) {
  const svc = ctx.deps.webhooks;
  if (!svc) throw new AppError('PRECONDITION_FAILED', 'Outbound webhooks are not running on this server');
  return svc;
}

/** Outbound webhook endpoints (admins only). Every change is audited and wakes the endpoint's loop. */
export const webhookEndpointRouter = {
  create: adminProcedure
    .input(z.strictObject({ url, events, description: z.string().trim().max(200).optional() }))
    .mutation(async ({ ctx, input }) => {
      const svc = service(ctx);
      await svc.checkUrl(input.url);
      const created = await createEndpoint({
        log: ctx.deps.log,
        config: ctx.deps.config,
        actor: auditActor(ctx),
        createdBy: ctx.agent.id,
        ...input,
      });
      await svc.wake(created.endpoint.id);
      return created;
    }),
  list: adminProcedure.query(async ({ ctx }) => await listEndpoints(ctx.deps.db)),
  update: adminProcedure
    .input(z.strictObject({ id, url: url.optional(), events: events.optional(), enabled: z.boolean().optional() }))
    .mutation(async ({ ctx, input }) => {
      const svc = service(ctx);
      if (input.url !== undefined) await svc.checkUrl(input.url);
      const endpoint = await updateEndpoint({ log: ctx.deps.log, config: ctx.deps.config, actor: auditActor(ctx), ...input });
      await svc.wake(input.id);
      return endpoint;
    }),
  delete: adminProcedure.input(z.strictObject({ id })).mutation(async ({ ctx, input }) => {
    const svc = service(ctx);
    const result = await deleteEndpoint({ log: ctx.deps.log, config: ctx.deps.config, actor: auditActor(ctx), id: input.id });
    await svc.wake(input.id);
    return result;
  }),
  rotateSecret: adminProcedure.input(z.strictObject({ id })).mutation(async ({ ctx, input }) => {
    service(ctx);
    return await rotateSecret({ log: ctx.deps.log, config: ctx.deps.config, actor: auditActor(ctx), id: input.id });
  }),
  deliveries: adminProcedure
    .input(z.strictObject({ id, cursor: z.number().int().positive().optional() }))
    .query(async ({ ctx, input }) => await listDeliveries(ctx.deps.db, input.id, input.cursor)),
  replay: adminProcedure.input(z.strictObject({ id, fromEventId: z.number().int().positive() })).mutation(async ({ ctx, input }) => {
    const svc = service(ctx);
    const endpoint = await replayEndpoint({ log: ctx.deps.log, config: ctx.deps.config, actor: auditActor(ctx), ...input });
    await svc.wake(input.id);
    return endpoint;
  }),
  sendTest: adminProcedure.input(z.strictObject({ id })).mutation(({ ctx, input }) => service(ctx).sendTest(input.id)),
} satisfies TRPCRouterRecord;
