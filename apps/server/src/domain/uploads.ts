/**
 * Uploaded attachments that were never attached to a message (`POST /media`, then no send): each
 * agent may hold at most PENDING_UPLOADS_MAX of them at a time, and they are removed (row and file)
 * UPLOAD_TTL_MS after upload. Without both, a signed-in agent or a leaked `send` token could fill
 * the media disk with files nobody ever sends.
 */
import { and, count, eq, gte, isNull, lt } from 'drizzle-orm';
import type { Db } from '../db/client';
import { media } from '../db/tables';
import { runTx } from '../db/store';

/** Unattached uploads one agent may hold at once. */
export const PENDING_UPLOADS_MAX = 20;
/** How long an unattached upload is kept (a day: long enough for a draft, a scheduled send is attached at once). */
export const UPLOAD_TTL_MS = 24 * 3_600_000;
const SWEEP_BATCH = 200;

const unattached = and(isNull(media.messageId), eq(media.direction, 'out'));

/** Uploads of `agentId` not attached to a message yet (and not expired). */
export async function pendingUploads(db: Db, agentId: number, now = Date.now()): Promise<number> {
  const row = (
    await db
      .select({ n: count() })
      .from(media)
      .where(and(unattached, eq(media.agentId, agentId), gte(media.createdAt, now - UPLOAD_TTL_MS)))
  )[0];
  return row?.n ?? 0;
}

/** Deletes unattached uploads older than UPLOAD_TTL_MS (a batch at a time); returns their storage keys, for removal after commit. */
export async function removeStaleUploads(db: Db, now = Date.now()): Promise<string[]> {
  return await runTx(db, async (tx) => {
    const stale = await tx
      .select({ id: media.id, key: media.storageKey })
      .from(media)
      .where(and(unattached, lt(media.createdAt, now - UPLOAD_TTL_MS)))
      .limit(SWEEP_BATCH);
    for (const row of stale) await tx.delete(media).where(and(eq(media.id, row.id), isNull(media.messageId)));
    return stale.flatMap((r) => (r.key ? [r.key] : []));
  });
}
