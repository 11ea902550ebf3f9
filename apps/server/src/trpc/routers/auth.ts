import type { TRPCRouterRecord } from '@trpc/server';
import { acceptInviteInput, changePasswordInput, loginInput } from '@parley/shared';
import { hashPassword, verifyPassword } from '../../auth/password';
import { loginKeys } from '../../auth/rate-limit';
import {
  SESSION_COOKIE,
  SESSION_TTL_MS,
  cookieSecure,
  createSession,
  endSession,
  loginWithPassword,
  serializeCookie,
} from '../../auth/session';
import { acceptInvite, passwordHashOf, setPasswordHash, touchLastSeen } from '../../domain/team';
import { AppError } from '../../errors';
import type { Context } from '../context';
import { agentProcedure, publicProcedure } from '../init';

function setSessionCookie(ctx: Pick<Context, 'deps'>, setCookie: (value: string) => void, token: string): void {
  setCookie(serializeCookie(SESSION_COOKIE, token, { secure: cookieSecure(ctx.deps.config), maxAgeSeconds: SESSION_TTL_MS / 1000 }));
}

export const authRouter = {
  /**
   * The only procedure open without a session or token (see CREDENTIAL_PROCEDURES: never inside a
   * batch). Sets the HttpOnly `parley_session` cookie.
   */
  login: publicProcedure.input(loginInput).mutation(async ({ ctx, input }) => {
    const { setCookie, deps } = ctx;
    if (!setCookie) throw new AppError('BAD_REQUEST', 'Sign in over HTTP: POST /trpc/auth.login');
    const { agent, session } = await loginWithPassword({
      db: deps.db,
      limiter: deps.loginLimiter,
      ip: ctx.ip,
      cost: deps.config.passwordCost,
      hashGate: deps.hashGate,
      ...input,
    });
    setSessionCookie(ctx, setCookie, session.token);
    await touchLastSeen(deps.db, agent.id);
    return { agent };
  }),

  /**
   * Public, like login: uses an invitation or password-reset link (`token` from its #fragment), sets
   * the password and signs in. A forged, used or expired link is 401 with the reason; nothing changes.
   */
  acceptInvite: publicProcedure.input(acceptInviteInput).mutation(async ({ ctx, input }) => {
    const { setCookie, deps } = ctx;
    if (!setCookie) throw new AppError('BAD_REQUEST', 'Accept an invitation over HTTP: POST /trpc/auth.acceptInvite');
    const agent = await acceptInvite({
      db: deps.db,
      token: input.token,
      password: input.password,
      hash: (password) => deps.hashGate.run(() => hashPassword(password, deps.config.passwordCost)),
    });
    // A reset link ends the agent's other sessions: their open streams end now.
    await deps.credentials.revoked();
    setSessionCookie(ctx, setCookie, (await createSession(deps.db, agent.id)).token);
    return { agent };
  }),

  /** Every agent: a new password (at least 10 characters). Their other sessions end; this one stays. */
  changePassword: agentProcedure.input(changePasswordInput).mutation(async ({ ctx, input }) => {
    const { deps, agent } = ctx;
    const keys = loginKeys(agent.email, ctx.ip);
    // Counted before the hash like a sign-in (a stolen session cannot guess the password quickly).
    await deps.loginLimiter.attempt(keys);
    let ok: boolean;
    try {
      ok = await deps.hashGate.run(async () => verifyPassword(input.currentPassword, (await passwordHashOf(deps.db, agent.id)) ?? ''));
    } catch (error) {
      await deps.loginLimiter.refund(keys);
      throw error;
    }
    // Not 401: the session is fine, only the password typed is wrong.
    if (!ok) throw new AppError('BAD_REQUEST', 'The current password is wrong');
    await deps.loginLimiter.refund(keys);
    const passwordHash = await deps.hashGate.run(() => hashPassword(input.newPassword, deps.config.passwordCost));
    await setPasswordHash({
      db: deps.db,
      agentId: agent.id,
      passwordHash,
      keepSessionHash: ctx.credential?.kind === 'session' ? ctx.credential.hash : null,
    });
    // The other sessions' open streams end now.
    await deps.credentials.revoked();
    return { ok: true as const };
  }),

  /** Ends the cookie's session (a Bearer token stays valid: revoke it with apiToken.revoke). */
  logout: agentProcedure.mutation(async ({ ctx }) => {
    if (ctx.credential?.kind === 'session') {
      await endSession(ctx.deps.db, ctx.credential.hash);
      // Its open streams (every tab) end now, not at the next re-check.
      await ctx.deps.credentials.revoked();
    }
    ctx.deps.presence.remove(ctx.agent.id);
    ctx.setCookie?.(serializeCookie(SESSION_COOKIE, '', { secure: cookieSecure(ctx.deps.config), maxAgeSeconds: 0 }));
    return { ok: true as const };
  }),

  me: agentProcedure.query(({ ctx }) => ctx.agent),
} satisfies TRPCRouterRecord;
