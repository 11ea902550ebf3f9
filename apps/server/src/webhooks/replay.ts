/**
 * Replaying what webhook_log kept (webhookLog.replay): the kept headers and exact body are rebuilt into
 * a request and handed to the provider's own handler — the one its live route uses — wired with the
 * *current* secrets. So a replay verifies exactly as a live request would, then goes through the same
 * domain functions (receiveInbound, recordStatus), which are idempotent: replaying twice, or replaying
 * what a provider's retry already stored, changes nothing (`duplicate`).
 *
 * Time: the signature's age (Vonage `iat`, Sinch's timestamp) and nonces are judged as of the original
 * receipt, not now. The receipt time is ours (not the sender's), so this admits exactly what a correct
 * secret would have admitted then: a request refused as too old stays refused, and a refusal from last
 * week is not refused merely for having waited for review.
 */
import { inArray, eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { ProviderName } from '@parley/shared';
import { isDbBusy, type Db } from '../db/client';
import { webhookLog } from '../db/tables';
import { recordAudit, type AuditActor } from '../domain/audit';
import type { WebhookLog } from '../domain/webhook-log';
import { bodyComplete, routeOfLogPath } from '../domain/webhook-review';
import type { EventLog } from '../events/log';
import { rawWebhookRequest, type RawWebhookRequest, type WebhookKind, type WebhookOutcome } from './kit';
import { createReplayNonceStore, type NonceStore } from './nonces';

/** A provider's handler run on a kept request, with its signature judged as of `receivedAt`. */
export type WebhookReplay = (kind: WebhookKind, req: RawWebhookRequest, body: Buffer, receivedAt: number) => Promise<WebhookOutcome>;

/** Nothing is written to webhook_log again by a replay: its outcome goes on the row replayed. */
const DISCARD: WebhookLog = {
  write: () => Promise.resolve(),
  stats: () => ({ stored: 0, dropped: 0, pruned: 0, rows: 0, bytes: 0 }),
  pruneExpired: () => Promise.resolve(),
};

/** The core a provider's handler runs with on replay: nonces judged as of receipt, no second webhook_log row, no metrics. */
export function replayCore<T extends { db: Db; nonces: NonceStore; webhookLog: WebhookLog }>(core: T, receivedAt: number): T {
  return { ...core, nonces: createReplayNonceStore(core.db, receivedAt), webhookLog: DISCARD, onOutcome: () => undefined };
}

export interface ReplayResult {
  id: number;
  /** What the replay came to: the live outcome words (`stored`, `duplicate`, `bad_signature`, …) or `not_found`, `not_replayable`, `provider_off`. */
  outcome: string;
  /** The HTTP status a live request would have been answered with; null when nothing was run. */
  status: number | null;
  reason: string | null;
}

export interface WebhookReplayer {
  replay(ids: readonly number[], actor: AuditActor): Promise<ReplayResult[]>;
}

export function createWebhookReplayer(opts: {
  db: Db;
  log: EventLog;
  logger: Logger;
  /** Each wired provider's replay (a provider not wired now cannot replay: `provider_off`). */
  replays: ReadonlyMap<ProviderName, WebhookReplay>;
}): WebhookReplayer {
  const { db } = opts;

  const one = async (id: number): Promise<ReplayResult> => {
    const row = (await db.select().from(webhookLog).where(eq(webhookLog.id, id)))[0];
    if (!row) return { id, outcome: 'not_found', status: null, reason: 'no such webhook_log entry' };
    const route = routeOfLogPath(row.path);
    if (!route) return { id, outcome: 'not_replayable', status: null, reason: `not a provider webhook path: ${row.path}` };
    if (!bodyComplete(row)) {
      return {
        id,
        outcome: 'not_replayable',
        status: null,
        reason:
          row.bodySha256 === null
            ? 'the body was never read (too large or unreadable)'
            : 'only an excerpt of the body was kept (it was larger than WEBHOOK_LOG_EXCERPT_BYTES)',
      };
    }
    const replay = opts.replays.get(route.provider);
    if (!replay) return { id, outcome: 'provider_off', status: null, reason: `${route.provider} is not configured on this server` };
    const headers = { ...parseObject(row.headers), ...parseObject(row.signatureHeaders) } as Record<string, string | string[] | undefined>;
    const req = rawWebhookRequest({ originalUrl: route.originalUrl, path: route.path, headers });
    try {
      const r = await replay(route.kind, req, Buffer.from(row.rawBody, 'utf8'), row.receivedAt);
      return { id, outcome: r.outcome, status: r.status, reason: r.error ?? null };
    } catch (err) {
      if (isDbBusy(err)) return { id, outcome: 'busy', status: 503, reason: 'the database is busy: replay it again' };
      opts.logger.error({ err, webhookLogId: id }, 'webhook replay failed');
      return { id, outcome: 'error', status: 500, reason: 'internal error while processing the replay' };
    }
  };

  return {
    async replay(ids, actor) {
      const unique = [...new Set(ids)];
      const results: ReplayResult[] = [];
      // One at a time: each goes through its provider's handler and commits on its own, as a live request would.
      for (const id of unique) results.push(await one(id));
      const now = Date.now();
      // Marking the rows and the audit entry: one transaction (the domain writes above committed on their own).
      await opts.log.write(async (tx) => {
        for (const r of results) {
          if (r.outcome === 'not_found') continue;
          await tx
            .update(webhookLog)
            .set({
              replayedAt: now,
              replayOutcome: r.outcome,
              replayStatus: r.status,
              replayError: r.reason === null ? null : r.reason.slice(0, 2000),
            })
            .where(eq(webhookLog.id, r.id));
        }
        await recordAudit(tx, {
          actor,
          action: 'webhook_log.replayed',
          detail: { count: unique.length, ids: unique, outcomes: tally(results) },
          now,
        });
      });
      opts.logger.info({ count: unique.length, outcomes: tally(results) }, 'webhook_log replayed');
      return results;
    },
  };
}

/** Sets refusals aside (they no longer need review); answers how many existed. */
export async function dismissWebhookLog(log: EventLog, ids: readonly number[], actor: AuditActor): Promise<number> {
  const unique = [...new Set(ids)];
  return await log.write(async (tx) => {
    const now = Date.now();
    const found = await tx
      .update(webhookLog)
      .set({ dismissedAt: now })
      .where(inArray(webhookLog.id, unique))
      .returning({ id: webhookLog.id });
    await recordAudit(tx, { actor, action: 'webhook_log.dismissed', detail: { count: found.length, ids: found.map((f) => f.id) }, now });
    return found.length;
  });
}

function tally(results: readonly ReplayResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) out[r.outcome] = (out[r.outcome] ?? 0) + 1;
  return out;
}

function parseObject(text: string | null): Record<string, unknown> {
  if (text === null) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
