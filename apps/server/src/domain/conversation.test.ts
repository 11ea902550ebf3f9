import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { vonageInboundSchema } from '@parley/shared';
import type { Db } from '../db/client';
import { openTestDb, type TempDb } from '../testing/temp-db';
import { conversations, messages } from '../db/tables';
import type { EventLog } from '../events/log';
import { inboundPayload } from '../testing/harness';
import { insertAgent } from './agents';
import {
  assignConversation,
  getContact,
  getConversation,
  listConversations,
  listMessages,
  markRead,
  setConversationStatus,
} from './conversation';
import { receiveInbound } from './receive';

let t: TempDb;
let db: Db;
let log: EventLog;
let agentId: number;
beforeEach(async () => {
  t = await openTestDb('parley-conv-');
  ({ db, log } = t);
  agentId = (await insertAgent(db, { email: 'a@x.test', name: 'A', passwordHash: 'x', role: 'agent' })).id;
});
afterEach(async () => await t.dispose());

/** An inbound text from `from` (digits), returning its conversation id. */
async function inbound(from: string, text = 'hello'): Promise<number> {
  const r = await receiveInbound({ log, inbound: vonageInboundSchema.parse(inboundPayload({ from, text })), helpText: 'help' });
  if (r.duplicate) throw new Error('unexpected duplicate');
  return r.message.conversationId;
}
const setLastAt = async (id: number, at: number | null) =>
  await db.update(conversations).set({ lastMessageAt: at }).where(eq(conversations.id, id));

