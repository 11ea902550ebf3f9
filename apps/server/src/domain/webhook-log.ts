import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { asc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { webhookLog } from '../db/tables';
import { byteLength } from '../db/dialect';

export interface WebhookLogEntry {
  path: string;
  /** true: the request's signature verified (or it came through an authenticated path) — kept whole. */
  signatureOk: boolean;
  headers: Record<string, unknown>;
  /** null: the body was never read (too large, unreadable): no hash or length is recorded. */
  rawBody: Buffer | string | null;
  httpStatus: number;
  outcome: string;
  error: string | null;
  /** The client address (req.ip): unauthenticated rows are rate-limited per source. */
  source?: string | undefined;
}

export interface WebhookLogLimits {
  /** Bytes of an unauthenticated refusal's body kept (the rest is summarised by its SHA-256 and length). */
  excerptBytes: number;
  /** Unauthenticated rows stored per source address per minute; beyond it they are counted, not stored. */
  perSourcePerMinute: number;
  /** Rows kept at most; the oldest (unauthenticated first) are deleted beyond it. */
  maxRows: number;
  /** Bytes (body + headers) kept at most, as maxRows. */
  maxBytes: number;
  /** Rows older than this are deleted. */
  retentionMs: number;
}

export const DEFAULT_WEBHOOK_LOG_LIMITS: WebhookLogLimits = {
  excerptBytes: 2048,
  perSourcePerMinute: 60,
  maxRows: 10_000,
  maxBytes: 64 * 1024 * 1024,
  retentionMs: 30 * 24 * 60 * 60 * 1000,
};

export interface WebhookLogStats {
  stored: number;
  /** Unauthenticated refusals answered but not stored (over the per-source rate). */
  dropped: number;
  /** Rows deleted by the size caps or the retention. */
  pruned: number;
  rows: number;
  bytes: number;
}

export interface WebhookLog {
  write(entry: WebhookLogEntry): Promise<void>;
  stats(): WebhookLogStats;
  /** Deletes rows past the retention now (also runs by itself about once a minute). */
  pruneExpired(now?: number): Promise<void>;
}

/**
 * Header names whose values are credentials: kept as `[redacted: N chars]`, never their value. A
 * signature's nonce, timestamp and algorithm are not secrets (they authenticate nothing alone) and are
 * kept for review: they show a replay at a glance.
 */
const CREDENTIAL_HEADER =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|x-plivo-signature.*|x-sinch-webhook-signature.*|x-hub-signature.*)$/i;
const PUBLIC_SIGNATURE_PART = /-(nonce|timestamp|algorithm)$/i;
/** An unauthenticated request's header values are cut to this many characters each. */
const UNAUTHENTICATED_HEADER_CHARS = 256;
/** Sources remembered by the rate limiter (a flood from many addresses cannot grow the map without end). */
const MAX_SOURCES = 10_000;
/** Rows deleted per pruning statement: a short write, never a long stall. */
const PRUNE_BATCH = 500;

/**
 * The rate limiter's key for an address: IPv4 as is (an IPv4-mapped IPv6 address as its IPv4), IPv6
 * by its /64 (one subscriber's whole prefix: rotating addresses inside it does not escape the limit).
 */
export function sourceKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = address.includes('::')
    ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** Headers with every credential replaced by its length; for an unauthenticated request, long values cut. */
export function redactHeaders(headers: Record<string, unknown>, authenticated: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.map(String).join(', ') : String(value);
    if (CREDENTIAL_HEADER.test(name) && !PUBLIC_SIGNATURE_PART.test(name)) out[name] = `[redacted: ${text.length} chars]`;
    else if (!authenticated && text.length > UNAUTHENTICATED_HEADER_CHARS)
      out[name] = `${text.slice(0, UNAUTHENTICATED_HEADER_CHARS)}… [${text.length} chars]`;
    else out[name] = value;
  }
  return out;
}

