/**
 * MMS attachments (the `media` table): inbound rows written `pending` in the webhook's transaction,
 * moved to `stored` / `refused` by the media fetcher (each move appends `message.updated`: see
 * media-downloads.ts), and outbound uploads attached to a message by message.send.
 */
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { MediaDto, MediaState, MessageDto, ProviderName } from '@parley/shared';
import { media, messages } from '../db/tables';
import type { Db } from '../db/client';
import { mapInOrder, one } from '../db/store';
import { perHandle } from '../db/prepared';
import type { Tx } from '../events/log';
import { AppError } from '../errors';
import { toMessageDto } from './views';

export type Reader = Pick<Db, 'select'> | Tx;
export type MediaRow = typeof media.$inferSelect;
type MessageRow = typeof messages.$inferSelect;

/** An attachment as a provider's webhook names it: where to fetch it, and what the provider says it is. */
export interface InboundMedia {
  url: string;
  contentType: string | null;
  name?: string | null;
  /** Known unusable already (the provider says it failed to store it): kept refused with this reason, never fetched. */
  refusedReason?: string;
}

export function toMediaDto(row: MediaRow): MediaDto {
  return {
    id: row.id,
    contentType: row.contentType ?? row.claimedType ?? 'application/octet-stream',
    size: row.size,
    url: `/media/${row.id}`,
    state: row.state as MediaState,
    reason: row.reason,
    name: row.name,
  };
}

/** One message's attachments, in id order: on every receipt's event (prepared once per database handle). */
const mediaOfMessageQuery = perHandle((db: Db) =>
  db
    .select()
    .from(media)
    .where(eq(media.messageId, sql.placeholder('messageId')))
    .orderBy(asc(media.id))
    .prepare(),
);

async function mediaOfMessage(db: Db, messageId: number): Promise<MediaDto[]> {
  return (await mediaOfMessageQuery(db).execute({ messageId })).map(toMediaDto);
}

/** Each message's attachments (in id order), for a page of messages: one indexed query. */
export async function mediaByMessage(db: Reader, messageIds: readonly number[]): Promise<Map<number, MediaDto[]>> {
  const out = new Map<number, MediaDto[]>();
  if (messageIds.length === 0) return out;
  const rows = await db
    .select()
    .from(media)
    .where(inArray(media.messageId, [...messageIds]))
    .orderBy(asc(media.id));
  for (const row of rows) {
    if (row.messageId === null) continue;
    const list = out.get(row.messageId) ?? [];
    list.push(toMediaDto(row));
    out.set(row.messageId, list);
  }
  return out;
}

/** A message row as its DTO, with its attachments. */
export async function messageDtoOf(db: Db, row: MessageRow): Promise<MessageDto> {
  return toMessageDto(row, await mediaOfMessage(db, row.id));
}

export async function loadMessage(db: Db, id: number): Promise<MessageDto | null> {
  const row = (await db.select().from(messages).where(eq(messages.id, id)))[0];
  return row ? await messageDtoOf(db, row) : null;
}

