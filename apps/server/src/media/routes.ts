/**
 * HTTP for attachments:
 * - `GET /media/:id` — a stored attachment, to signed-in agents only (session cookie or API token with `read`).
 * - `GET /media/:id/signed?exp=&sig=` — an outbound attachment through a signed, expiring link (what providers fetch).
 * - `POST /media` — multipart upload (field `file`) by a signed-in agent (`send`): checked by content
 *   and size, stored, answered `201 { id, contentType, size, name }` for message.send's `mediaIds`.
 */
import { createReadStream } from 'node:fs';
import express, { type Request, type Response, type Router } from 'express';
import busboy from 'busboy';
import type { Logger } from 'pino';
import type { Db } from '../db/client';
import { credentialFrom, resolveAccess, sameOrigin } from '../trpc/context';
import { loadMediaRow, recordUpload } from '../domain/media';
import { PENDING_UPLOADS_MAX, pendingUploads } from '../domain/uploads';
import { limitKey, type ApiRateLimiter } from '../auth/api-rate-limit';
import { AppError } from '../errors';
import type { MediaStore } from './store';
import { checkSignedLink } from './links';
import { ACCEPTED_TYPES, formatBytes, SENDABLE_TYPES, sniffMedia } from './sniff';

export interface MediaRouteDeps {
  db: Db;
  store: MediaStore;
  logger: Logger;
  maxBytes: number;
  signingSecret: string;
  publicUrl: string | undefined;
  /** Uploads count against the credential's calls per minute, like any tRPC call. */
  apiLimiter: ApiRateLimiter;
}

type MediaRow = NonNullable<Awaited<ReturnType<typeof loadMediaRow>>>;

