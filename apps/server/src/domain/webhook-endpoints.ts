/**
 * Outbound webhook endpoints: what an admin registers (URL, event types, description), the secrets
 * that sign deliveries and the durable cursor. The delivery loop's reads and writes and the record of
 * attempts: webhook-deliveries.ts.
 *
 * Secrets: signing needs the secret itself (HMAC), so it cannot be stored as a hash. It is stored
 * encrypted with AES-256-GCM under a key kept in a file beside the database (`<db>.webhook-secret-key`,
 * mode 0600, like the sandbox's signing secrets), so a copy of the database alone does not reveal it;
 * it is returned to a client exactly once (create, rotateSecret) and never logged.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { MAX_WEBHOOK_ENDPOINTS, WEBHOOK_EVENT_TYPES, type WebhookEndpointDto, type WebhookEventType } from '@parley/shared';
import type { Config } from '../config';
import type { Db } from '../db/client';
import { webhookEndpoints } from '../db/tables';
import { AppError } from '../errors';
import type { EventLog } from '../events/log';
import { keptSecret } from '../secrets';
import { recordAudit, type AuditActor } from './audit';
import { one } from '../db/store';

/** After a rotation the previous secret keeps signing (beside the new one) this long. */
export const SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;

export type EndpointRow = typeof webhookEndpoints.$inferSelect;

// ---- secrets ----------------------------------------------------------------------------------

const keys = new WeakMap<Config, Buffer>();
/** The key webhook secrets are encrypted under (one per database; fresh per process for :memory:). */
export function secretKey(config: Config): Buffer {
  let key = keys.get(config);
  if (!key) {
    key = Buffer.from(keptSecret(config, 'webhook-secret-key'), 'hex');
    keys.set(config, key);
  }
  return key;
}

/** A new signing secret: `whsec_` + base64 of 32 random bytes (the Standard Webhooks form). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export function sealSecret(key: Buffer, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), sealed.toString('base64')].join('.');
}

export function openSecret(key: Buffer, stored: string): string {
  const [version, iv, tag, sealed] = stored.split('.');
  if (version !== 'v1' || !iv || !tag || !sealed) throw new Error('unreadable webhook secret');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
  decipher.setAuthTag(Buffer.from(tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(sealed, 'base64')), decipher.final()]).toString('utf8');
}

// ---- reading ----------------------------------------------------------------------------------

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function parseEvents(json: string): WebhookEventType[] {
  const list = JSON.parse(json) as string[];
  return WEBHOOK_EVENT_TYPES.filter((t) => list.includes(t));
}

export function toEndpointDto(row: EndpointRow, now = Date.now()): WebhookEndpointDto {
  return {
    id: row.id,
    url: row.url,
    events: parseEvents(row.events),
    description: row.description,
    enabled: row.enabled,
    disabledReason: row.enabled ? null : row.disabledReason,
    lastEventId: row.cursor,
    failures: row.failures,
    nextAttemptAt: iso(row.nextAttemptAt),
    previousSecretUntil:
      row.previousSecret && row.previousSecretUntil !== null && row.previousSecretUntil > now ? iso(row.previousSecretUntil) : null,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}

export async function listEndpoints(db: Db): Promise<WebhookEndpointDto[]> {
  return (await db.select().from(webhookEndpoints).orderBy(webhookEndpoints.id)).map((r) => toEndpointDto(r));
}

export async function endpointRow(db: Db, id: number): Promise<EndpointRow> {
  const row = (await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)))[0];
  if (!row) throw new AppError('NOT_FOUND', `No webhook endpoint ${id}`);
  return row;
}

// ---- admin actions (each audited in its own transaction) ----------------------------------------

interface ActionDeps {
  log: EventLog;
  config: Config;
  actor: AuditActor;
  now?: number;
}

/** What the audit log keeps of a URL: scheme and host (a path or query may carry a capability). */
const origin = (url: string) => {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
};

export async function createEndpoint(
  deps: ActionDeps & { url: string; events: WebhookEventType[]; description?: string | undefined; createdBy: number | null },
): Promise<{ endpoint: WebhookEndpointDto; secret: string }> {
  const now = deps.now ?? Date.now();
  const secret = newWebhookSecret();
  const sealed = sealSecret(secretKey(deps.config), secret);
  const row = await deps.log.write(async (tx) => {
    const count = (await tx.select({ n: sql<number>`count(*)` }).from(webhookEndpoints))[0]?.n ?? 0;
    if (count >= MAX_WEBHOOK_ENDPOINTS)
      throw new AppError('CONFLICT', `At most ${MAX_WEBHOOK_ENDPOINTS} webhook endpoints; delete one first`);
    // Deliveries start with the events after this one (replay reaches back further).
    const last = { id: await deps.log.lastId() };
    const inserted = one(
      await tx
        .insert(webhookEndpoints)
        .values({
          url: deps.url,
          events: JSON.stringify(deps.events),
          description: deps.description ?? '',
          enabled: true,
          cursor: last.id,
          secret: sealed,
          createdBy: deps.createdBy,
          createdAt: now,
          updatedAt: now,
        })
        .returning(),
    );
    await recordAudit(tx, {
      actor: deps.actor,
      action: 'webhook_endpoint.created',
      target: { type: 'webhook_endpoint', id: inserted.id },
      detail: { origin: origin(deps.url), events: deps.events },
      now,
    });
    return inserted;
  });
  return { endpoint: toEndpointDto(row, now), secret };
}

