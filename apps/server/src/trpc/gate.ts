import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { credentialFrom, resolveAccess, sameOrigin, type AppDeps } from './context';

/**
 * Procedures that take a credential (a password, an invitation) without a session: each one costs
 * a slow hash, so they are refused inside a batch of more than one call (a batch would otherwise
 * start many hashes under one rate-limit check). The team issue's `auth.acceptInvite` belongs here.
 */
export const CREDENTIAL_PROCEDURES: ReadonlySet<string> = new Set(['auth.login', 'auth.acceptInvite']);

/** Procedures whose input may be large (a campaign's CSV): the upload body limit applies to them alone. */
export const UPLOAD_PROCEDURES: ReadonlySet<string> = new Set(['campaign.create', 'campaign.preview']);

/** An error answered before tRPC runs, in tRPC's own error shape so clients read it alike. */
function refuse(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { message, code: -32600, data: { code, httpStatus: status, appCode: null } } });
}

/** The procedure paths a /trpc request names (`/a.b` or `/a.b,c.d?batch=1`). */
export function procedurePaths(req: Request): string[] | null {
  let path: string;
  try {
    path = decodeURIComponent(req.path.replace(/^\/+/, ''));
  } catch {
    return null;
  }
  const batch = new URL(req.originalUrl, 'http://localhost').searchParams.get('batch') === '1';
  return batch ? path.split(',') : [path];
}

const isJson = (contentType: string | undefined) => (contentType ?? '').split(';')[0]?.trim().toLowerCase() === 'application/json';

/**
 * In front of the tRPC adapter: batches capped, credential procedures alone, the body limit chosen
 * per procedure (the upload limit only for a campaign upload by a signed-in admin) and a declared
 * Content-Length over it refused 413 before a byte is read, and — for every POST without a Bearer
 * token (a browser's) — a same-origin `Origin` and `content-type: application/json` required (a
 * cross-site form or `text/plain` post cannot carry the cookie into a mutation).
 */
export function trpcGate(deps: AppDeps, adapters: { small: RequestHandler; large: RequestHandler }): RequestHandler {
  const { maxBatchSize, maxBodyBytes, uploadMaxBodyBytes } = deps.config.trpc;
  return async (req: Request, res: Response, next: NextFunction) => {
    const paths = procedurePaths(req);
    if (!paths) return refuse(res, 400, 'BAD_REQUEST', 'The procedure path is not valid URL encoding');
    if (paths.length > maxBatchSize) {
      return refuse(
        res,
        400,
        'BAD_REQUEST',
        `A batch may hold at most ${maxBatchSize} calls (TRPC_MAX_BATCH_SIZE); this one has ${paths.length}`,
      );
    }
    const credentialCall = paths.find((p) => CREDENTIAL_PROCEDURES.has(p));
    if (credentialCall !== undefined && paths.length > 1) {
      return refuse(res, 400, 'BAD_REQUEST', `${credentialCall} cannot be batched: send it as a request of its own`);
    }
    const bearer = /^Bearer\s/i.test(req.headers.authorization ?? '');
    if (req.method === 'POST' && !bearer) {
      if (!sameOrigin(req, deps.config.publicUrl)) {
        return refuse(res, 403, 'FORBIDDEN', `Cross-origin request refused: Origin ${String(req.headers.origin)} is not this Parley's`);
      }
      if (!isJson(req.headers['content-type'])) {
        return refuse(res, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the input as JSON with content-type: application/json');
      }
    }
    let limit = maxBodyBytes;
    if (req.method === 'POST' && paths.every((p) => UPLOAD_PROCEDURES.has(p))) {
      const access = await resolveAccess(deps.db, credentialFrom({ authorization: req.headers.authorization, cookie: req.headers.cookie }));
      if (access?.agent.role === 'admin' && access.scopes.includes('admin')) limit = uploadMaxBodyBytes;
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      // Answer without reading the body, and do not keep the connection for the rest of it.
      res.setHeader('Connection', 'close');
      return refuse(res, 413, 'PAYLOAD_TOO_LARGE', `The request body is over ${limit} bytes (${paths.join(',')})`);
    }
    // A chunked body is counted while read: the adapter with the same limit stops at it (413).
    return (limit > maxBodyBytes ? adapters.large : adapters.small)(req, res, next);
  };
}
