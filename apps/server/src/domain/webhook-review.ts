/**
 * Reviewing webhook_log: what was refused (or kept as odd), one entry raw, and what still needs review.
 * Replaying is webhooks/replay.ts. Nothing here returns a signature header's value: the raw view's
 * headers are the redacted ones written at receipt (credentials as `[redacted: N chars]`).
 */
import { createHash } from 'node:crypto';
import { and, count, desc, eq, gte, inArray, isNull, like, lt, not, or, sql, type SQL } from 'drizzle-orm';
import type { ProviderName } from '@parley/shared';
import type { Db } from '../db/client';
import { webhookLog } from '../db/tables';
import type { WebhookKind } from '../webhooks/kit';

export const WEBHOOK_LOG_PAGE = 50;

/** Where a kept path came in: the provider and route kind, and the request as the router saw it. */
export interface LoggedRoute {
  provider: ProviderName;
  kind: WebhookKind;
  /** As called, with its query (what Plivo signed). */
  originalUrl: string;
  /** Inside the provider's mount: `/inbound` or `/status`. */
  path: string;
}

/**
 * Vonage's rows are kept under the path inside its mount (`/inbound`, `/status`), Plivo's with their
 * query (`/webhooks/plivo/status?ref=…`), Sinch's as the route (`/webhooks/sinch/inbound`).
 */
export function routeOfLogPath(path: string): LoggedRoute | null {
  const [pathname = '', ...query] = path.split('?');
  const vonage = /^(?:\/webhooks)?\/(inbound|status)$/.exec(pathname);
  if (vonage?.[1]) {
    const kind = vonage[1] as WebhookKind;
    return { provider: 'vonage', kind, originalUrl: `/webhooks/${kind}${query.length ? `?${query.join('?')}` : ''}`, path: `/${kind}` };
  }
  const other = /^\/webhooks\/(plivo|sinch)\/(inbound|status)$/.exec(pathname);
  if (other?.[1] && other[2]) {
    const kind = other[2] as WebhookKind;
    return { provider: other[1] as ProviderName, kind, originalUrl: path, path: `/${kind}` };
  }
  return null;
}

const providerWhere = (provider: ProviderName): SQL | undefined =>
  provider === 'vonage'
    ? inArray(webhookLog.path, ['/inbound', '/status', '/webhooks/inbound', '/webhooks/status'])
    : like(webhookLog.path, `/webhooks/${provider}/%`);

/**
 * Still needs review: refused (answered 4xx/5xx), not set aside, and never replayed or replayed without
 * getting through (still refused). A replay that stored it, or found it already stored, settles it.
 */
export const needsReviewWhere = (): SQL =>
  sql`${and(gte(webhookLog.httpStatus, 400), isNull(webhookLog.dismissedAt), or(isNull(webhookLog.replayStatus), gte(webhookLog.replayStatus, 400)))}`;

export interface WebhookLogFilter {
  outcome?: string | undefined;
  provider?: ProviderName | undefined;
  /** true: only what still needs review; false: only what does not. */
  needsReview?: boolean | undefined;
}

function filterWhere(f: WebhookLogFilter): SQL | undefined {
  const review = needsReviewWhere();
  return and(
    f.outcome ? eq(webhookLog.outcome, f.outcome) : undefined,
    f.provider ? providerWhere(f.provider) : undefined,
    // No NULL can come out of the condition (each nullable column is tested with IS NULL first), so NOT is its complement.
    f.needsReview === true ? review : f.needsReview === false ? not(review) : undefined,
  );
}

type Row = typeof webhookLog.$inferSelect;

export interface WebhookLogItem {
  id: number;
  path: string;
  provider: ProviderName | null;
  kind: WebhookKind | null;
  receivedAt: string;
  signatureOk: boolean;
  httpStatus: number;
  outcome: string;
  reason: string | null;
  bodyBytes: number | null;
  replayedAt: string | null;
  replayOutcome: string | null;
  replayStatus: number | null;
  replayReason: string | null;
  dismissedAt: string | null;
  needsReview: boolean;
}

