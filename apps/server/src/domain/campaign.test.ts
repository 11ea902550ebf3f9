import { updateSettings } from './settings';
import { eq, inArray } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CampaignCounts, ParleyEvent } from '@parley/shared';
import type { Db } from '../db/client';
import { campaignRecipients, contacts, messages, outbox } from '../db/tables';
import { AppError } from '../errors';
import type { EventLog } from '../events/log';
import { openTestDb, type TempDb } from '../testing/temp-db';
import { cancelCampaign, createCampaign, pauseCampaign, previewCampaign, resumeCampaign } from './campaign';
import { appendCampaignProgress, feedCampaign, finishCampaignIfDone, queuedCampaignMessages } from './campaign-feed';
import { personalise } from './campaign-recipients';
import { listRecipients, loadCampaignDto } from './campaign-views';
import { upsertContact } from './contacts';
import { setOptOut } from './optout';
import { queueMessage } from './send';

const US = '+447700900000';
let t: TempDb;
let db: Db;
let log: EventLog;
beforeEach(async () => {
  t = await openTestDb('parley-campaign-');
  ({ db, log } = t);
  // Not a quiet-hours test: sends must not depend on the hour the suite runs at (quiet-hours.http.test.ts covers them).
  await updateSettings({ log, agentId: null, patch: { quietHours: null } });
});
afterEach(async () => await t.dispose());

const create = (recipients: Parameters<typeof createCampaign>[0]['recipients'], text = 'Sale {name}!', name = 'Spring') =>
  createCampaign({ log, name, text, recipients, ourNumber: US, provider: 'vonage', agentId: 1 });

async function appError(p: Promise<unknown> | (() => unknown)): Promise<AppError> {
  const e: unknown = await (typeof p === 'function' ? Promise.resolve().then(p) : p).then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof AppError)) throw new Error(`expected an AppError, got ${String(e)}`);
  return e;
}

async function optOut(phone: string, source: 'keyword' | 'agent' | 'import' = 'keyword'): Promise<number> {
  const id = (await log.write(async (tx) => await upsertContact(tx, phone, Date.now()))).id;
  await setOptOut({ log, contactId: id, optedOut: true, source });
  return id;
}

const zero: CampaignCounts = {
  total: 0,
  invalid: 0,
  duplicate: 0,
  skipped: 0,
  pending: 0,
  held: 0,
  queued: 0,
  submitted: 0,
  delivered: 0,
  failed: 0,
  interrupted: 0,
  cancelled: 0,
};
const counts = (over: Partial<CampaignCounts>): CampaignCounts => ({ ...zero, ...over });
const progressEvents = async (after = 0) =>
  (await log.readAfter(after, 10_000)).filter(
    (e): e is Extract<ParleyEvent, { type: 'campaign.progress' }> => e.type === 'campaign.progress',
  );

describe('personalise', () => {
  it('replaces {name}, or removes it with the space before it', () => {
    expect(personalise('Hi {name}, 20% off', 'Ann')).toBe('Hi Ann, 20% off');
    expect(personalise('Hi { Name }, 20% off', 'Ann $&')).toBe('Hi Ann $&, 20% off');
    expect(personalise('Hi {name}, 20% off', null)).toBe('Hi, 20% off');
    expect(personalise('{name}, your order is ready', null)).toBe('your order is ready');
    expect(personalise('Thanks {name}!', '')).toBe('Thanks!');
    expect(personalise('No placeholder', 'Ann')).toBe('No placeholder');
  });
});