export async function updateEndpoint(
  deps: ActionDeps & { id: number; url?: string | undefined; events?: WebhookEventType[] | undefined; enabled?: boolean | undefined },
): Promise<WebhookEndpointDto> {
  const now = deps.now ?? Date.now();
  const row = await deps.log.write(async (tx) => {
    const before = (await tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, deps.id)))[0];
    if (!before) throw new AppError('NOT_FOUND', `No webhook endpoint ${deps.id}`);
    const changes: Partial<EndpointRow> = { updatedAt: now };
    const changed: string[] = [];
    if (deps.url !== undefined && deps.url !== before.url) {
      changes.url = deps.url;
      changed.push('url');
    }
    if (deps.events !== undefined) {
      changes.events = JSON.stringify(deps.events);
      changed.push('events');
    }
    if (deps.enabled !== undefined && deps.enabled !== before.enabled) {
      changed.push('enabled');
      changes.enabled = deps.enabled;
      // Enabled again: it resumes after its cursor (the event that kept failing is tried first), afresh.
      if (deps.enabled) Object.assign(changes, { disabledReason: null, failures: 0, nextAttemptAt: null });
      else changes.disabledReason = 'Disabled by an admin';
    }
    const after = one(await tx.update(webhookEndpoints).set(changes).where(eq(webhookEndpoints.id, deps.id)).returning());
    await recordAudit(tx, {
      actor: deps.actor,
      action: 'webhook_endpoint.updated',
      target: { type: 'webhook_endpoint', id: deps.id },
      detail: {
        changed,
        ...(changed.includes('url') ? { origin: origin(after.url) } : {}),
        ...(deps.events ? { events: deps.events } : {}),
        ...(deps.enabled !== undefined ? { enabled: after.enabled } : {}),
      },
      now,
    });
    return after;
  });
  return toEndpointDto(row, now);
}

export async function deleteEndpoint(deps: ActionDeps & { id: number }): Promise<{ id: number }> {
  const now = deps.now ?? Date.now();
  await deps.log.write(async (tx) => {
    const row = (await tx.delete(webhookEndpoints).where(eq(webhookEndpoints.id, deps.id)).returning())[0];
    if (!row) throw new AppError('NOT_FOUND', `No webhook endpoint ${deps.id}`);
    await recordAudit(tx, {
      actor: deps.actor,
      action: 'webhook_endpoint.deleted',
      target: { type: 'webhook_endpoint', id: deps.id },
      detail: { origin: origin(row.url) },
      now,
    });
  });
  return { id: deps.id };
}

/** A new secret; the current one keeps signing beside it for SECRET_OVERLAP_MS (a second rotation drops the oldest). */
export async function rotateSecret(deps: ActionDeps & { id: number }): Promise<{ secret: string; previousSecretUntil: string }> {
  const now = deps.now ?? Date.now();
  const secret = newWebhookSecret();
  const key = secretKey(deps.config);
  const until = now + SECRET_OVERLAP_MS;
  await deps.log.write(async (tx) => {
    const row = (await tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, deps.id)))[0];
    if (!row) throw new AppError('NOT_FOUND', `No webhook endpoint ${deps.id}`);
    await tx
      .update(webhookEndpoints)
      .set({ secret: sealSecret(key, secret), previousSecret: row.secret, previousSecretUntil: until, updatedAt: now })
      .where(eq(webhookEndpoints.id, deps.id));
    await recordAudit(tx, {
      actor: deps.actor,
      action: 'webhook_endpoint.secret_rotated',
      target: { type: 'webhook_endpoint', id: deps.id },
      detail: { previousSecretUntil: new Date(until).toISOString() },
      now,
    });
  });
  return { secret, previousSecretUntil: new Date(until).toISOString() };
}

/**
 * Deliver again every wanted event with id ≥ fromEventId (in order, each with its own webhook-id):
 * the cursor moves back to fromEventId − 1, and a pending backoff is cleared.
 */
export async function replayEndpoint(deps: ActionDeps & { id: number; fromEventId: number }): Promise<WebhookEndpointDto> {
  const now = deps.now ?? Date.now();
  if (!(await deps.log.canResumeAfter(deps.fromEventId - 1))) {
    throw new AppError(
      'BAD_REQUEST',
      `Events before #${await deps.log.firstId()} were compacted: replay from #${await deps.log.firstId()} or later`,
    );
  }
  const last = await deps.log.lastId();
  if (deps.fromEventId > last + 1) throw new AppError('BAD_REQUEST', `There is no event #${deps.fromEventId} yet (the last is #${last})`);
  const row = await deps.log.write(async (tx) => {
    const after = (
      await tx
        .update(webhookEndpoints)
        .set({ cursor: deps.fromEventId - 1, failures: 0, nextAttemptAt: null, updatedAt: now })
        .where(eq(webhookEndpoints.id, deps.id))
        .returning()
    )[0];
    if (!after) throw new AppError('NOT_FOUND', `No webhook endpoint ${deps.id}`);
    await recordAudit(tx, {
      actor: deps.actor,
      action: 'webhook_endpoint.replayed',
      target: { type: 'webhook_endpoint', id: deps.id },
      detail: { fromEventId: deps.fromEventId },
      now,
    });
    return after;
  });
  return toEndpointDto(row, now);
}
