/** Deleting messages that carry attachments: retention and erasure remove the media rows and name their files. */
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { media } from '../db/tables';
import { openTempDb, type TempDb } from '../testing/temp-db';
import { SYSTEM_ACTOR } from './audit';
import { eraseContact } from './erasure';
import { receiveInbound } from './receive';
import { deleteExpiredBatch } from './retention';

let t: TempDb;
beforeEach(() => (t = openTempDb('parley-media-deletion-')));
afterEach(async () => await t.dispose());

async function photo(from: string, uuid: string, at: string): Promise<{ messageId: number; mediaId: number }> {
  const r = await receiveInbound({
    log: t.log,
    inbound: {
      messageUuid: uuid,
      from,
      to: '+447700900000',
      text: 'here is a photo',
      timestamp: at,
      numMessages: 1,
      price: null,
      currency: null,
      media: [{ url: 'https://api.nexmo.com/v3/media/abc', contentType: 'image/jpeg' }],
    },
    helpText: 'help',
  });
  if (r.duplicate) throw new Error('duplicate');
  const row = (await t.db.select().from(media).where(eq(media.messageId, r.message.id)))[0];
  if (!row) throw new Error('no media row');
  // As if the fetcher had stored it.
  await t.db
    .update(media)
    .set({ state: 'stored', storageKey: `00000000-0000-4000-8000-${String(row.id).padStart(12, '0')}.jpg` })
    .where(eq(media.id, row.id));
  return { messageId: r.message.id, mediaId: row.id };
}

describe('messages with attachments', () => {
  it('retention deletes them (no foreign-key error) and names the files to delete', async () => {
    const old = await photo('+447700900001', 'uuid-old', new Date().toISOString());
    t.db.$client.prepare('update messages set created_at = 0 where id = ?').run(old.messageId);
    const batch = await deleteExpiredBatch({ log: t.log, cutoff: Date.now() - 86_400_000 });
    expect(batch.deleted).toBe(1);
    expect(batch.mediaKeys).toEqual([`00000000-0000-4000-8000-${String(old.mediaId).padStart(12, '0')}.jpg`]);
    expect(await t.db.select().from(media)).toEqual([]);
  });

  it('erasure deletes them and names the files to delete', async () => {
    const p = await photo('+447700900002', 'uuid-erase', new Date().toISOString());
    const contactId = (t.db.$client.prepare("select id from contacts where phone = '+447700900002'").get() as { id: number }).id;
    const result = await eraseContact({ log: t.log, id: contactId, actor: SYSTEM_ACTOR });
    expect(result.mediaKeys).toEqual([`00000000-0000-4000-8000-${String(p.mediaId).padStart(12, '0')}.jpg`]);
    expect(await t.db.select().from(media)).toEqual([]);
  });
});