describe('createCampaign', () => {
  it('reports invalid rows with reasons, collapses duplicates, skips opted-out contacts; writes rows, no messages yet', async () => {
    const stopped = await optOut('+447700900009');
    const before = await log.lastId();
    const c = await create([
      '+447700900001',
      { phone: '+44 7700 900002', name: 'Bea' },
      '12',
      'not a number',
      '447700900001', // same as line 1 in another form
      '+447700900009',
      '',
      { phone: '+447700900003', name: 'Cy' },
    ]);
    expect(c).toMatchObject({
      name: 'Spring',
      text: 'Sale {name}!',
      status: 'running',
      ourNumber: US,
      encoding: 'gsm7',
      segments: 1,
      createdByAgentId: 1,
      finishedAt: null,
    });
    expect(c.counts).toEqual(counts({ total: 8, invalid: 3, duplicate: 1, skipped: 1, pending: 3 }));
    expect(c.problems).toEqual([
      { line: 3, input: '12', state: 'invalid', reason: 'Number is too short' },
      { line: 4, input: 'not a number', state: 'invalid', reason: 'Not a phone number' },
      { line: 5, input: '447700900001', state: 'duplicate', reason: 'Same number as line 1' },
      {
        line: 6,
        input: '+447700900009',
        state: 'skipped',
        reason: expect.stringMatching(/^Opted out on \d{4}-\d\d-\d\d \d\d:\d\d UTC \(by texting STOP\)$/),
      },
      { line: 7, input: '', state: 'invalid', reason: 'Phone number is empty' },
    ]);
    const rows = await db.select().from(campaignRecipients).orderBy(campaignRecipients.id);
    expect(rows.map((r) => [r.line, r.phone, r.name, r.state])).toEqual([
      [1, '+447700900001', null, 'pending'],
      [2, '+447700900002', 'Bea', 'pending'],
      [3, null, null, 'invalid'],
      [4, null, null, 'invalid'],
      [5, '+447700900001', null, 'duplicate'],
      [6, '+447700900009', null, 'skipped'],
      [7, null, null, 'invalid'],
      [8, '+447700900003', 'Cy', 'pending'],
    ]);
    expect(rows[5]?.contactId).toBe(stopped);
    expect(await db.select().from(messages)).toEqual([]);
    expect((await log.readAfter(before)).map((e) => e.type)).toEqual(['campaign.progress']);
  });

  it('reads CSV; refuses (writing nothing) when no row can be sent, or the CSV has no phone column', async () => {
    const c = await create('Name,Mobile\nAnn,+447700900001\n,+447700900002\n');
    expect(c.counts).toEqual(counts({ total: 2, pending: 2 }));
    expect((await listRecipients({ db, id: c.id })).items.map((r) => [r.line, r.name, r.phone])).toEqual([
      [2, 'Ann', '+447700900001'],
      [3, null, '+447700900002'],
    ]);
    await optOut('+447700900005');
    const none = await appError(create(['12', '+447700900005', '+447700900005']));
    expect(none.code).toBe('BAD_REQUEST');
    expect(none.message).toBe('No recipient can be sent to: of 3, 1 invalid, 1 duplicate, 1 opted out (line 1: Number is too short)');
    expect((await appError(create('email\nx@y.z'))).message).toMatch(/no phone column: its header has "email"/);
    expect((await appError(create([]))).message).toBe('No recipients given');
    expect((await appError(create(['+447700900001'], '   '))).message).toBe('Type the message');
    expect((await loadCampaignDto(db, c.id)).id).toBe(c.id);
    expect((await appError(async () => await loadCampaignDto(db, c.id + 1))).code).toBe('NOT_FOUND');
  });

  it('marks a row invalid when its name makes the text too long, or no name leaves it empty', async () => {
    const c = await create(
      [{ phone: '+447700900001', name: 'x'.repeat(200) }, '+447700900002', { phone: '+447700900003', name: 'Ok' }],
      `${'y'.repeat(850)} {name}`,
    );
    expect(c.counts).toMatchObject({ invalid: 1, pending: 2 });
    expect(c.problems[0]?.reason).toBe('With this name the text is 1051 characters; the limit is 1000');
    const empty = await create([{ phone: '+447700900001', name: 'Ann' }, '+447700900002'], '{name}');
    expect(empty.problems).toEqual([{ line: 2, input: '+447700900002', state: 'invalid', reason: 'Without a name the text is empty' }]);
  });

  it('preview: the same report and the cost, nothing written', async () => {
    await optOut('+447700900009');
    const p = await previewCampaign({
      db,
      text: 'Hello {name}',
      recipients: ['+447700900001', { phone: '+447700900002', name: 'é'.repeat(1) + 'z'.repeat(160) }, '+447700900009', 'x'],
    });
    expect(p).toMatchObject({
      encoding: 'gsm7',
      segments: 1,
      sendable: 2,
      totalSegments: 3,
      counts: { total: 4, invalid: 1, duplicate: 0, skipped: 1 },
    });
    expect(p.problems.map((x) => x.state)).toEqual(['skipped', 'invalid']);
    expect(await db.select().from(campaignRecipients)).toEqual([]);
  });
});

