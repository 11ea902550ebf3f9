/** Canned replies: shared by the workspace, each under a unique shortcut (`/shortcut` in the composer). */
import { asc, eq, like, or } from 'drizzle-orm';
import { CANNED_FIELDS, unknownCannedFields, type CannedReplyDto } from '@parley/shared';
import type { Db } from '../db/client';
import { cannedReplies } from '../db/tables';
import { AppError } from '../errors';
import type { EventLog, Tx } from '../events/log';
import { one } from '../db/store';

type Row = typeof cannedReplies.$inferSelect;

function toDto(r: Row): CannedReplyDto {
  return {
    id: r.id,
    shortcut: r.shortcut,
    text: r.text,
    createdBy: r.createdBy,
    createdAt: new Date(r.createdAt).toISOString(),
    updatedAt: new Date(r.updatedAt).toISOString(),
  };
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Every canned reply by shortcut; `search` matches the start of the shortcut or anywhere in the text. */
export async function listCannedReplies(db: Db, search?: string): Promise<CannedReplyDto[]> {
  const s = (search ?? '').trim().replace(/^\//, '');
  const where =
    s === ''
      ? undefined
      : or(like(cannedReplies.shortcut, `${escapeLike(s.toLowerCase())}%`), like(cannedReplies.text, `%${escapeLike(s)}%`));
  return (await db.select().from(cannedReplies).where(where).orderBy(asc(cannedReplies.shortcut)).limit(500)).map(toDto);
}

function checkText(text: string): void {
  const unknown = unknownCannedFields(text);
  if (unknown.length > 0) {
    throw new AppError(
      'BAD_REQUEST',
      `Unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((f) => `{${f}}`).join(', ')}: use ${CANNED_FIELDS.map((f) => `{${f}}`).join(' ')}`,
    );
  }
}

async function checkShortcutFree(tx: Tx, shortcut: string, exceptId?: number): Promise<void> {
  const taken = (await tx.select({ id: cannedReplies.id }).from(cannedReplies).where(eq(cannedReplies.shortcut, shortcut)))[0];
  if (taken && taken.id !== exceptId) throw new AppError('CONFLICT', `The shortcut /${shortcut} is already taken`);
}

export async function createCannedReply(opts: {
  log: EventLog;
  agentId: number | null;
  shortcut: string;
  text: string;
  now?: number;
}): Promise<CannedReplyDto> {
  checkText(opts.text);
  const now = opts.now ?? Date.now();
  return await opts.log.write(async (tx) => {
    await checkShortcutFree(tx, opts.shortcut);
    const row = one(
      await tx
        .insert(cannedReplies)
        .values({ shortcut: opts.shortcut, text: opts.text, createdBy: opts.agentId, createdAt: now, updatedAt: now })
        .returning(),
    );
    return toDto(row);
  });
}

export async function updateCannedReply(opts: {
  log: EventLog;
  id: number;
  shortcut?: string | undefined;
  text?: string | undefined;
  now?: number;
}): Promise<CannedReplyDto> {
  if (opts.text !== undefined) checkText(opts.text);
  const now = opts.now ?? Date.now();
  return await opts.log.write(async (tx) => {
    const row = (await tx.select().from(cannedReplies).where(eq(cannedReplies.id, opts.id)))[0];
    if (!row) throw new AppError('NOT_FOUND', `Canned reply ${opts.id} not found`);
    if (opts.shortcut !== undefined) await checkShortcutFree(tx, opts.shortcut, opts.id);
    const next = one(
      await tx
        .update(cannedReplies)
        .set({ shortcut: opts.shortcut ?? row.shortcut, text: opts.text ?? row.text, updatedAt: now })
        .where(eq(cannedReplies.id, opts.id))
        .returning(),
    );
    return toDto(next);
  });
}

export async function deleteCannedReply(opts: { log: EventLog; id: number }): Promise<{ id: number }> {
  return await opts.log.write(async (tx) => {
    const gone = (await tx.delete(cannedReplies).where(eq(cannedReplies.id, opts.id)).returning({ id: cannedReplies.id }))[0];
    if (!gone) throw new AppError('NOT_FOUND', `Canned reply ${opts.id} not found`);
    return gone;
  });
}
