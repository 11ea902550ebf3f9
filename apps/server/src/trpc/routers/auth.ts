import type { TRPCRouterRecord } from '@trpc/server';
import { loginInput } from '@parley/shared';
import {
  SESSION_COOKIE,
  SESSION_TTL_MS,
  cookieSecure,
  endSession,
  loginWithPassword,
  serializeCookie,
} from '../../auth/session';
import { AppError } from '../../errors';
import { agentProcedure, publicProcedure } from '../init';


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
    setCookie(
      serializeCookie(SESSION_COOKIE, session.token, {
        secure: cookieSecure(deps.config),
        maxAgeSeconds: SESSION_TTL_MS / 1000,
      }),
    );
    return { agent };
  }),

  /** Ends the cookie's session (a Bearer token stays valid: revoke it with apiToken.revoke). */
  logout: agentProcedure.mutation(({ ctx }) => {
    if (ctx.credential?.kind === 'session') {
      endSession(ctx.deps.db, ctx.credential.hash);
      // Its open streams (every tab) end now, not at the next re-check.
      ctx.deps.credentials.revoked();
    }
    ctx.setCookie?.(serializeCookie(SESSION_COOKIE, '', { secure: cookieSecure(ctx.deps.config), maxAgeSeconds: 0 }));
    return { ok: true as const };
  }),

  me: agentProcedure.query(({ ctx }) => ctx.agent),
} satisfies TRPCRouterRecord;
