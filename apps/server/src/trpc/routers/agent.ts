import type { TRPCRouterRecord } from '@trpc/server';
import { agentIdInput, inviteAgentInput, setAgentDisabledInput, setPreferencesInput, updateAgentInput } from '@parley/shared';
import { hashPassword } from '../../auth/password';
import type { Context } from '../context';
import { createResetLink, getPreferences, inviteAgent, listTeam, setAgentDisabled, setPreferences, updateAgent } from '../../domain/team';
import { adminProcedure, agentProcedure, auditActor } from '../init';

/** Where an invitation or reset link points: PUBLIC_URL when set, else the origin the admin's request came to. */
export const INVITE_PATH = '/invite';

function inviteUrl(ctx: Pick<Context, 'deps' | 'origin'>, token: string): string {
  const base = (ctx.deps.config.publicUrl ?? ctx.origin ?? '').replace(/\/+$/, '');
  // In the fragment: browsers never send it, so the token stays out of server and proxy logs.
  return `${base}${INVITE_PATH}#token=${token}`;
}

export const agentRouter = {
  /** Everyone who can be assigned a conversation (and who cannot: disabledAt), with role and last seen. */
  list: agentProcedure.query(async ({ ctx }) => await listTeam(ctx.deps.db)),

  /** Admins: creates the agent and answers a one-time link (7 days) for them to choose a password. */
  invite: adminProcedure.input(inviteAgentInput).mutation(async ({ ctx, input }) => {
    const { deps } = ctx;
    const { agent, token } = await inviteAgent({
      db: deps.db,
      ...input,
      actor: auditActor(ctx),
      hash: (password) => deps.hashGate.run(() => hashPassword(password, deps.config.passwordCost)),
    });
    return { agent, inviteUrl: inviteUrl(ctx, token) };
  }),

  /** Admins: rename, or change role (the last active admin cannot be demoted). */
  update: adminProcedure
    .input(updateAgentInput)
    .mutation(async ({ ctx, input }) => await updateAgent({ db: ctx.deps.db, ...input, actor: auditActor(ctx) })),

  /** Admins: disabling ends the agent's sessions, API tokens and presence at once. */
  setDisabled: adminProcedure.input(setAgentDisabledInput).mutation(async ({ ctx, input }) => {
    const agent = await setAgentDisabled({ db: ctx.deps.db, ...input, actorId: ctx.agent.id, actor: auditActor(ctx) });
    if (input.disabled) {
      ctx.deps.presence.remove(agent.id);
      // Their open streams (event.stream, presence.stream) end now, not at the next re-check.
      await ctx.deps.credentials.revoked();
    }
    return agent;
  }),

  /** Admins: a one-time link for the agent to choose a new password (their earlier links stop working). */
  resetPassword: adminProcedure.input(agentIdInput).mutation(async ({ ctx, input }) => ({
    inviteUrl: inviteUrl(ctx, await createResetLink({ db: ctx.deps.db, id: input.id })),
  })),

  /** The signed-in agent's notification choices (kept server-side, so they follow the agent). */
  preferences: agentProcedure.query(async ({ ctx }) => await getPreferences(ctx.deps.db, ctx.agent.id)),
  setPreferences: agentProcedure
    .input(setPreferencesInput)
    .mutation(async ({ ctx, input }) => await setPreferences(ctx.deps.db, ctx.agent.id, input)),
} satisfies TRPCRouterRecord;
