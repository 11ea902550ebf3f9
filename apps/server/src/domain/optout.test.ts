import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { vonageInboundSchema } from '@parley/shared';
import type { Db } from '../db/client';
import type { EventLog } from '../events/log';
import { openTestDb, type TempDb } from '../testing/temp-db';
import { inboundPayload } from '../testing/harness';
import { upsertConversation } from './contacts';
import { getConversation } from './conversation';
import { setOptOut, setOptOutIn } from './optout';
import { receiveInbound } from './receive';

let t: TempDb;
let db: Db;
let log: EventLog;
beforeEach(async () => {
  t = await openTestDb('parley-optout-');
  ({ db, log } = t);
});
afterEach(async () => await t.dispose());

async function seed(): Promise<{ contactId: number; conversationIds: number[] }> {
  const r = await receiveInbound({ log, inbound: vonageInboundSchema.parse(inboundPayload({ from: '447700900001' })), helpText: 'help' });
  if (r.duplicate) throw new Error('duplicate');
  const contactId = (await getConversation({ db, id: r.message.conversationId })).contactId;
  // A second conversation with the same contact on another of our numbers.
  const second = await log.write(async (tx) => await upsertConversation(tx, contactId, '+447700900999', Date.now()));
  return { contactId, conversationIds: [r.message.conversationId, second.id] };
}

describe('setOptOut', () => {
  it('marks the contact and appends contact.updated plus conversation.updated per conversation', async () => {
    const { contactId, conversationIds } = await seed();
    const before = await log.lastId();
    const { contact, changed } = await setOptOut({ log, contactId, optedOut: true, source: 'agent' });
    expect(changed).toBe(true);
    expect(contact.optedOutAt).not.toBeNull();
    expect(contact.optOutSource).toBe('agent');
    const events = await log.readAfter(before);
    expect(events.map((e) => e.type)).toEqual(['contact.updated', 'conversation.updated', 'conversation.updated']);
    const updated = events.flatMap((e) => (e.type === 'conversation.updated' ? [e.payload.conversation] : []));
    expect(updated.map((c) => c.id).sort()).toEqual([...conversationIds].sort());
    expect(updated.every((c) => c.contactOptedOut)).toBe(true);
  });

  it('opting out again keeps the first time and source and appends nothing; opting in clears it', async () => {
    const { contactId } = await seed();
    const first = (await setOptOut({ log, contactId, optedOut: true, source: 'keyword' })).contact;
    const before = await log.lastId();
    const again = await setOptOut({ log, contactId, optedOut: true, source: 'agent' });
    expect(again).toEqual({ contact: first, changed: false });
    expect(await log.readAfter(before)).toEqual([]);
    const back = await setOptOut({ log, contactId, optedOut: false, source: 'keyword' });
    expect(back.contact.optedOutAt).toBeNull();
    expect(back.contact.optOutSource).toBeNull();
    expect((await log.readAfter(before)).map((e) => e.type)).toEqual(['contact.updated', 'conversation.updated', 'conversation.updated']);
  });

  it('setOptOutIn joins the caller transaction: a rollback undoes it and publishes nothing', async () => {
    const { contactId } = await seed();
    const before = await log.lastId();
    await expect(
      log.write(async (tx, append) => {
        await setOptOutIn(tx, append, { contactId, optedOut: true, source: 'keyword' });
        throw new Error('later step failed');
      }),
    ).rejects.toThrow('later step failed');
    expect(await log.readAfter(before)).toEqual([]);
    expect((await setOptOut({ log, contactId, optedOut: true, source: 'keyword' })).changed).toBe(true);
  });

  it('NOT_FOUND for a missing contact', async () => {
    await expect(setOptOut({ log, contactId: 999, optedOut: true, source: 'agent' })).rejects.toThrow(/Contact 999 not found/);
  });
});
