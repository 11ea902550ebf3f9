import type { TRPCRouterRecord } from '@trpc/server';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { PROVIDER_NAMES } from '@parley/shared';
import { getWebhookLog, listWebhookLog, webhookLogIds, webhookLogSummary } from '../../domain/webhook-review';
import { dismissWebhookLog } from '../../webhooks/replay';
import { adminProcedure, auditActor } from '../init';

/** Ids per replay or dismiss call (the page sends "replay all matching" in batches of this). */
export const WEBHOOK_REPLAY_MAX_IDS = 200;
/** "Replay all matching" replays at most this many of the newest matching entries per call of `matchingIds`. */
const MATCHING_MAX = 5000;

const filter = z.object({
  outcome: z.string().trim().min(1).max(64).optional(),
  provider: z.enum(PROVIDER_NAMES).optional(),
  needsReview: z.boolean().optional(),
});
const ids = z.object({ ids: z.array(z.number().int().positive()).min(1).max(WEBHOOK_REPLAY_MAX_IDS) });

/** Refused provider webhooks (webhook_log): review, raw view, replay, dismiss. Admins only. */
export const webhookLogRouter = {
  list: adminProcedure
    .input(filter.extend({ cursor: z.number().int().positive().optional() }))
    .query(async ({ ctx, input }) => await listWebhookLog(ctx.deps.db, input)),
  /** One entry raw: the redacted headers kept at receipt and the body as kept. */
  get: adminProcedure.input(z.object({ id: z.number().int().positive() })).query(async ({ ctx, input }) => {
    const entry = await getWebhookLog(ctx.deps.db, input.id);
    if (!entry) throw new TRPCError({ code: 'NOT_FOUND', message: `No webhook_log entry ${input.id}` });
    return entry;
  }),
  /** How many still need review (the banner) and which outcomes there are (the filter). */
  summary: adminProcedure.query(async ({ ctx }) => await webhookLogSummary(ctx.deps.db)),
  /** Every id matching a filter, newest first (the page replays them in batches). */
  matchingIds: adminProcedure
    .input(filter)
    .query(async ({ ctx, input }) => ({ ids: await webhookLogIds(ctx.deps.db, input, MATCHING_MAX) })),
  /** Verifies each again with the current secrets and, if it passes, stores it as a live webhook would (idempotent). */
  replay: adminProcedure.input(ids).mutation(async ({ ctx, input }) => {
    const replayer = ctx.deps.webhookReplayer;
    if (!replayer) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'Webhook replay is not available on this server' });
    // Per id: { id, outcome, status, reason }.
    return replayer.replay(input.ids, auditActor(ctx));
  }),
  /** Sets entries aside: they no longer need review (an unauthenticated probe, a request no secret will ever verify). */
  dismiss: adminProcedure
    .input(ids)
    .mutation(async ({ ctx, input }) => ({ dismissed: await dismissWebhookLog(ctx.deps.log, input.ids, auditActor(ctx)) })),
} satisfies TRPCRouterRecord;