describe('feeding', () => {
  it('queues recipients in order into their conversations, personalised, at campaign priority; skips late opt-outs', async () => {
    const existing = await queueMessage({ log, ourNumber: US, to: '+447700900002', text: 'earlier chat', agentId: 1 });
    const c = await create(
      [{ phone: '+447700900001', name: 'Ann' }, '+447700900002', '+447700900003', '+447700900004'],
      'Hi {name}, sale today',
    );
    await optOut('+447700900003', 'agent');

    expect(await feedCampaign({ log, id: c.id, max: 3 })).toEqual({ queued: 2, skipped: 1, held: 0, more: true });
    const sent = await db.select().from(messages).where(eq(messages.campaignId, c.id)).orderBy(messages.id);
    expect(sent.map((m) => [m.to, m.text, m.agentId, m.status])).toEqual([
      ['+447700900001', 'Hi Ann, sale today', null, 'queued'],
      ['+447700900002', 'Hi, sale today', null, 'queued'],
    ]);
    expect(sent[1]?.conversationId).toBe(existing.conversation.id);
    const rows = await db
      .select()
      .from(outbox)
      .where(
        inArray(
          outbox.messageId,
          sent.map((m) => m.id),
        ),
      );
    expect(rows.map((r) => [r.priority, r.state])).toEqual([
      [10, 'queued'],
      [10, 'queued'],
    ]);
    expect((await listRecipients({ db, id: c.id, state: 'skipped' })).items).toEqual([
      expect.objectContaining({
        line: 3,
        state: 'skipped',
        reason: expect.stringMatching(/\(set by an agent\), after the campaign was created$/),
      }),
    ]);
    expect(await queuedCampaignMessages(db, c.id)).toBe(2);
    expect((await loadCampaignDto(db, c.id)).counts).toEqual(counts({ total: 4, skipped: 1, pending: 1, queued: 2 }));

    expect(await feedCampaign({ log, id: c.id, max: 10 })).toEqual({ queued: 1, skipped: 0, held: 0, more: false });
    expect(await feedCampaign({ log, id: c.id, max: 10 })).toEqual({ queued: 0, skipped: 0, held: 0, more: false });
    // Still queued messages: not done yet.
    expect(await finishCampaignIfDone({ log, id: c.id })).toBeNull();
  });

  it("fills in a contact's missing name from the CSV, never over a name it already has", async () => {
    await log.write(
      async (tx) =>
        await tx
          .update(contacts)
          .set({ name: 'Bea (from support)' })
          .where(eq(contacts.id, (await upsertContact(tx, '+447700900002', Date.now())).id)),
    );
    const c = await create([{ phone: '+447700900001', name: ' Ann ' }, { phone: '+447700900002', name: 'Beatrice' }, '+447700900003']);
    await feedCampaign({ log, id: c.id, max: 10 });
    const names = await db.select({ phone: contacts.phone, name: contacts.name }).from(contacts).orderBy(contacts.phone);
    expect(names).toEqual([
      { phone: '+447700900001', name: 'Ann' },
      { phone: '+447700900002', name: 'Bea (from support)' },
      { phone: '+447700900003', name: null },
    ]);
    const updates = (await log.readAfter(0)).flatMap((e) => (e.type === 'conversation.updated' ? [e.payload.conversation] : []));
    expect(updates.find((u) => u.contactPhone === '+447700900001')?.contactName).toBe('Ann');
  });

  it('done once nothing is pending or queued; counts follow the messages; recipients filter by live state', async () => {
    const c = await create(['+447700900001', '+447700900002', '+447700900003', 'bad']);
    await feedCampaign({ log, id: c.id, max: 10 });
    const ids = (await db.select({ id: messages.id }).from(messages).orderBy(messages.id)).map((m) => m.id);
    const settle = async (id: number | undefined, status: string, extra: Partial<typeof messages.$inferInsert> = {}) =>
      await db
        .update(messages)
        .set({ status, ...extra })
        .where(eq(messages.id, id ?? 0));
    await settle(ids[0], 'delivered');
    await settle(ids[1], 'undeliverable', { errorCode: '1170', errorReason: 'Number is invalid or missing' });
    expect(await finishCampaignIfDone({ log, id: c.id })).toBeNull();
    await settle(ids[2], 'interrupted', { errorReason: 'Parley restarted while sending' });
    await db.delete(outbox);

    const before = await log.lastId();
    const done = await finishCampaignIfDone({ log, id: c.id });
    expect(done).toMatchObject({ status: 'done', counts: counts({ total: 4, invalid: 1, delivered: 1, failed: 1, interrupted: 1 }) });
    expect(done?.finishedAt).not.toBeNull();
    expect((await progressEvents(before)).map((e) => e.payload.campaign.status)).toEqual(['done']);
    expect((await listRecipients({ db, id: c.id, state: 'failed' })).items).toEqual([
      expect.objectContaining({
        line: 2,
        phone: '+447700900002',
        state: 'failed',
        reason: 'Number is invalid or missing',
        messageId: ids[1],
      }),
    ]);
    expect((await listRecipients({ db, id: c.id, state: 'delivered' })).items.map((r) => r.line)).toEqual([1]);
    expect((await listRecipients({ db, id: c.id })).items.map((r) => r.state)).toEqual(['delivered', 'failed', 'interrupted', 'invalid']);
    expect((await appendCampaignProgress({ log, id: c.id })).counts).toEqual(done?.counts);
  });

  it('pages recipients with a cursor', async () => {
    const c = await create(Array.from({ length: 7 }, (_, i) => `+4477009000${String(i + 10)}`));
    const first = await listRecipients({ db, id: c.id, limit: 3 });
    expect(first.items.map((r) => r.line)).toEqual([1, 2, 3]);
    const second = await listRecipients({ db, id: c.id, limit: 3, cursor: first.nextCursor });
    const third = await listRecipients({ db, id: c.id, limit: 3, cursor: second.nextCursor });
    expect([...second.items, ...third.items].map((r) => r.line)).toEqual([4, 5, 6, 7]);
    expect(third.nextCursor).toBeNull();
    expect((await appError(async () => await listRecipients({ db, id: c.id, cursor: 'nope' }))).code).toBe('BAD_REQUEST');
  });
});