/**
 * The headers a provider signs a request with, kept whole (server-side only) so a refusal can be verified
 * again on replay: Vonage's `Authorization: Bearer <JWT>` (only in that shape: nothing else that calls
 * itself Authorization is kept), Plivo's and Sinch's MACs. Each is a per-request signature over that
 * request (a JWT over its body's hash, an HMAC over URL, body and nonce), not a credential of ours:
 * it admits nothing but that request again, which the replay's domain functions deduplicate.
 */
const SIGNATURE_HEADER = /^(authorization|x-plivo-signature-(ma-)?v[23]|x-sinch-webhook-signature)$/i;
const BEARER_JWT = /^Bearer\s+[\w-]+\.[\w-]+\.[\w-]+$/i;
/** A kept signature header's value is at most this long (a Vonage JWT is a few hundred characters). */
const SIGNATURE_HEADER_CHARS = 4096;

export function signatureHeadersOf(headers: Record<string, unknown>): Record<string, string> | null {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || !SIGNATURE_HEADER.test(name)) continue;
    const text = Array.isArray(value) ? value.map(String).join(', ') : String(value);
    if (text.length > SIGNATURE_HEADER_CHARS) continue;
    if (name.toLowerCase() === 'authorization' && !BEARER_JWT.test(text.trim())) continue;
    out[name.toLowerCase()] = text;
  }
  return Object.keys(out).length > 0 ? out : null;
}

/** The first `bytes` of a body as text (never a split UTF-8 sequence's garbage beyond U+FFFD). */
function excerpt(body: Buffer, bytes: number): string {
  return body.subarray(0, Math.min(bytes, body.length)).toString('utf8');
}

/**
 * The webhook refusal log (table webhook_log), bounded: a genuinely signed request Parley could not use
 * is kept whole (bounded by the webhook body limit) so it can be reviewed and replayed; an
 * unauthenticated refusal keeps an excerpt, the SHA-256 and the length of its body, and is stored at
 * most `perSourcePerMinute` times a minute per address. Credentials are never stored. The table is
 * held under `maxRows` and `maxBytes` (oldest unauthenticated rows go first) and `retentionMs`; each
 * pruning statement deletes at most a few hundred rows, so it never stalls the event loop.
 */
