import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb } from '../db/client';
import type { Db } from '../db/client';
import { contacts, conversations, events, messages, outbox } from '../db/tables';
import { AppError } from '../errors';
import { EventLog } from '../events/log';
import { PRIORITY } from './outbox';
import { MAX_TEXT_CHARS, queueMessage, queueSystemMessage } from './send';

const US = '+447700900000';
let db: Db;
let log: EventLog;

beforeEach(() => {
  db = openDb(':memory:');
  log = new EventLog(db);
});
afterEach(async () => {
  await log.close();
  db.$client.close();
});

const count = async (table: typeof messages | typeof outbox | typeof events | typeof conversations | typeof contacts) =>
  (await db.select({ n: sql<number>`count(*)` }).from(table))[0]?.n ?? 0;

async function appError(fn: () => unknown): Promise<AppError> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected an AppError');
}

describe('queueMessage', () => {
  it('queues a message, its outbox row and two events in one go', async () => {
    const before = Date.now();
    const { message, conversation } = await queueMessage({ log, ourNumber: US, to: '+44 7700 900001', text: 'Hello €', agentId: 7 });
    expect(message).toMatchObject({
      direction: 'out',
      status: 'queued',
      from: US,
      to: '+447700900001',
      text: 'Hello €',
      encoding: 'gsm7',
      segments: 1,
      agentId: 7,
      campaignId: null,
      providerMessageId: null,
      conversationId: conversation.id,
    });
    expect(message.clientRef).toMatch(/^[0-9a-f-]{36}$/);
    expect(conversation).toMatchObject({
      contactPhone: '+447700900001',
      ourNumber: US,
      lastMessageDirection: 'out',
      lastMessagePreview: 'Hello €',
      unreadCount: 0,
    });
    const row = (await db.select().from(outbox).where(eq(outbox.messageId, message.id)))[0];
    expect(row).toMatchObject({ state: 'queued', priority: 0, attempts: 0, lastError: null });
    expect(row?.nextAttemptAt).toBeGreaterThanOrEqual(before);
    expect(row?.nextAttemptAt).toBeLessThanOrEqual(Date.now());
    expect((await log.readAfter(0)).map((e) => e.type)).toEqual(['message.created', 'conversation.updated']);
  });

  it('counts UCS-2 segments and keeps campaign and priority', async () => {
    const text = '😀'.repeat(40); // 80 UTF-16 units → 2 UCS-2 segments
    const { message } = await queueMessage({
      log,
      ourNumber: US,
      to: '+447700900002',
      text,
      agentId: null,
      campaignId: 3,
      priority: PRIORITY.campaign,
    });
    expect(message).toMatchObject({ encoding: 'ucs2', segments: 2, campaignId: 3, agentId: null });
    expect((await db.select().from(outbox))[0]?.priority).toBe(10);
  });

  it('replies in an existing conversation by id, from its number', async () => {
    const first = await queueMessage({ log, ourNumber: '+447700900999', to: '+447700900001', text: 'one', agentId: 1 });
    const { message, conversation } = await queueMessage({
      log,
      ourNumber: US,
      conversationId: first.conversation.id,
      text: 'two',
      agentId: 1,
    });
    expect(conversation.id).toBe(first.conversation.id);
    expect(message).toMatchObject({ from: '+447700900999', to: '+447700900001' });
    expect(await count(conversations)).toBe(1);
  });

  it('refuses bad input with BAD_REQUEST / NOT_FOUND and writes nothing', async () => {
    expect(
      await appError(async () => await queueMessage({ log, ourNumber: US, conversationId: 12, text: 'hi', agentId: 1 })),
    ).toMatchObject({
      code: 'NOT_FOUND',
      message: 'Conversation 12 not found',
    });
    expect(await appError(async () => await queueMessage({ log, ourNumber: US, to: '12', text: 'hi', agentId: 1 }))).toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('too short') as string,
    });
    expect((await appError(async () => await queueMessage({ log, ourNumber: US, text: 'hi', agentId: 1 }))).code).toBe('BAD_REQUEST');
    expect(
      (
        await appError(
          async () => await queueMessage({ log, ourNumber: US, to: '+447700900001', conversationId: 1, text: 'hi', agentId: 1 }),
        )
      ).code,
    ).toBe('BAD_REQUEST');
    expect(
      await appError(async () => await queueMessage({ log, ourNumber: US, to: '+447700900001', text: ' \n ', agentId: 1 })),
    ).toMatchObject({
      code: 'BAD_REQUEST',
      message: 'Message text is empty',
    });
    const long = await appError(
      async () => await queueMessage({ log, ourNumber: US, to: '+447700900001', text: 'x'.repeat(MAX_TEXT_CHARS + 1), agentId: 1 }),
    );
    expect(long).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/1001 characters; the limit is 1000/) as string });
    expect((await count(messages)) + (await count(outbox)) + (await count(events)) + (await count(contacts))).toBe(0);
    // 1000 characters (code points) is fine, even as surrogate pairs (33 per 67-unit segment)
    expect(
      (await queueMessage({ log, ourNumber: US, to: '+447700900001', text: '😀'.repeat(MAX_TEXT_CHARS), agentId: 1 })).message.segments,
    ).toBe(31);
  });

  describe('opted-out contacts', () => {
    async function optOut(phone: string): Promise<number> {
      const at = Date.parse('2025-02-03T12:14:31Z');
      await db.update(contacts).set({ optedOutAt: at, optOutSource: 'keyword' }).where(eq(contacts.phone, phone));
      return at;
    }

    it('refuses with OPTED_OUT, by number or by conversation, and writes nothing', async () => {
      const { conversation } = await queueMessage({ log, ourNumber: US, to: '+447700900001', text: 'before', agentId: 1 });
      await optOut('+447700900001');
      const counts = async () => [
        await count(messages),
        await count(outbox),
        await count(events),
        await count(conversations),
        await count(contacts),
      ];
      const snapshot = await counts();
      const error = await appError(async () => await queueMessage({ log, ourNumber: US, to: '+447700900001', text: 'hi', agentId: 1 }));
      expect(error.code).toBe('OPTED_OUT');
      expect(error.message).toBe(
        'The contact +447700900001 opted out (STOP) on 2025-02-03 12:14 UTC; Parley will not text them until they send START',
      );
      expect(
        (await appError(async () => await queueMessage({ log, ourNumber: US, conversationId: conversation.id, text: 'hi', agentId: 1 })))
          .code,
      ).toBe('OPTED_OUT');
      // a new conversation from another of our numbers is refused too
      expect(
        (await appError(async () => await queueMessage({ log, ourNumber: '+447700900999', to: '+447700900001', text: 'hi', agentId: 1 })))
          .code,
      ).toBe('OPTED_OUT');
      expect(await counts()).toEqual(snapshot);
    });

    it('queues the STOP confirmation with allowOptedOut', async () => {
      await queueMessage({ log, ourNumber: US, to: '+447700900001', text: 'before', agentId: 1 });
      await optOut('+447700900001');
      const { message } = await queueSystemMessage({
        log,
        ourNumber: US,
        to: '+447700900001',
        text: 'You are opted out.',
        allowOptedOut: true,
      });
      expect(message).toMatchObject({ status: 'queued', agentId: null });
      expect(
        (await appError(async () => await queueSystemMessage({ log, ourNumber: US, to: '+447700900001', text: 'HELP text' }))).code,
      ).toBe('OPTED_OUT');
    });
  });
});