describe('pause, resume, cancel', () => {
  it('pause holds the unclaimed outbox rows and stops feeding; resume releases them', async () => {
    const c = await create(['+447700900001', '+447700900002', '+447700900003']);
    await feedCampaign({ log, id: c.id, max: 2 });
    const reply = await queueMessage({ log, ourNumber: US, to: '+447700900099', text: 'agent reply', agentId: 1 });
    const [claimed] = await db.select().from(outbox).where(eq(outbox.priority, 10));
    await db
      .update(outbox)
      .set({ state: 'sending' })
      .where(eq(outbox.messageId, claimed?.messageId ?? 0));

    const paused = await pauseCampaign({ log, id: c.id });
    expect(paused.status).toBe('paused');
    const states = async () =>
      (await db.select({ id: outbox.messageId, state: outbox.state }).from(outbox).orderBy(outbox.messageId)).map((r) => r.state);
    // The claimed send and the agent's reply are untouched.
    expect(await states()).toEqual(['sending', 'held', 'queued']);
    expect((await db.select().from(outbox).where(eq(outbox.messageId, reply.message.id)))[0]?.state).toBe('queued');
    expect((await feedCampaign({ log, id: c.id, max: 10 })).queued).toBe(0);
    expect((await pauseCampaign({ log, id: c.id })).status).toBe('paused');
    expect((await appError(async () => await resumeCampaign({ log, id: c.id + 5 }))).message).toBe(`Campaign ${c.id + 5} not found`);

    expect((await resumeCampaign({ log, id: c.id })).status).toBe('running');
    expect(await states()).toEqual(['sending', 'queued', 'queued']);
    expect((await feedCampaign({ log, id: c.id, max: 10 })).queued).toBe(1);
  });

  it('cancel: pending → cancelled, unclaimed messages fail as CANCELLED (with events), claimed ones finish', async () => {
    const c = await create(['+447700900001', '+447700900002', '+447700900003', '+447700900004']);
    await feedCampaign({ log, id: c.id, max: 2 });
    const [first, second] = await db.select().from(outbox).orderBy(outbox.messageId);
    await db
      .update(outbox)
      .set({ state: 'sending' })
      .where(eq(outbox.messageId, first?.messageId ?? 0));
    await pauseCampaign({ log, id: c.id });
    const before = await log.lastId();

    const cancelled = await cancelCampaign({ log, id: c.id });
    expect(cancelled).toMatchObject({ status: 'cancelled', counts: counts({ total: 4, queued: 1, cancelled: 3 }) });
    expect(cancelled.finishedAt).not.toBeNull();
    expect((await db.select().from(outbox)).map((r) => [r.messageId, r.state])).toEqual([[first?.messageId, 'sending']]);
    const failed = (
      await db
        .select()
        .from(messages)
        .where(eq(messages.id, second?.messageId ?? 0))
    )[0];
    expect(failed).toMatchObject({
      status: 'failed',
      errorCode: 'CANCELLED',
      errorReason: 'Campaign cancelled before this message was sent',
    });
    expect((await log.readAfter(before)).map((e) => e.type)).toEqual(['message.status', 'campaign.progress']);
    expect((await listRecipients({ db, id: c.id, state: 'cancelled' })).items.map((r) => [r.line, r.messageId !== null])).toEqual([
      [2, true],
      [3, false],
      [4, false],
    ]);
    expect((await cancelCampaign({ log, id: c.id })).status).toBe('cancelled');
    expect((await feedCampaign({ log, id: c.id, max: 10 })).queued).toBe(0);
  });

  it('refuses what a done or cancelled campaign cannot do, with a readable reason', async () => {
    const c = await create(['+447700900001']);
    await feedCampaign({ log, id: c.id, max: 10 });
    await db.update(messages).set({ status: 'delivered' });
    await db.delete(outbox);
    await finishCampaignIfDone({ log, id: c.id });
    const e = await appError(async () => await pauseCampaign({ log, id: c.id }));
    expect([e.code, e.message]).toEqual(['PRECONDITION_FAILED', `Campaign ${c.id} is done; only a running campaign can be paused`]);
    expect((await appError(async () => await resumeCampaign({ log, id: c.id }))).message).toBe(
      `Campaign ${c.id} is done; only a paused campaign can be resumed`,
    );
    expect((await appError(async () => await cancelCampaign({ log, id: c.id }))).message).toBe(
      `Campaign ${c.id} is done; only a running or paused campaign can be cancelled`,
    );
    const other = await create(['+447700900002']);
    await cancelCampaign({ log, id: other.id });
    expect((await appError(async () => await resumeCampaign({ log, id: other.id }))).message).toMatch(
      /is cancelled; only a paused campaign/,
    );
    expect((await db.select().from(contacts)).length).toBe(1);
  });
});
