/**
 * Workspace settings: one JSON document (row id 1) over the defaults. Reading merges the stored
 * fields over DEFAULT_SETTINGS, so a field added later has its default until an admin sets it.
 * Changes go through the event log (`settings.updated`), like every other state change.
 */
import { and, eq, isNotNull } from 'drizzle-orm';
import { DEFAULT_SETTINGS, settingsSchema, type Settings, type SettingsDto, type SettingsUpdate } from '@parley/shared';
import type { Db } from '../db/client';
import { campaignRecipients, messages, settings } from '../db/tables';
import type { EventLog, Tx } from '../events/log';
import { recordAudit, type AuditActor } from './audit';

const ROW_ID = 1;

/** The last document parsed, by its stored text: an unchanged row is not parsed and validated again (every inbound reads it). */
let parsed: { value: string; updatedAt: number; updatedBy: number | null; dto: SettingsDto } | null = null;

async function rowOf(db: Db | Tx): Promise<typeof settings.$inferSelect | undefined> {
  return (await db.select().from(settings).where(eq(settings.id, ROW_ID)))[0];
}

async function read(db: Db | Tx): Promise<SettingsDto> {
  const row = await rowOf(db);
  if (!row) return { ...DEFAULT_SETTINGS, updatedAt: null, updatedBy: null };
  if (parsed && parsed.value === row.value && parsed.updatedAt === row.updatedAt && parsed.updatedBy === row.updatedBy)
    return { ...parsed.dto };
  const dto = parse(row);
  parsed = { value: row.value, updatedAt: row.updatedAt, updatedBy: row.updatedBy, dto };
  return { ...dto };
}

function parse(row: typeof settings.$inferSelect): SettingsDto {
  let stored: unknown = {};
  try {
    stored = JSON.parse(row.value);
  } catch {
    // an unreadable document counts as the defaults
  }
  // Field by field: a stored value that no longer validates falls back to its default.
  const merged: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  if (typeof stored === 'object' && stored !== null) {
    for (const [key, value] of Object.entries(stored)) {
      const field = settingsSchema.shape[key as keyof Settings];
      if (field?.safeParse(value).success) merged[key] = value;
    }
  }
  return {
    ...(merged as Settings),
    updatedAt: new Date(row.updatedAt).toISOString(),
    updatedBy: row.updatedBy,
  };
}

export async function getSettings(db: Db | Tx): Promise<SettingsDto> {
  return await read(db);
}

/** Applies `patch` (already validated) and appends `settings.updated` with the whole new document. */
export async function updateSettings(opts: {
  log: EventLog;
  agentId: number | null;
  patch: SettingsUpdate;
  now?: number;
  actor?: AuditActor;
}): Promise<SettingsDto> {
  const now = opts.now ?? Date.now();
  return await opts.log.write(async (tx, append) => {
    const current = await read(tx);
    const { updatedAt: _at, updatedBy: _by, ...values } = current;
    const next: Settings = { ...values };
    for (const [key, value] of Object.entries(opts.patch)) {
      if (value !== undefined) (next as Record<string, unknown>)[key] = value;
    }
    const value = JSON.stringify(next);
    await tx
      .insert(settings)
      .values({ id: ROW_ID, value, updatedAt: now, updatedBy: opts.agentId })
      .onConflictDoUpdate({ target: settings.id, set: { value, updatedAt: now, updatedBy: opts.agentId } });
    if (opts.patch.quietHours !== undefined) {
      // A new window (or none): every hold is judged again at the next feeder pass / due scan.
      await tx
        .update(campaignRecipients)
        .set({ state: 'pending', heldUntil: null, reason: null })
        .where(eq(campaignRecipients.state, 'held'));
      await tx
        .update(messages)
        .set({ heldUntil: null })
        .where(and(eq(messages.status, 'scheduled'), isNotNull(messages.heldUntil)));
    }
    if (opts.actor) {
      // Which fields, and the new values of the short ones (the HELP text is long: named only). No secrets live here.
      const fields = Object.keys(opts.patch).filter((k) => (opts.patch as Record<string, unknown>)[k] !== undefined);
      const values = Object.fromEntries(fields.filter((k) => k !== 'helpText').map((k) => [k, (next as Record<string, unknown>)[k]]));
      await recordAudit(tx, {
        actor: opts.actor,
        action: 'settings.updated',
        target: { type: 'settings', id: ROW_ID },
        detail: { fields, values },
        now,
      });
    }
    const dto: SettingsDto = { ...next, updatedAt: new Date(now).toISOString(), updatedBy: opts.agentId };
    append({ type: 'settings.updated', payload: { settings: dto } });
    return dto;
  });
}