describe('listConversations', () => {
  it('orders by last activity desc then id desc, never-messaged last, and pages with a keyset cursor', async () => {
    const ids: number[] = [];
    for (const n of ['447700900001', '447700900002', '447700900003', '447700900004', '447700900005']) ids.push(await inbound(n));
    const [a, b, c, d, e] = ids as [number, number, number, number, number];
    await setLastAt(a, 3000);
    await setLastAt(b, 1000);
    await setLastAt(c, 3000); // ties with a: higher id first
    await setLastAt(d, null);
    await setLastAt(e, 2000);
    const expected = [c, a, e, b, d];
    const all = await listConversations({ db, agentId, limit: 10 });
    expect(all.items.map((x) => x.id)).toEqual(expected);
    expect(all.nextCursor).toBeNull();

    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await listConversations({ db, agentId, limit: 2, cursor });
      seen.push(...page.items.map((x) => x.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(expected);
  });

  it('filters open, closed, mine and unassigned', async () => {
    const a = await inbound('447700900001');
    const b = await inbound('447700900002');
    const c = await inbound('447700900003');
    await assignConversation({ log, id: a, agentId });
    await setConversationStatus({ log, id: b, status: 'closed' });
    const ids = async (filter: 'open' | 'closed' | 'mine' | 'unassigned' | 'all') =>
      (await listConversations({ db, agentId, filter })).items.map((x) => x.id).sort();
    expect(await ids('all')).toEqual([a, b, c].sort());
    expect(await ids('open')).toEqual([a, c].sort());
    expect(await ids('closed')).toEqual([b]);
    expect(await ids('mine')).toEqual([a]);
    expect(await ids('unassigned')).toEqual([c]);
  });

  it('searches by number digits in any format, by message text, and escapes LIKE wildcards', async () => {
    const a = await inbound('447700900123', 'Where is my parcel?');
    const b = await inbound('447700900456', '100% sure');
    const ids = async (search: string) => (await listConversations({ db, agentId, search })).items.map((x) => x.id);
    expect(await ids('0900 123')).toEqual([a]);
    expect(await ids('+44 7700 900456')).toEqual([b]);
    expect(await ids('PARCEL')).toEqual([a]);
    expect(await ids('100%')).toEqual([b]);
    expect(await ids('%')).toEqual([b]);
    expect(await ids('nothing like it')).toEqual([]);
    // A word with a digit in it is a text search, not "every number containing 1".
    expect(await ids('parcel 1')).toEqual([]);
  });

  it('finds text from the full-text index: substrings, any case, quotes and Unicode, and new messages at once', async () => {
    const a = await inbound('447700900201', 'Olá, o "pacote" chegou? 📦');
    const b = await inbound('447700900202', 'Order ORD-1182 is late');
    const ids = async (search: string) => (await listConversations({ db, agentId, search })).items.map((x) => x.id);
    expect(await ids('RD-118')).toEqual([b]);
    expect(await ids('"pacote"')).toEqual([a]);
    expect(await ids('OLÁ')).toEqual([a]); // the trigram index folds case beyond ASCII, too
    expect(await ids('olá')).toEqual([a]);
    expect(await ids('chegou? 📦')).toEqual([a]);
    expect(await ids('is lat')).toEqual([b]);
    expect(await ids('ate')).toEqual([b]);
    // Two characters: below a trigram, answered by a scan.
    expect(await ids('d-')).toEqual([b]);
    const c = await inbound('447700900203', 'late again');
    expect((await ids('late')).sort()).toEqual([b, c].sort());
  });

  it('refuses a cursor it did not make', async () => {
    await expect(listConversations({ db, agentId, cursor: 'garbage' })).rejects.toThrow(/Invalid cursor/);
  });
});

describe('listMessages', () => {
  it('pages newest first on (created_at, id) without gaps or repeats', async () => {
    const conv = await inbound('447700900001', 'm0');
    for (let i = 1; i < 7; i++) await inbound('447700900001', `m${i}`);
    // Same created_at for several messages: the id breaks the tie.
    await db.update(messages).set({ createdAt: 5000 }).where(eq(messages.conversationId, conv));
    const texts: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await listMessages({ db, conversationId: conv, limit: 3, cursor });
      texts.push(...page.items.map((m) => m.text));
      cursor = page.nextCursor;
    } while (cursor);
    expect(texts).toEqual(['m6', 'm5', 'm4', 'm3', 'm2', 'm1', 'm0']);
  });

  it('NOT_FOUND for a missing conversation', async () => {
    await expect(listMessages({ db, conversationId: 999 })).rejects.toThrow(/Conversation 999 not found/);
  });
});

describe('conversation changes', () => {
  const afterNow = async () => await log.lastId();

  it('markRead zeroes unread and appends conversation.updated once; again appends nothing', async () => {
    const id = await inbound('447700900001');
    await inbound('447700900001');
    expect((await getConversation({ db, id })).unreadCount).toBe(2);
    const before = await afterNow();
    expect((await markRead({ log, id })).unreadCount).toBe(0);
    const events = await log.readAfter(before);
    expect(events.map((e) => e.type)).toEqual(['conversation.updated']);
    await markRead({ log, id });
    expect(await log.readAfter(before)).toHaveLength(1);
  });

  it('assign needs an existing agent; same assignee is a no-op; null unassigns', async () => {
    const id = await inbound('447700900001');
    await expect(assignConversation({ log, id, agentId: 999 })).rejects.toThrow(/Agent 999 not found/);
    const before = await afterNow();
    expect((await assignConversation({ log, id, agentId })).assignedAgentId).toBe(agentId);
    await assignConversation({ log, id, agentId });
    expect(await log.readAfter(before)).toHaveLength(1);
    expect((await assignConversation({ log, id, agentId: null })).assignedAgentId).toBeNull();
    expect(await log.readAfter(before)).toHaveLength(2);
  });

  it('setStatus appends only on change; NOT_FOUND for a missing conversation', async () => {
    const id = await inbound('447700900001');
    const before = await afterNow();
    await setConversationStatus({ log, id, status: 'open' });
    expect(await log.readAfter(before)).toHaveLength(0);
    const closed = await setConversationStatus({ log, id, status: 'closed' });
    expect(closed.status).toBe('closed');
    const [event] = await log.readAfter(before);
    expect(event?.type === 'conversation.updated' && event.payload.conversation.status).toBe('closed');
    await expect(setConversationStatus({ log, id: 999, status: 'closed' })).rejects.toThrow(/not found/);
  });

  it('getContact returns the contact with its conversations', async () => {
    const id = await inbound('447700900001');
    const contactId = (await getConversation({ db, id })).contactId;
    const contact = await getContact({ db, id: contactId });
    expect(contact.phone).toBe('+447700900001');
    expect(contact.conversations.map((c) => c.id)).toEqual([id]);
    await expect(getContact({ db, id: 999 })).rejects.toThrow(/Contact 999 not found/);
  });
});
