import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { vonageInboundSchema } from '@parley/shared';
import type { Db } from '../db/client';
import { contacts } from '../db/tables';
import type { EventLog } from '../events/log';
import { inboundPayload } from '../testing/harness';
import { openTestDb, type TempDb } from '../testing/temp-db';
import { exportOptOuts, listContacts, updateContactName } from './contact-admin';
import { upsertContact } from './contacts';
import { setOptOut } from './optout';
import { receiveInbound } from './receive';

let t: TempDb;
let db: Db;
let log: EventLog;
beforeEach(async () => {
  t = await openTestDb('parley-contacts-');
  ({ db, log } = t);
});
afterEach(async () => await t.dispose());

const contact = async (phone: string, name: string | null = null) => {
  const id = (await log.write(async (tx) => await upsertContact(tx, phone, Date.now()))).id;
  if (name !== null) await db.update(contacts).set({ name });
  return id;
};
const inbound = async (from: string, to = '447700900000', text = 'hello') =>
  await receiveInbound({ log, inbound: vonageInboundSchema.parse(inboundPayload({ from, to, text })) });

describe('listContacts', () => {
  it('lists newest first with conversation count and last activity; searches by name or digits; filters opt-outs; pages', async () => {
    await inbound('447700900001');
    await inbound('447700900001', '447700900099');
    await inbound('447700900002');
    const c3 = await contact('+14155550103');
    await updateContactName({ log, id: c3, name: 'Zoë Smith' });
    await setOptOut({ log, contactId: c3, optedOut: true, source: 'agent' });

    const all = await listContacts({ db });
    expect(all.items.map((c) => [c.phone, c.name, c.conversationCount, c.lastMessageAt !== null, c.optedOutAt !== null])).toEqual([
      ['+14155550103', 'Zoë Smith', 0, false, true],
      ['+447700900002', null, 1, true, false],
      ['+447700900001', null, 2, true, false],
    ]);
    expect(all.nextCursor).toBeNull();
    expect((await listContacts({ db, search: 'smith' })).items.map((c) => c.phone)).toEqual(['+14155550103']);
    expect((await listContacts({ db, search: '(415) 555' })).items.map((c) => c.phone)).toEqual(['+14155550103']);
    expect((await listContacts({ db, search: '7700 900001' })).items.map((c) => c.phone)).toEqual(['+447700900001']);
    expect((await listContacts({ db, search: '100%_' })).items).toEqual([]);
    expect((await listContacts({ db, optedOut: true })).items.map((c) => [c.phone, c.optOutSource])).toEqual([['+14155550103', 'agent']]);
    expect((await listContacts({ db, optedOut: false })).items).toHaveLength(2);

    const first = await listContacts({ db, limit: 2 });
    expect(first.items).toHaveLength(2);
    const rest = await listContacts({ db, limit: 2, cursor: first.nextCursor });
    expect(rest.items.map((c) => c.phone)).toEqual(['+447700900001']);
    expect(rest.nextCursor).toBeNull();
  });
});

describe('updateContactName', () => {
  it('renames, appending contact.updated and conversation.updated per conversation; unchanged appends nothing', async () => {
    await inbound('447700900001');
    await inbound('447700900001', '447700900099');
    const id = (await db.select().from(contacts))[0]?.id ?? 0;
    const before = await log.lastId();
    expect((await updateContactName({ log, id, name: '  Ann Lee ' })).name).toBe('Ann Lee');
    const appended = await log.readAfter(before);
    expect(appended.map((e) => e.type)).toEqual(['contact.updated', 'conversation.updated', 'conversation.updated']);
    expect(appended.every((e) => (e.type === 'conversation.updated' ? e.payload.conversation.contactName === 'Ann Lee' : true))).toBe(true);

    const again = await log.lastId();
    await updateContactName({ log, id, name: 'Ann Lee' });
    expect(await log.lastId()).toBe(again);
    expect((await updateContactName({ log, id, name: '  ' })).name).toBeNull();
    await expect(updateContactName({ log, id: 999, name: 'x' })).rejects.toThrow('Contact 999 not found');
  });
});

describe('exportOptOuts', () => {
  it('CSV of opted-out contacts, earliest first, with when and how; quoting and formula guard', async () => {
    const a = await contact('+447700900001');
    const b = await contact('+447700900002');
    await contact('+447700900003');
    await db
      .update(contacts)
      .set({ optedOutAt: Date.parse('2026-03-02T10:00:00Z'), optOutSource: 'keyword', name: 'Smith, "Jo"' })
      .where(eqId(a));
    await db
      .update(contacts)
      .set({ optedOutAt: Date.parse('2026-03-01T09:00:00Z'), optOutSource: 'import', name: '=HYPERLINK("x")' })
      .where(eqId(b));
    const out = await exportOptOuts({ db, now: Date.parse('2026-03-05T00:00:00Z') });
    expect(out).toEqual({
      filename: 'parley-opt-outs-2026-03-05.csv',
      count: 2,
      csv:
        'phone,name,opted_out_at,source\r\n' +
        '+447700900002,"\'=HYPERLINK(""x"")",2026-03-01T09:00:00.000Z,import\r\n' +
        '+447700900001,"Smith, ""Jo""",2026-03-02T10:00:00.000Z,keyword\r\n',
    });
    expect((await exportOptOuts({ db: t.db })).count).toBe(2);
  });
});

const eqId = (id: number) => eq(contacts.id, id);
