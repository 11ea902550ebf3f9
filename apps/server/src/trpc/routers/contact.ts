import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { contactListInput, contactUpdateInput } from '@parley/shared';
import { exportOptOuts, listContacts, updateContactName } from '../../domain/contact-admin';
import { getContact } from '../../domain/conversation';
import { setOptOut } from '../../domain/optout';
import { consentHistory, exportConsent } from '../../domain/consent';
import { eraseContact, exportContact } from '../../domain/erasure';
import { recordAudit } from '../../domain/audit';
import { adminProcedure, agentProcedure, auditActor } from '../init';

const id = z.number().int().positive();

export const contactRouter = {
  /** The contact and its conversations. */
  get: agentProcedure.input(z.object({ id })).query(async ({ ctx, input }) => await getContact({ db: ctx.deps.db, id: input.id })),

  /** Newest first; search by name or number; `optedOut` filters. */
  list: agentProcedure.input(contactListInput).query(async ({ ctx, input }) => await listContacts({ db: ctx.deps.db, ...input })),

  /** Renames the contact (null clears); open inboxes get the new name live. */
  update: agentProcedure
    .input(contactUpdateInput)
    .mutation(async ({ ctx, input }) => await updateContactName({ log: ctx.deps.log, id: input.id, name: input.name })),

  /** Manual opt-out / opt-in: admins only (source `agent`, or `api` with a token: a consent ledger row with who, and an audit entry). */
  setOptOut: adminProcedure.input(z.object({ id, optedOut: z.boolean() })).mutation(
    async ({ ctx, input }) =>
      (
        await setOptOut({
          log: ctx.deps.log,
          contactId: input.id,
          optedOut: input.optedOut,
          // With an API token: source api (an integration acted), the token's agent recorded all the same.
          source: ctx.credential?.kind === 'token' ? 'api' : 'agent',
          agentId: ctx.agent.id,
          audit: auditActor(ctx),
        })
      ).contact,
  ),

  /** The contact's consent ledger, oldest first: every opt-out and opt-in, when and how. */
  consentHistory: agentProcedure
    .input(z.object({ id }))
    .query(async ({ ctx, input }) => await consentHistory({ db: ctx.deps.db, id: input.id })),

  /** The consent ledger as CSV (at,state,source,message_id,agent_id); admins only, audited. */
  exportConsent: adminProcedure.input(z.object({ id })).query(async ({ ctx, input }) => {
    const result = await exportConsent({ db: ctx.deps.db, id: input.id });
    await ctx.deps.log.write(
      async (tx) =>
        await recordAudit(tx, {
          actor: auditActor(ctx),
          action: 'consent.exported',
          target: { type: 'contact', id: input.id },
          detail: { rows: result.count },
        }),
    );
    return result;
  }),

  /** Everything Parley holds about the contact as one JSON document (GDPR Art. 15/20); admins only, audited. */
  export: adminProcedure
    .input(z.object({ id }))
    .query(async ({ ctx, input }) => await exportContact({ log: ctx.deps.log, id: input.id, actor: auditActor(ctx) })),

  /**
   * Erases the contact and every copy of its data; keeps only a keyed hash of the number with its
   * opt-out state (later sends to it stay refused if it had opted out). Admins only, audited;
   * open inboxes drop its conversations live (`contact.erased`).
   */
  erase: adminProcedure.input(z.object({ id })).mutation(async ({ ctx, input }) => {
    const { checkpointed, mediaKeys } = await eraseContact({ log: ctx.deps.log, id: input.id, actor: auditActor(ctx) });
    for (const key of mediaKeys) {
      void ctx.deps.mediaStore
        ?.remove(key)
        .catch((err: unknown) => ctx.deps.logger.error({ err, contactId: input.id }, 'erasure: an attachment file could not be deleted'));
    }
    if (!checkpointed)
      ctx.deps.logger.warn(
        { contactId: input.id },
        'erasure: the WAL checkpoint did not complete (a reader held it); the next checkpoint completes it',
      );
    return { erased: true as const };
  }),

  /** The opt-out list as CSV (phone,name,opted_out_at,source) for the browser to download; admins only. */
  exportOptOuts: adminProcedure.query(async ({ ctx }) => await exportOptOuts({ db: ctx.deps.db })),
} satisfies TRPCRouterRecord;
