import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { contacts, messages } from '../db/tables';
import { AppError } from '../errors';
import { inboundPayload, startTestServer, type TestServer } from '../testing/harness';
import { START_CONFIRMATION, STOP_CONFIRMATION } from './keywords';
import { queueMessage } from './send';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ helpText: 'Help is on the way: call 0800 000 000.' }, undefined, { worker: false });
});
afterAll(async () => {
  await s.dispose();
});

const PHONE = '+447700900321';
const outboundTexts = async () =>
  (
    await s.db
      .select({ text: messages.text })
      .from(messages)
      .where(and(eq(messages.to, PHONE), eq(messages.direction, 'out')))
  ).map((m) => m.text);
const contact = async () => (await s.db.select().from(contacts).where(eq(contacts.phone, PHONE)))[0];
const inbound = (text: string) => s.postWebhook('/webhooks/inbound', inboundPayload({ from: PHONE.slice(1), text }));

describe('compliance keywords through the real webhook', () => {
  it('STOP opts out with one confirmation; sends are then refused with a clear error', async () => {
    expect((await inbound('Stop')).status).toBe(200);
    expect(await contact()).toMatchObject({ optOutSource: 'keyword' });
    expect((await contact())?.optedOutAt).not.toBeNull();
    expect((await inbound('UNSUBSCRIBE')).status).toBe(200);
    expect(await outboundTexts()).toEqual([STOP_CONFIRMATION]);

    let error: unknown;
    try {
      await queueMessage({ log: s.events, ourNumber: s.config.vonage.number, to: PHONE, text: 'are you there?', agentId: null });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('OPTED_OUT');
    expect((error as AppError).message).toMatch(/opted out/);
    expect(await outboundTexts()).toEqual([STOP_CONFIRMATION]);
  });

  it('HELP gets the configured help text, START opts back in and sends are allowed again', async () => {
    await inbound('help');
    expect(await outboundTexts()).toContain('Help is on the way: call 0800 000 000.');
    await inbound('START');
    expect((await contact())?.optedOutAt).toBeNull();
    expect(await outboundTexts()).toContain(START_CONFIRMATION);
    const { message } = await queueMessage({
      log: s.events,
      ourNumber: s.config.vonage.number,
      to: PHONE,
      text: 'welcome back',
      agentId: null,
    });
    expect(message.status).toBe('queued');
  });

  it('a sentence containing stop is just a message', async () => {
    const before = (await outboundTexts()).length;
    await inbound('please stop by the shop');
    expect((await contact())?.optedOutAt).toBeNull();
    expect((await outboundTexts()).length).toBe(before);
  });
});
