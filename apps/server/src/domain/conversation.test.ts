import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { vonageInboundSchema } from '@parley/shared';
import type { Db } from '../db/client';
import { openTempDb, type TempDb } from '../testing/temp-db';
import { conversations, messages } from '../db/schema';
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
beforeEach(() => {
  t = openTempDb('parley-conv-');
  ({ db, log } = t);
  agentId = insertAgent(db, { email: 'a@x.test', name: 'A', passwordHash: 'x', role: 'agent' }).id;
});
afterEach(() => t.dispose());

/** An inbound text from `from` (digits), returning its conversation id. */
function inbound(from: string, text = 'hello'): number {
  const r = receiveInbound({ log, inbound: vonageInboundSchema.parse(inboundPayload({ from, text })), helpText: 'help' });
  if (r.duplicate) throw new Error('unexpected duplicate');
  return r.message.conversationId;
}
const setLastAt = async (id: number, at: number | null) =>
  await db.update(conversations).set({ lastMessageAt: at }).where(eq(conversations.id, id));

describe('listConversations', () => {
  it('orders by last activity desc then id desc, never-messaged last, and pages with a keyset cursor', () => {
    const ids = ['447700900001', '447700900002', '447700900003', '447700900004', '447700900005'].map((n) => inbound(n));
    const [a, b, c, d, e] = ids as [number, number, number, number, number];
    setLastAt(a, 3000);
    setLastAt(b, 1000);
    setLastAt(c, 3000); // ties with a: higher id first
    setLastAt(d, null);
    setLastAt(e, 2000);
    const expected = [c, a, e, b, d];
    const all = listConversations({ db, agentId, limit: 10 });
    expect(all.items.map((x) => x.id)).toEqual(expected);
    expect(all.nextCursor).toBeNull();

    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page = listConversations({ db, agentId, limit: 2, cursor });
      seen.push(...page.items.map((x) => x.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(expected);
  });

  it('filters open, closed, mine and unassigned', () => {
    const a = inbound('447700900001');
    const b = inbound('447700900002');
    const c = inbound('447700900003');
    assignConversation({ log, id: a, agentId });
    setConversationStatus({ log, id: b, status: 'closed' });
    const ids = (filter: 'open' | 'closed' | 'mine' | 'unassigned' | 'all') =>
      listConversations({ db, agentId, filter })
        .items.map((x) => x.id)
        .sort();
    expect(ids('all')).toEqual([a, b, c].sort());
    expect(ids('open')).toEqual([a, c].sort());
    expect(ids('closed')).toEqual([b]);
    expect(ids('mine')).toEqual([a]);
    expect(ids('unassigned')).toEqual([c]);
  });

  it('searches by number digits in any format, by message text, and escapes LIKE wildcards', () => {
    const a = inbound('447700900123', 'Where is my parcel?');
    const b = inbound('447700900456', '100% sure');
    const ids = (search: string) => listConversations({ db, agentId, search }).items.map((x) => x.id);
    expect(ids('0900 123')).toEqual([a]);
    expect(ids('+44 7700 900456')).toEqual([b]);
    expect(ids('PARCEL')).toEqual([a]);
    expect(ids('100%')).toEqual([b]);
    expect(ids('%')).toEqual([b]);
    expect(ids('nothing like it')).toEqual([]);
    // A word with a digit in it is a text search, not "every number containing 1".
    expect(ids('parcel 1')).toEqual([]);
  });

  it('finds text from the full-text index: substrings, any case, quotes and Unicode, and new messages at once', () => {
    const a = inbound('447700900201', 'Olá, o "pacote" chegou? 📦');
    const b = inbound('447700900202', 'Order ORD-1182 is late');
    const ids = (search: string) => listConversations({ db, agentId, search }).items.map((x) => x.id);
    expect(ids('RD-118')).toEqual([b]);
    expect(ids('"pacote"')).toEqual([a]);
    expect(ids('OLÁ')).toEqual([a]); // the trigram index folds case beyond ASCII, too
    expect(ids('olá')).toEqual([a]);
    expect(ids('chegou? 📦')).toEqual([a]);
    expect(ids('is lat')).toEqual([b]);
    expect(ids('ate')).toEqual([b]);
    // Two characters: below a trigram, answered by a scan.
    expect(ids('d-')).toEqual([b]);
    const c = inbound('447700900203', 'late again');
    expect(ids('late').sort()).toEqual([b, c].sort());
  });

  it('refuses a cursor it did not make', () => {
    expect(() => listConversations({ db, agentId, cursor: 'garbage' })).toThrow(/Invalid cursor/);
  });
});

describe('listMessages', () => {
  it('pages newest first on (created_at, id) without gaps or repeats', async () => {
    const conv = inbound('447700900001', 'm0');
    for (let i = 1; i < 7; i++) inbound('447700900001', `m${i}`);
    // Same created_at for several messages: the id breaks the tie.
    await db.update(messages).set({ createdAt: 5000 }).where(eq(messages.conversationId, conv));
    const texts: string[] = [];
    let cursor: string | null = null;
    do {
      const page = listMessages({ db, conversationId: conv, limit: 3, cursor });
      texts.push(...page.items.map((m) => m.text));
      cursor = page.nextCursor;
    } while (cursor);
    expect(texts).toEqual(['m6', 'm5', 'm4', 'm3', 'm2', 'm1', 'm0']);
  });

  it('NOT_FOUND for a missing conversation', () => {
    expect(() => listMessages({ db, conversationId: 999 })).toThrow(/Conversation 999 not found/);
  });
});

describe('conversation changes', () => {
  const afterNow = () => log.lastId();

  it('markRead zeroes unread and appends conversation.updated once; again appends nothing', () => {
    const id = inbound('447700900001');
    inbound('447700900001');
    expect(getConversation({ db, id }).unreadCount).toBe(2);
    const before = afterNow();
    expect(markRead({ log, id }).unreadCount).toBe(0);
    const events = log.readAfter(before);
    expect(events.map((e) => e.type)).toEqual(['conversation.updated']);
    markRead({ log, id });
    expect(log.readAfter(before)).toHaveLength(1);
  });

  it('assign needs an existing agent; same assignee is a no-op; null unassigns', () => {
    const id = inbound('447700900001');
    expect(() => assignConversation({ log, id, agentId: 999 })).toThrow(/Agent 999 not found/);
    const before = afterNow();
    expect(assignConversation({ log, id, agentId }).assignedAgentId).toBe(agentId);
    assignConversation({ log, id, agentId });
    expect(log.readAfter(before)).toHaveLength(1);
    expect(assignConversation({ log, id, agentId: null }).assignedAgentId).toBeNull();
    expect(log.readAfter(before)).toHaveLength(2);
  });

  it('setStatus appends only on change; NOT_FOUND for a missing conversation', () => {
    const id = inbound('447700900001');
    const before = afterNow();
    setConversationStatus({ log, id, status: 'open' });
    expect(log.readAfter(before)).toHaveLength(0);
    const closed = setConversationStatus({ log, id, status: 'closed' });
    expect(closed.status).toBe('closed');
    const [event] = log.readAfter(before);
    expect(event?.type === 'conversation.updated' && event.payload.conversation.status).toBe('closed');
    expect(() => setConversationStatus({ log, id: 999, status: 'closed' })).toThrow(/not found/);
  });

  it('getContact returns the contact with its conversations', () => {
    const id = inbound('447700900001');
    const contactId = getConversation({ db, id }).contactId;
    const contact = getContact({ db, id: contactId });
    expect(contact.phone).toBe('+447700900001');
    expect(contact.conversations.map((c) => c.id)).toEqual([id]);
    expect(() => getContact({ db, id: 999 })).toThrow(/Contact 999 not found/);
  });
});
