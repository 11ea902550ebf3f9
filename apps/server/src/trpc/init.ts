import { initTRPC, TRPCError, type TRPC_ERROR_CODE_KEY } from '@trpc/server';
import { z, ZodError } from 'zod';
import { isDbBusy } from '../db/client';
import { AppError, type AppErrorCode } from '../errors';
import { resolveCredential, type Context } from './context';

/** Each domain error code, once, as a tRPC code (and so an HTTP status). */
const CODE: Record<AppErrorCode, TRPC_ERROR_CODE_KEY> = {
  BAD_REQUEST: 'BAD_REQUEST',
  NOT_FOUND: 'NOT_FOUND',
  // 412: the request is fine, the contact's state forbids it until they text START.
  OPTED_OUT: 'PRECONDITION_FAILED',
  CONFLICT: 'CONFLICT',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  PRECONDITION_FAILED: 'PRECONDITION_FAILED',
  // 409: the client's position no longer exists; it refetches and subscribes from the tail.
  RESYNC: 'CONFLICT',
  DB_BUSY: 'SERVICE_UNAVAILABLE',
};

export function toTRPCError(error: AppError): TRPCError {
  return new TRPCError({ code: CODE[error.code], message: error.message, cause: error });
}

const t = initTRPC.context<Context>().create({
  // Plain JSON on the wire: no transformer. No stack traces to clients either.
  isDev: false,
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const internal = error.code === 'INTERNAL_SERVER_ERROR';
    return {
      ...shape,
      // Unexpected errors keep their details in the server log (onError), not on the wire.
      message: internal ? 'Internal server error' : cause instanceof ZodError ? readableZodMessage(cause) : shape.message,
      data: {
        ...shape.data,
        /** The domain code (e.g. 'OPTED_OUT') so clients branch on it, never on the message. */
        appCode: cause instanceof AppError ? cause.code : null,
        zodError: cause instanceof ZodError ? z.flattenError(cause) : null,
      },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const middleware = t.middleware;

/** Domain functions throw AppError; here it becomes a TRPCError with the mapped code and the same message. */
const mapAppErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof AppError) throw toTRPCError(result.error.cause);
  return result;
});

/**
 * A mutation that met SQLite's write lock held by another process (SQLITE_BUSY after the short
 * busy_timeout) rolled back whole; it is run again after an asynchronous backoff — the event loop
 * stays free meanwhile — until DB_BUSY_RETRY_MS, then answered 503 (appCode DB_BUSY), never 500.
 */
const busy = () => toTRPCError(new AppError('DB_BUSY', 'The database is busy (locked by another process); try again in a few seconds'));
const retryWhenBusy = t.middleware(async ({ ctx, type, next }) => {
  if (type !== 'mutation') {
    const result = await next();
    if (!result.ok && isDbBusy(result.error.cause ?? result.error)) throw busy();
    return result;
  }
  const deadline = Date.now() + ctx.deps.config.live.dbBusyRetryMs;
  for (let attempt = 0; ; attempt++) {
    const result = await next();
    if (result.ok || !isDbBusy(result.error.cause ?? result.error)) return result;
    const left = deadline - Date.now();
    if (left <= 0) throw busy();
    await new Promise((resolve) => setTimeout(resolve, Math.min(25 * 2 ** attempt, 500, left)));
  }
});

export const publicProcedure = t.procedure.use(mapAppErrors).use(retryWhenBusy);

/**
 * A signed-in agent (session cookie or API token). Over WebSocket the context lives as long as the
 * connection, so the credential is checked again on each call: logout, revocation and disabling
 * take effect without a reconnect.
 */
export const agentProcedure = publicProcedure.use(({ ctx, next }) => {
  const agent = ctx.via === 'ws' ? resolveCredential(ctx.deps.db, ctx.credential) : ctx.agent;
  if (!agent) {
    throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in, or send Authorization: Bearer <API token>' });
  }
  return next({ ctx: { ...ctx, agent } });
});

export const adminProcedure = agentProcedure.use(({ ctx, next }) => {
  if (ctx.agent.role !== 'admin') throw new TRPCError({ code: 'FORBIDDEN', message: 'Only an admin can do this' });
  return next({ ctx });
});

/** "to: Number is too short; text: Too small" — what a person (or a curl user) reads, not a JSON dump. */
function readableZodMessage(error: ZodError): string {
  return error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}
