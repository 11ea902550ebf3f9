import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { DEFAULT_API_TOKEN_SCOPES, createApiToken, listApiTokensFor, revokeApiToken } from '../../auth/tokens';
import { API_TOKEN_SCOPES, type ApiTokenScope } from '../../domain/agents';
import { AppError } from '../../errors';
import { agentProcedure, auditActor, sessionProcedure } from '../init';

const id = z.number().int().positive();
const DAY_MS = 24 * 60 * 60 * 1000;

const createInput = z
  .object({
    name: z.string().trim().min(1, 'Name the token').max(100),
    /** Default: read and send. */
    scopes: z
      .array(z.enum(API_TOKEN_SCOPES as [ApiTokenScope, ...ApiTokenScope[]]))
      .min(1, 'Give the token at least one scope')
      .max(API_TOKEN_SCOPES.length)
      .optional(),
    /** When the token stops working (ISO-8601), or… */
    expiresAt: z.iso.datetime({ offset: true }).optional(),
    /** …in how many days. Neither: it does not expire. */
    expiresInDays: z.number().int().min(1).max(3650).optional(),
  })
  .refine((v) => v.expiresAt === undefined || v.expiresInDays === undefined, {
    message: 'Give expiresAt or expiresInDays, not both',
    path: ['expiresInDays'],
  });

export const apiTokenRouter = {
  /**
   * `token` is in this answer only; Parley keeps its hash. Only from a signed-in session: a token
   * cannot mint tokens (which would outlive its own revocation). The `admin` scope only for an admin.
   */
  create: sessionProcedure.input(createInput).mutation(async ({ ctx, input }) => {
    const scopes = input.scopes ?? DEFAULT_API_TOKEN_SCOPES;
    if (scopes.includes('admin') && ctx.agent.role !== 'admin') {
      throw new AppError('FORBIDDEN', 'Only an admin can create a token with the admin scope');
    }
    const now = Date.now();
    const expiresAt =
      input.expiresAt !== undefined
        ? Date.parse(input.expiresAt)
        : input.expiresInDays !== undefined
          ? now + input.expiresInDays * DAY_MS
          : null;
    if (expiresAt !== null && expiresAt <= now) throw new AppError('BAD_REQUEST', 'expiresAt: must be in the future');
    return await createApiToken({ db: ctx.deps.db, agentId: ctx.agent.id, name: input.name, scopes, expiresAt, actor: auditActor(ctx) });
  }),

  /** Your tokens (an admin sees everyone's), newest first, without the secrets. */
  list: agentProcedure.query(async ({ ctx }) => await listApiTokensFor({ db: ctx.deps.db, agent: ctx.agent })),

  /** A token may revoke itself (or its agent's others): a script can retire a leaked token. */
  revoke: agentProcedure.input(z.object({ id })).mutation(async ({ ctx, input }) => {
    const revoked = await revokeApiToken({ db: ctx.deps.db, agent: ctx.agent, id: input.id, actor: auditActor(ctx) });
    // Streams opened with it end now.
    await ctx.deps.credentials.revoked();
    return revoked;
  }),
} satisfies TRPCRouterRecord;
