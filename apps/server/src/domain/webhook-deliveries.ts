/**
 * Outbound webhook deliveries: what the delivery loop reads of an endpoint (its event types and the
 * secrets that sign now), its writes (compare-and-set on the cursor: a replay meanwhile wins), and the
 * bounded record of attempts an admin pages through. The endpoints themselves: webhook-endpoints.ts.
 */
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { WebhookDeliveryDto } from '@parley/shared';
import type { Db } from '../db/client';
import { webhookDeliveries, webhookEndpoints } from '../db/tables';
import type { EventLog } from '../events/log';
import { recordAudit, type AuditActor } from './audit';
import { endpointRow, openSecret, parseEvents, type EndpointRow } from './webhook-endpoints';
import { one, affected } from '../db/store';

/** Delivery rows kept per endpoint (older ones are deleted). */
export const DELIVERIES_KEPT = 200;
const DELIVERIES_PAGE = 50;

/** What the delivery loop needs: the row, its event types as a set and the secrets that sign now. */
export interface DeliveryTarget {
  row: EndpointRow;
  events: Set<string>;
  secrets: string[];
}

export async function deliveryTarget(db: Db, key: Buffer, id: number, now: number): Promise<DeliveryTarget | null> {
  const row = (await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)))[0];
  if (!row) return null;
  const secrets = [openSecret(key, row.secret)];
  if (row.previousSecret && row.previousSecretUntil !== null && row.previousSecretUntil > now)
    secrets.push(openSecret(key, row.previousSecret));
  return { row, events: new Set(parseEvents(row.events)), secrets };
}

export function toDeliveryDto(row: typeof webhookDeliveries.$inferSelect): WebhookDeliveryDto {
  return {
    id: row.id,
    endpointId: row.endpointId,
    eventId: row.eventId,
    webhookId: row.webhookId,
    eventType: row.eventType,
    attempt: row.attempt,
    status: row.status,
    responseStatus: row.responseStatus,
    responseExcerpt: row.responseExcerpt,
    error: row.error,
    latencyMs: row.latencyMs,
    at: new Date(row.at).toISOString(),
  };
}

/** Newest first, DELIVERIES_PAGE at a time; `cursor` is the last id of the previous page. */
export async function listDeliveries(
  db: Db,
  id: number,
  cursor?: number,
): Promise<{ items: WebhookDeliveryDto[]; nextCursor: number | null }> {
  await endpointRow(db, id);
  const rows = await db
    .select()
    .from(webhookDeliveries)
    .where(
      cursor === undefined
        ? eq(webhookDeliveries.endpointId, id)
        : and(eq(webhookDeliveries.endpointId, id), lt(webhookDeliveries.id, cursor)),
    )
    .orderBy(desc(webhookDeliveries.id))
    .limit(DELIVERIES_PAGE + 1);
  const items = rows.slice(0, DELIVERIES_PAGE).map(toDeliveryDto);
  return { items, nextCursor: rows.length > DELIVERIES_PAGE ? (items[items.length - 1]?.id ?? null) : null };
}
// ---- the delivery loop's writes (compare-and-set on the cursor: a replay meanwhile wins) -------------

export interface DeliveryRecord {
  endpointId: number;
  eventId: number | null;
  webhookId: string;
  eventType: string;
  attempt: number;
  status: 'succeeded' | 'failed';
  responseStatus: number | null;
  responseExcerpt: string | null;
  error: string | null;
  latencyMs: number;
  at: number;
}

/** Stores an attempt and keeps only the newest DELIVERIES_KEPT of the endpoint. */
export async function recordDelivery(log: EventLog, record: DeliveryRecord): Promise<WebhookDeliveryDto> {
  return await log.write(async (tx) => {
    const row = one(await tx.insert(webhookDeliveries).values(record).returning());
    if (row.id % 20 === 0) {
      await log.db.$store.execute(
        sql`delete from webhook_deliveries where endpoint_id = ${record.endpointId} and id <= (
              select id from webhook_deliveries where endpoint_id = ${record.endpointId} order by id desc limit 1 offset ${DELIVERIES_KEPT})`,
      );
    }
    return toDeliveryDto(row);
  });
}

/** The cursor moves from `expected` to `to` (failures cleared); false when something else moved it. */
export async function advanceCursor(log: EventLog, id: number, expected: number, to: number): Promise<boolean> {
  return await log.write(
    async (tx) =>
      affected(
        await tx
          .update(webhookEndpoints)
          .set({ cursor: to, failures: 0, nextAttemptAt: null })
          .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.cursor, expected), eq(webhookEndpoints.enabled, true))),
      ) === 1,
  );
}

export async function recordFailure(
  log: EventLog,
  id: number,
  expected: number,
  failures: number,
  nextAttemptAt: number,
): Promise<boolean> {
  return await log.write(
    async (tx) =>
      affected(
        await tx
          .update(webhookEndpoints)
          .set({ failures, nextAttemptAt })
          .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.cursor, expected), eq(webhookEndpoints.enabled, true))),
      ) === 1,
  );
}

/** Disabled by Parley after repeated failures: a visible reason and an audit entry, in one transaction. */
export async function disableAfterFailures(
  log: EventLog,
  deps: {
    id: number;
    expected: number;
    failures: number;
    reason: string;
    eventId: number;
    lastError: string;
    now: number;
    actor: AuditActor;
  },
): Promise<boolean> {
  return await log.write(async (tx) => {
    const changed =
      affected(
        await tx
          .update(webhookEndpoints)
          .set({ enabled: false, disabledReason: deps.reason, failures: deps.failures, nextAttemptAt: null, updatedAt: deps.now })
          .where(and(eq(webhookEndpoints.id, deps.id), eq(webhookEndpoints.cursor, deps.expected), eq(webhookEndpoints.enabled, true))),
      ) === 1;
    if (changed) {
      await recordAudit(tx, {
        actor: deps.actor,
        action: 'webhook_endpoint.disabled',
        target: { type: 'webhook_endpoint', id: deps.id },
        detail: { reason: deps.reason, attempts: deps.failures, eventId: deps.eventId, lastError: deps.lastError },
        now: deps.now,
      });
    }
    return changed;
  });
}

/** Ids of the endpoints that deliver (enabled). */
export async function enabledEndpointIds(db: Db): Promise<number[]> {
  return (await db.select({ id: webhookEndpoints.id }).from(webhookEndpoints).where(eq(webhookEndpoints.enabled, true))).map((r) => r.id);
}