/** Rows as DTOs with their attachments (one query for all). */
export async function messageDtosOf(db: Reader, rows: readonly MessageRow[]): Promise<MessageDto[]> {
  const byMessage = await mediaByMessage(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((row) => toMessageDto(row, byMessage.get(row.id) ?? []));
}

/** Inside the webhook's transaction: one pending row per attachment, due for download at once. */
export async function insertInboundMediaIn(
  tx: Tx,
  opts: { messageId: number; provider: ProviderName; items: readonly InboundMedia[]; now: number },
): Promise<MediaDto[]> {
  return mapInOrder(opts.items, async (item) =>
    toMediaDto(
      one(
        await tx
          .insert(media)
          .values({
            messageId: opts.messageId,
            direction: 'in',
            state: item.refusedReason === undefined ? 'pending' : 'refused',
            reason: item.refusedReason ?? null,
            provider: opts.provider,
            sourceUrl: item.url === '' ? null : item.url,
            claimedType: item.contentType,
            name: item.name ?? null,
            nextAttemptAt: item.refusedReason === undefined ? opts.now : null,
            createdAt: opts.now,
          })
          .returning(),
      ),
    ),
  );
}

/** An agent's upload, already checked and written to the media store: stored, not attached yet. */
export async function recordUpload(
  db: Db,
  opts: {
    agentId: number;
    contentType: string;
    claimedType: string | null;
    size: number;
    name: string | null;
    sha256: string;
    storageKey: string;
  },
): Promise<MediaDto> {
  const row = one(
    await db
      .insert(media)
      .values({
        direction: 'out',
        state: 'stored',
        claimedType: opts.claimedType,
        contentType: opts.contentType,
        size: opts.size,
        name: opts.name,
        sha256: opts.sha256,
        storageKey: opts.storageKey,
        agentId: opts.agentId,
        createdAt: Date.now(),
      })
      .returning(),
  );
  return toMediaDto(row);
}

/** Uploads that message.send may attach: stored, outbound, not yet on a message. NOT_FOUND / CONFLICT otherwise. */
export async function checkAttachable(db: Reader, ids: readonly number[]): Promise<MediaRow[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .select()
    .from(media)
    .where(inArray(media.id, [...ids]));
  for (const id of ids) {
    const row = rows.find((r) => r.id === id);
    if (!row || row.direction !== 'out') throw new AppError('NOT_FOUND', `Attachment ${id} not found: upload it with POST /media first`);
    if (row.messageId !== null) throw new AppError('CONFLICT', `Attachment ${id} is already on message ${row.messageId}: upload it again`);
    if (row.state !== 'stored') throw new AppError('CONFLICT', `Attachment ${id} is ${row.state}`);
  }
  return ids.map((id) => rows.find((r) => r.id === id) as MediaRow);
}

/** Inside message.send's transaction: the uploads become the message's (only if still unattached). */
export async function attachMediaIn(tx: Tx, messageId: number, ids: readonly number[]): Promise<MediaDto[]> {
  await checkAttachable(tx, ids);
  return mapInOrder(ids, async (id) => {
    const row = (
      await tx
        .update(media)
        .set({ messageId })
        .where(and(eq(media.id, id), isNull(media.messageId)))
        .returning()
    )[0];
    if (!row) throw new AppError('CONFLICT', `Attachment ${id} was attached to another message meanwhile`);
    return toMediaDto(row);
  });
}

/** A retry of an MMS: the original's stored attachments again, on the new message (the files are shared). */
export async function copyMediaIn(tx: Tx, fromMessageId: number, toMessageId: number): Promise<MediaDto[]> {
  const now = Date.now();
  return mapInOrder(await storedMediaOf(tx, fromMessageId), async (row) => {
    const { id: _id, messageId: _m, createdAt: _c, ...rest } = row;
    return toMediaDto(
      one(
        await tx
          .insert(media)
          .values({ ...rest, messageId: toMessageId, createdAt: now })
          .returning(),
      ),
    );
  });
}

export async function loadMediaRow(db: Reader, id: number): Promise<MediaRow | undefined> {
  return (await db.select().from(media).where(eq(media.id, id)))[0];
}

/** A message's stored attachments (what a provider is given to send). */
export async function storedMediaOf(db: Reader, messageId: number): Promise<MediaRow[]> {
  return await db
    .select()
    .from(media)
    .where(and(eq(media.messageId, messageId), eq(media.state, 'stored')))
    .orderBy(asc(media.id));
}

/** The conversation list's preview of a message with attachments: "📷 Photo" for an image alone. */
export function mediaPreview(text: string, contentTypes: readonly (string | null)[]): string | null {
  if (contentTypes.length === 0) return null;
  const images = contentTypes.every((t) => (t ?? '').startsWith('image/'));
  const icon = images ? '📷' : '📎';
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat !== '') return `${icon} ${flat}`;
  if (images) return contentTypes.length > 1 ? `📷 ${contentTypes.length} photos` : '📷 Photo';
  return contentTypes.length > 1 ? `📎 ${contentTypes.length} attachments` : '📎 Attachment';
}
