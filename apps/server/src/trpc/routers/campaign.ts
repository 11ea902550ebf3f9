import type { TRPCRouterRecord } from '@trpc/server';
import { campaignCreateInput, campaignIdInput, campaignListInput, campaignPreviewInput, campaignRecipientsListInput } from '@parley/shared';
import { cancelCampaign, createCampaign, pauseCampaign, previewCampaign, resumeCampaign } from '../../domain/campaign';
import { listCampaigns, listRecipients, loadCampaignDto } from '../../domain/campaign-views';
import { AppError } from '../../errors';
import { adminProcedure, agentProcedure, auditActor } from '../init';

export const campaignRouter = {
  /** Validates and writes the campaign and its recipients; the feeder starts sending at once. */
  create: adminProcedure.input(campaignCreateInput).mutation(async ({ ctx, input }) => {
    const { from, ...rest } = input;
    // Sending outside the recipients' quiet hours is an admin's decision (create is admin-only today; kept explicit).
    if (input.quietHours === false && ctx.agent.role !== 'admin')
      throw new AppError('FORBIDDEN', 'Only an admin can switch quiet hours off for a campaign');
    const ours = ctx.deps.numbers.pick(from);
    const created = await createCampaign({
      log: ctx.deps.log,
      ourNumber: ours.number,
      provider: ours.provider,
      agentId: ctx.agent.id,
      actor: auditActor(ctx),
      ...rest,
    });
    ctx.deps.campaigns.wake();
    return created;
  }),

  /** The validation report and cost, nothing written. A mutation so a large CSV travels in a POST body. */
  preview: adminProcedure.input(campaignPreviewInput).mutation(({ ctx, input }) => {
    if (input.from !== undefined) ctx.deps.numbers.pick(input.from);
    return previewCampaign({ db: ctx.deps.db, text: input.text, recipients: input.recipients });
  }),

  list: agentProcedure.input(campaignListInput).query(async ({ ctx, input }) => await listCampaigns({ db: ctx.deps.db, ...input })),

  get: agentProcedure.input(campaignIdInput).query(async ({ ctx, input }) => await loadCampaignDto(ctx.deps.db, input.id)),

  /** One row per recipient given, in list order, with its live state and reason. */
  recipients: agentProcedure
    .input(campaignRecipientsListInput)
    .query(async ({ ctx, input }) => await listRecipients({ db: ctx.deps.db, ...input })),

  pause: adminProcedure
    .input(campaignIdInput)
    .mutation(async ({ ctx, input }) => await pauseCampaign({ log: ctx.deps.log, id: input.id, actor: auditActor(ctx) })),

  resume: adminProcedure.input(campaignIdInput).mutation(async ({ ctx, input }) => {
    const campaign = await resumeCampaign({ log: ctx.deps.log, id: input.id, actor: auditActor(ctx) });
    ctx.deps.outbox.wake();
    ctx.deps.campaigns.wake();
    return campaign;
  }),

  cancel: adminProcedure
    .input(campaignIdInput)
    .mutation(async ({ ctx, input }) => await cancelCampaign({ log: ctx.deps.log, id: input.id, actor: auditActor(ctx) })),
} satisfies TRPCRouterRecord;
