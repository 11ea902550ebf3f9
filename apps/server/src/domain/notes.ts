/**
 * Internal notes on a conversation, with @mentions: a note is inbox state, written through the event
 * log (`note.created`); a mention names an agent by a handle derived from their name or email.
 */
import { asc, desc, eq, isNull } from 'drizzle-orm';
import type { NoteDto } from '@parley/shared';
import type { Db } from '../db/client';
import { agents, conversations, notes } from '../db/tables';
import { AppError } from '../errors';
import type { EventLog } from '../events/log';
import type { AgentDto } from './agents';
import { one } from '../db/store';

// ── notes and @mentions ───────────────────────────────────────────────────────────────────────────

/** Lower-case letters and digits only: "Ann-Marie O'Neil" → "annmarieoneil". */
const handleOf = (s: string) =>
  s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');

/**
 * The handles an agent answers to: their first name, their whole name without spaces or punctuation
 * and their email's local part, compared without case ("@ann", "@AnnLee", "@ann.lee" all mention
 * Ann Lee). A first name two agents share mentions both; the whole name picks one.
 */
export function handlesOf(agent: Pick<AgentDto, 'name' | 'email'>): string[] {
  const first = agent.name.trim().split(/\s+/)[0] ?? '';
  const local = agent.email.split('@')[0] ?? '';
  return [...new Set([handleOf(first), handleOf(agent.name), handleOf(local)].filter((h) => h !== ''))];
}

/** The `@word` tokens of a text (an email address like a@b.c is not a mention). */
export function mentionTokens(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?<![\p{L}\p{N}_.@])@([\p{L}\p{N}][\p{L}\p{N}._'-]*)/gu)) {
    const h = handleOf(m[1] ?? '');
    if (h !== '') out.push(h);
  }
  return out;
}

/** Ids of the enabled agents a text mentions. */
export async function resolveMentions(db: Db, text: string): Promise<number[]> {
  const tokens = new Set(mentionTokens(text));
  if (tokens.size === 0) return [];
  return (await db.select().from(agents).where(isNull(agents.disabledAt)).orderBy(asc(agents.id)))
    .filter((a) => handlesOf(a).some((h) => tokens.has(h)))
    .map((a) => a.id);
}

type NoteRow = typeof notes.$inferSelect;

export function toNoteDto(n: NoteRow): NoteDto {
  let mentions: number[] = [];
  try {
    const parsed: unknown = JSON.parse(n.mentions);
    if (Array.isArray(parsed)) mentions = parsed.filter((v): v is number => Number.isInteger(v));
  } catch {
    // an unreadable list mentions nobody
  }
  return {
    id: n.id,
    conversationId: n.conversationId,
    agentId: n.agentId,
    text: n.text,
    mentions,
    createdAt: new Date(n.createdAt).toISOString(),
  };
}

/** Writes a note and its `note.created` event in one transaction. No outbox row: it is never sent. */
export async function addNote(opts: { log: EventLog; agentId: number; conversationId: number; text: string }): Promise<NoteDto> {
  const { log } = opts;
  const db = log.db;
  const text = opts.text.trim();
  const mentions = await resolveMentions(db, text);
  return await log.write(async (tx, append) => {
    const conversation = (
      await tx.select({ id: conversations.id }).from(conversations).where(eq(conversations.id, opts.conversationId))
    )[0];
    if (!conversation) throw new AppError('NOT_FOUND', `Conversation ${opts.conversationId} not found`);
    const row = one(
      await tx
        .insert(notes)
        .values({
          conversationId: opts.conversationId,
          agentId: opts.agentId,
          text,
          mentions: JSON.stringify(mentions),
          createdAt: Date.now(),
        })
        .returning(),
    );
    const note = toNoteDto(row);
    append({ type: 'note.created', payload: { note, mentions } });
    return note;
  });
}

/** A conversation's notes, oldest first (a thread rarely has many; capped at the newest 500). */
export async function listNotes(db: Db, conversationId: number): Promise<NoteDto[]> {
  const exists = (await db.select({ id: conversations.id }).from(conversations).where(eq(conversations.id, conversationId)))[0];
  if (!exists) throw new AppError('NOT_FOUND', `Conversation ${conversationId} not found`);
  const rows = await db
    .select()
    .from(notes)
    .where(eq(notes.conversationId, conversationId))
    .orderBy(desc(notes.createdAt), desc(notes.id))
    .limit(500);
  return rows.reverse().map(toNoteDto);
}