export async function createWebhookLog(db: Db, limits: Partial<WebhookLogLimits> = {}): Promise<WebhookLog> {
  const l: WebhookLogLimits = { ...DEFAULT_WEBHOOK_LOG_LIMITS, ...limits };
  const sizeOf = sql<number>`${byteLength(webhookLog.rawBody)} + ${byteLength(webhookLog.headers)} + coalesce(length(${webhookLog.signatureHeaders}), 0)`;
  const totals = (await db.select({ rows: sql<number>`count(*)`, bytes: sql<number>`coalesce(sum(${sizeOf}), 0)` }).from(webhookLog))[0];
  let rows = totals?.rows ?? 0;
  let bytes = totals?.bytes ?? 0;
  let stored = 0;
  let dropped = 0;
  let pruned = 0;
  let lastExpiry = 0;
  /** source → [window start, count in this minute]. */
  const sources = new Map<string, { start: number; count: number }>();

  const allow = (source: string, now: number): boolean => {
    let s = sources.get(source);
    if (!s || now - s.start >= 60_000) {
      if (!s && sources.size >= MAX_SOURCES) {
        for (const [key, v] of sources) if (now - v.start >= 60_000) sources.delete(key);
        // Still full of live sources: share one bucket rather than grow.
        if (sources.size >= MAX_SOURCES) source = '*';
      }
      s = sources.get(source);
      if (!s || now - s.start >= 60_000) {
        s = { start: now, count: 0 };
        sources.set(source, s);
      }
    }
    s.count += 1;
    return s.count <= l.perSourcePerMinute;
  };

  /** Deletes the oldest rows (unauthenticated before authenticated) in one batch; returns how many. */
  const deleteOldest = async (count: number): Promise<number> => {
    const n = Math.max(1, Math.min(count, PRUNE_BATCH));
    let ids = (
      await db.select({ id: webhookLog.id }).from(webhookLog).where(eq(webhookLog.signatureOk, false)).orderBy(asc(webhookLog.id)).limit(n)
    ).map((r) => r.id);
    if (ids.length === 0) {
      ids = (await db.select({ id: webhookLog.id }).from(webhookLog).orderBy(asc(webhookLog.id)).limit(n)).map((r) => r.id);
    }
    return await removeIds(ids);
  };

  const removeIds = async (ids: number[]): Promise<number> => {
    if (ids.length === 0) return 0;
    const gone = await db.delete(webhookLog).where(inArray(webhookLog.id, ids)).returning({ size: sizeOf });
    rows -= gone.length;
    for (const g of gone) bytes -= g.size;
    pruned += gone.length;
    return gone.length;
  };

  const pruneExpired = async (now = Date.now()): Promise<void> => {
    lastExpiry = now;
    const cutoff = now - l.retentionMs;
    const removeBatch = async (): Promise<void> => {
      const ids = (
        await db
          .select({ id: webhookLog.id })
          .from(webhookLog)
          .where(lt(webhookLog.receivedAt, cutoff))
          .orderBy(asc(webhookLog.id))
          .limit(PRUNE_BATCH)
      ).map((r) => r.id);
      // More than a batch: the rest on later turns of the loop, never in one long statement.
      if ((await removeIds(ids)) === PRUNE_BATCH) setImmediate(() => void removeBatch());
    };
    await removeBatch();
  };

  const enforceCaps = async (): Promise<void> => {
    // A few batches at most per write: the table converges under its caps without a long stall.
    for (let round = 0; round < 4 && (rows > l.maxRows || bytes > l.maxBytes) && rows > 0; round++) {
      const overRows = rows - l.maxRows;
      const estimate = bytes > l.maxBytes ? Math.ceil((bytes - l.maxBytes) / Math.max(1, bytes / Math.max(rows, 1))) : 0;
      if ((await deleteOldest(Math.max(overRows, estimate, 1))) === 0) break;
    }
  };

  return {
    async write(entry) {
      const now = Date.now();
      const body =
        entry.rawBody === null ? Buffer.alloc(0) : typeof entry.rawBody === 'string' ? Buffer.from(entry.rawBody, 'utf8') : entry.rawBody;
      const unread = entry.rawBody === null;
      if (!entry.signatureOk && !allow(sourceKey(entry.source ?? 'unknown'), now)) {
        dropped += 1;
        return;
      }
      const rawBody = entry.signatureOk ? body.toString('utf8') : excerpt(body, l.excerptBytes);
      const headers = JSON.stringify(redactHeaders(entry.headers, entry.signatureOk));
      const signatureHeaders = signatureHeadersOf(entry.headers);
      const row = (
        await db
          .insert(webhookLog)
          .values({
            path: entry.path,
            signatureOk: entry.signatureOk,
            headers,
            rawBody,
            bodySha256: unread ? null : createHash('sha256').update(body).digest('hex'),
            bodyBytes: unread ? null : body.length,
            httpStatus: entry.httpStatus,
            outcome: entry.outcome,
            error: entry.error === null ? null : entry.error.slice(0, 2000),
            signatureHeaders: signatureHeaders === null ? null : JSON.stringify(signatureHeaders),
            receivedAt: now,
          })
          .returning({ size: sizeOf })
      )[0];
      rows += 1;
      bytes += row?.size ?? 0;
      stored += 1;
      await enforceCaps();
      if (now - lastExpiry > 60_000) await pruneExpired(now);
    },
    stats: () => ({ stored, dropped, pruned, rows, bytes }),
    pruneExpired,
  };
}

/** For routers built without a shared log (unit stacks): one per database, default limits. */
const perDb = new WeakMap<Db, WebhookLog>();
export async function defaultWebhookLog(db: Db): Promise<WebhookLog> {
  let log = perDb.get(db);
  if (!log) {
    log = await createWebhookLog(db);
    perDb.set(db, log);
  }
  return log;
}