export interface WebhookLogDetail extends WebhookLogItem {
  /** As kept at receipt: credentials and signatures redacted to their length. */
  headers: Record<string, unknown>;
  rawBody: string;
  bodySha256: string | null;
  /** Whether rawBody is the whole body as received (an unauthenticated refusal keeps only an excerpt). */
  bodyComplete: boolean;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function needsReview(row: Pick<Row, 'httpStatus' | 'dismissedAt' | 'replayStatus'>): boolean {
  return row.httpStatus >= 400 && row.dismissedAt === null && (row.replayStatus === null || row.replayStatus >= 400);
}

/** Whether the kept body is every byte that was received (its hash matches the one taken at receipt). */
export function bodyComplete(row: Pick<Row, 'rawBody' | 'bodySha256'>): boolean {
  return row.bodySha256 !== null && createHash('sha256').update(row.rawBody, 'utf8').digest('hex') === row.bodySha256;
}

function item(row: Row): WebhookLogItem {
  const route = routeOfLogPath(row.path);
  return {
    id: row.id,
    path: row.path,
    provider: route?.provider ?? null,
    kind: route?.kind ?? null,
    receivedAt: new Date(row.receivedAt).toISOString(),
    signatureOk: row.signatureOk,
    httpStatus: row.httpStatus,
    outcome: row.outcome,
    reason: row.error,
    bodyBytes: row.bodyBytes,
    replayedAt: iso(row.replayedAt),
    replayOutcome: row.replayOutcome,
    replayStatus: row.replayStatus,
    replayReason: row.replayError,
    dismissedAt: iso(row.dismissedAt),
    needsReview: needsReview(row),
  };
}

const listColumns = {
  id: webhookLog.id,
  path: webhookLog.path,
  receivedAt: webhookLog.receivedAt,
  signatureOk: webhookLog.signatureOk,
  httpStatus: webhookLog.httpStatus,
  outcome: webhookLog.outcome,
  error: webhookLog.error,
  bodyBytes: webhookLog.bodyBytes,
  replayedAt: webhookLog.replayedAt,
  replayOutcome: webhookLog.replayOutcome,
  replayStatus: webhookLog.replayStatus,
  replayError: webhookLog.replayError,
  dismissedAt: webhookLog.dismissedAt,
};

/** Newest first, a page at a time (`cursor`: the last id of the previous page). */
export async function listWebhookLog(
  db: Db,
  f: WebhookLogFilter & { cursor?: number | undefined; limit?: number },
): Promise<{ items: WebhookLogItem[]; nextCursor: number | null }> {
  const limit = f.limit ?? WEBHOOK_LOG_PAGE;
  const rows = await db
    .select(listColumns)
    .from(webhookLog)
    .where(and(filterWhere(f), f.cursor !== undefined ? lt(webhookLog.id, f.cursor) : undefined))
    .orderBy(desc(webhookLog.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  // The list never carries bodies or headers: those are for get().
  const items = page.map((r) => item({ ...r, headers: '', rawBody: '', bodySha256: null, signatureHeaders: null }));
  return { items, nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null };
}

/** Every id matching the filter, newest first, at most `max` (replay all matching). */
export async function webhookLogIds(db: Db, f: WebhookLogFilter, max: number): Promise<number[]> {
  return (await db.select({ id: webhookLog.id }).from(webhookLog).where(filterWhere(f)).orderBy(desc(webhookLog.id)).limit(max)).map(
    (r) => r.id,
  );
}

export async function getWebhookLog(db: Db, id: number): Promise<WebhookLogDetail | null> {
  const row = (await db.select().from(webhookLog).where(eq(webhookLog.id, id)))[0];
  if (!row) return null;
  let headers: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(row.headers);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) headers = parsed as Record<string, unknown>;
  } catch {
    // kept as written; an unreadable one shows as none
  }
  return { ...item(row), headers, rawBody: row.rawBody, bodySha256: row.bodySha256, bodyComplete: bodyComplete(row) };
}

/** Refusals still needing review (the /metrics gauge and the admins' banner). */
export async function countNeedingReview(db: Db): Promise<number> {
  return (await db.select({ n: count() }).from(webhookLog).where(needsReviewWhere()))[0]?.n ?? 0;
}

/** Outcomes present (for the filter), with how many of each, and how many still need review. */
export async function webhookLogSummary(db: Db): Promise<{ needsReview: number; outcomes: { outcome: string; count: number }[] }> {
  const outcomes = await db
    .select({ outcome: webhookLog.outcome, count: count() })
    .from(webhookLog)
    .groupBy(webhookLog.outcome)
    .orderBy(desc(count()));
  return { needsReview: await countNeedingReview(db), outcomes };
}