/** `inline` (images, shown in the thread) or `attachment`, with an ASCII fallback name and the UTF-8 one. */
function disposition(row: MediaRow): string {
  const kind = (row.contentType ?? '').startsWith('image/') ? 'inline' : 'attachment';
  const name = row.name ?? `attachment-${row.id}.${row.storageKey?.split('.').pop() ?? 'bin'}`;
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

function serve(deps: MediaRouteDeps, row: MediaRow, res: Response): void {
  const path = row.storageKey ? deps.store.pathOf(row.storageKey) : null;
  if (row.state !== 'stored' || !path) {
    const why = row.state === 'refused' ? `refused: ${row.reason ?? 'no reason kept'}` : 'still downloading';
    res.status(404).json({ error: `attachment ${row.id} is not available (${why})`, state: row.state });
    return;
  }
  const stream = createReadStream(path);
  stream.once('error', (err) => {
    deps.logger.error({ err, mediaId: row.id }, 'media: stored file could not be read');
    if (!res.headersSent) res.status(404).json({ error: `attachment ${row.id}: its file is missing from the media store` });
    else res.destroy();
  });
  stream.once('open', () => {
    res.status(200).set({
      'Content-Type': row.contentType ?? 'application/octet-stream',
      'Content-Length': String(row.size),
      'Content-Disposition': disposition(row),
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'private, max-age=300',
      // A file opened on its own (a new tab) runs nothing, even if a browser mistook it for a page.
      'Content-Security-Policy': "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox",
    });
    stream.pipe(res);
  });
}

/** The agent of the request's session cookie or API token with `scope`, or the answer already sent (401/403). */
async function agentOf(
  deps: MediaRouteDeps,
  req: Request,
  res: Response,
  scope: 'read' | 'send',
): Promise<{ id: number; limitKey: string } | null> {
  const credential = credentialFrom({ authorization: req.headers.authorization, cookie: req.headers.cookie });
  const access = await resolveAccess(deps.db, credential);
  if (!access) {
    res.status(401).json({ error: 'sign in (session cookie) or send Authorization: Bearer pk_…' });
    return null;
  }
  if (!access.scopes.includes(scope)) {
    res.status(403).json({ error: `this API token lacks the ${scope} scope` });
    return null;
  }
  return { id: access.agent.id, limitKey: limitKey(credential) };
}

const PENDING_REFUSAL = `You have ${PENDING_UPLOADS_MAX} pictures uploaded but not sent: send or discard them first (unsent uploads are removed after a day)`;

const idOf = (req: Request): number | null => (/^\d{1,12}$/.test(String(req.params.id)) ? Number(req.params.id) : null);

export function mediaRouter(deps: MediaRouteDeps): Router {
  const router = express.Router();

  router.get('/media/:id', async (req, res) => {
    if (!(await agentOf(deps, req, res, 'read'))) return;
    const id = idOf(req);
    const row = id === null ? undefined : await loadMediaRow(deps.db, id);
    if (!row) return void res.status(404).json({ error: 'attachment not found' });
    serve(deps, row, res);
  });

  router.get('/media/:id/signed', async (req, res) => {
    const id = idOf(req);
    const problem = id === null ? 'bad id' : checkSignedLink(deps.signingSecret, id, req.query.exp, req.query.sig);
    const row = id === null || problem ? undefined : await loadMediaRow(deps.db, id);
    // Only attachments Parley sends are offered on a link; the same answer for every refusal.
    if (problem || !row || row.direction !== 'out')
      return void res.status(403).json({ error: `link refused: ${problem ?? 'not an outbound attachment'}` });
    serve(deps, row, res);
  });

  router.post('/media', async (req, res) => {
    // A browser's cross-site form post never carries the (SameSite=Lax) cookie; refuse a foreign Origin all the same.
    if (!sameOrigin(req, deps.publicUrl)) return void res.status(403).json({ error: 'cross-origin upload refused' });
    const agent = await agentOf(deps, req, res, 'send');
    if (!agent) return;
    // Refused before a byte is read: the rate of the credential, then the agent's unsent uploads.
    deps.apiLimiter.call(agent.limitKey).then(
      async () => {
        if ((await pendingUploads(deps.db, agent.id)) >= PENDING_UPLOADS_MAX) {
          return void res.status(429).json({ error: PENDING_REFUSAL, code: 'TOO_MANY_UPLOADS' });
        }
        upload(deps, req, res, agent.id);
      },
      (err: unknown) => {
        if (!(err instanceof AppError)) throw err;
        if (err.retryAfterSeconds !== undefined) res.set('Retry-After', String(err.retryAfterSeconds));
        res.status(429).json({ error: err.message, code: 'RATE_LIMITED' });
      },
    );
  });
  router.all(
    '/media',
    (_req, res) =>
      void res.set('Allow', 'POST').status(405).json({ error: 'method not allowed: POST a multipart form with a `file` field' }),
  );

  return router;
}

const SENDABLE_NAMES = SENDABLE_TYPES.map((t) => ACCEPTED_TYPES[t]).join(', ');

function upload(deps: MediaRouteDeps, req: Request, res: Response, agentId: number): void {
  let bb: busboy.Busboy;
  try {
    bb = busboy({ headers: req.headers, limits: { files: 1, fileSize: deps.maxBytes, fields: 5, parts: 6 } });
  } catch {
    return void res.status(400).json({ error: 'expected a multipart/form-data body with a `file` field' });
  }
  let answered = false;
  const answer = (status: number, body: unknown) => {
    if (answered) return;
    answered = true;
    req.unpipe(bb);
    req.resume(); // drain what is left, so the client reads our answer
    res.status(status).json(body);
  };
  let got: Promise<void> | null = null;
  bb.on('file', (field, file, info) => {
    if (field !== 'file') {
      file.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    file.on('data', (chunk: Buffer) => {
      size += chunk.length;
      chunks.push(chunk);
    });
    file.on('limit', () => {
      tooBig = true;
      chunks.length = 0;
    });
    got = new Promise<void>((resolve) => {
      file.on('end', () => {
        void (async () => {
          if (tooBig) return answer(413, { error: `The file is larger than the ${formatBytes(deps.maxBytes)} limit`, code: 'TOO_LARGE' });
          if (size === 0) return answer(400, { error: 'The file is empty', code: 'EMPTY' });
          const bytes = Buffer.concat(chunks);
          const claimed = info.mimeType && info.mimeType !== 'application/octet-stream' ? info.mimeType : null;
          const sniffed = await sniffMedia(bytes, claimed, SENDABLE_TYPES);
          if (!sniffed.ok)
            return answer(415, { error: `Only ${SENDABLE_NAMES} images can be sent: ${sniffed.reason}`, code: 'WRONG_TYPE' });
          const { key, sha256 } = await deps.store.put(bytes, sniffed.ext);
          const name = info.filename ? info.filename.slice(0, 200) : null;
          // Again at the write (uploads of one agent may run side by side): the check and the insert
          // are one transaction, and write transactions take turns (db/store.ts), so no two pass at once.
          const dto = await deps.db.$store.tx(async () => {
            if ((await pendingUploads(deps.db, agentId)) >= PENDING_UPLOADS_MAX) return null;
            return recordUpload(deps.db, {
              agentId,
              contentType: sniffed.contentType,
              claimedType: claimed,
              size,
              name,
              sha256,
              storageKey: key,
            });
          });
          if (!dto) {
            await deps.store.remove(key);
            return answer(429, { error: PENDING_REFUSAL, code: 'TOO_MANY_UPLOADS' });
          }
          answer(201, { id: dto.id, contentType: dto.contentType, size: dto.size, name: dto.name });
        })()
          .catch((err: unknown) => {
            deps.logger.error({ err }, 'media: upload failed');
            answer(500, { error: 'the upload could not be stored' });
          })
          .finally(resolve);
      });
    });
  });
  bb.on('close', () => {
    void (async () => {
      await got;
      if (!got) answer(400, { error: 'no `file` field in the form', code: 'NO_FILE' });
    })();
  });
  bb.on('error', () => answer(400, { error: 'the multipart body could not be read' }));
  req.pipe(bb);
}
