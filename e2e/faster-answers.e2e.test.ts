import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { eventually, screenshot } from './support/browser';
import { useE2e } from './support/e2e';

/** Issue 13 (faster answers) in Chromium: canned replies through `/`, snooze woken by an inbound, Retry. */
const ADA = '+447700900124';
const REFUSED_ONCE = '+447700900422';

let page: Page;
let baseUrl: string;

async function trpc<T>(path: string, input: unknown): Promise<T> {
  const res = await page.request.post(`${baseUrl}/trpc/${path}`, { data: input });
  expect(res.status(), await res.text()).toBe(200);
  return ((await res.json()) as { result: { data: T } }).result.data;
}

const row = (text: string) => page.locator('.conversation-row', { hasText: text });
const bubble = (text: string) => page.locator('.message', { has: page.locator('.bubble', { hasText: text }) });

describe('faster answers in Chromium', () => {
  useE2e({}, (e2e) => void ({ page, baseUrl } = e2e));

  it('manages canned replies, refusing an unknown field by name', async () => {
    await page.getByRole('link', { name: 'Canned replies' }).click();
    await page.getByRole('heading', { name: 'Canned replies' }).waitFor();
    await page.getByTestId('canned-shortcut').fill('ship');
    await page.getByTestId('canned-text').fill('Hi {name}, order {order} shipped');
    await page.getByRole('button', { name: 'Add canned reply' }).click();
    await expect(page.getByTestId('canned-error').textContent()).resolves.toContain('{order}');
    await page.getByTestId('canned-text').fill('Hi {name}, your order shipped today. {agent}');
    await page.getByRole('button', { name: 'Add canned reply' }).click();
    await page.getByRole('cell', { name: '/ship' }).waitFor();
    await page.getByTestId('canned-shortcut').fill('sig');
    await page.getByTestId('canned-text').fill('Thanks, {first_name}!');
    await page.getByRole('button', { name: 'Add canned reply' }).click();
    await page.getByRole('cell', { name: '/sig' }).waitFor();
    await screenshot(page, 'canned-replies');
  });

  it('inserts a canned reply through / with {name} filled, and sends it', async () => {
    await trpc('sandbox.simulateInbound', { from: ADA, text: 'Where is my parcel?' });
    const res = await page.request.get(`${baseUrl}/trpc/conversation.list?input=${encodeURIComponent(JSON.stringify({ filter: 'all' }))}`);
    const list = ((await res.json()) as { result: { data: { items: { contactId: number }[] } } }).result.data;
    const contactId = list.items[0]?.contactId;
    await trpc('contact.update', { id: contactId, name: 'Ada Lovelace' });
    await page.getByRole('link', { name: 'Inbox' }).click();
    await row('Ada Lovelace').click();
    const input = page.getByLabel('Reply');
    await input.fill('/s');
    await page.getByTestId('canned-picker').waitFor();
    await expect(page.getByTestId('canned-picker').getByRole('option').count()).resolves.toBe(2);
    await input.press('ArrowDown');
    await input.press('ArrowUp');
    await input.press('Enter');
    await eventually(async () => expect(await input.inputValue()).toBe('Hi Ada Lovelace, your order shipped today. Admin'));
    await screenshot(page, 'canned-inserted');
    // Esc closes the picker and leaves the text.
    await input.fill('/sig');
    await input.press('Escape');
    await page.getByTestId('canned-picker').waitFor({ state: 'detached' });
    await expect(input.inputValue()).resolves.toBe('/sig');
    await input.fill('');
    await input.fill('/sig');
    await input.press('Enter');
    await eventually(async () => expect(await input.inputValue()).toBe('Thanks, Ada!'));
    await input.press('Enter');
    await bubble('Thanks, Ada!').locator('.status[data-status="delivered"]').waitFor({ timeout: 15_000 });
  });

  it('snoozes from the header, and an inbound text brings it back to Open live', async () => {
    await page.getByTestId('snooze').click();
    await page.getByTestId('snooze-1h').click();
    await page.getByTestId('status-tag').waitFor();
    await expect(page.getByTestId('status-tag').textContent()).resolves.toMatch(/Snoozed until/);
    await page.getByRole('tab', { name: 'Open', exact: true }).click();
    await row('Ada Lovelace').waitFor({ state: 'detached' });
    await page.getByRole('tab', { name: 'Snoozed', exact: true }).click();
    await row('Ada Lovelace').waitFor();
    await screenshot(page, 'snoozed');
    await page.getByRole('tab', { name: 'Open', exact: true }).click();
    await trpc('sandbox.simulateInbound', { from: ADA, text: 'Any news?' });
    await row('Any news?').waitFor();
    await row('Ada Lovelace').click();
    await page.getByTestId('status-tag').waitFor({ state: 'detached' });
  });

  it('retries a refused message and the retry reaches delivered', async () => {
    await trpc('sandbox.simulateInbound', { from: REFUSED_ONCE, text: 'Send me the code' });
    await row('Send me the code').click();
    const input = page.getByLabel('Reply');
    await input.fill('Your code is 9876');
    await input.press('Enter');
    const first = page.locator('.message[data-status="failed"]', { hasText: 'Your code is 9876' });
    await first.waitFor({ timeout: 15_000 }).catch(async (e: unknown) => {
      await screenshot(page, 'debug-retry');
      throw e;
    });
    await first.getByTestId('retry').click();
    await page.locator('.message[data-status="delivered"]', { hasText: 'Your code is 9876' }).waitFor({ timeout: 15_000 });
    // Both are in the thread; the original offers no second Retry.
    await expect(bubble('Your code is 9876').count()).resolves.toBe(2);
    await first.getByTestId('retry').waitFor({ state: 'detached' });
    await screenshot(page, 'retry-delivered');
  });

  it('schedules a reply from the composer, shows it scheduled, and cancels it', async () => {
    await row('Ada Lovelace').click();
    await page.getByLabel('Reply').fill('Good morning! Calling you at ten.');
    await page.getByTestId('send-later').click();
    await page.getByTestId('send-later-tomorrow').click();
    const scheduled = page.locator('.message[data-status="scheduled"]', { hasText: 'Calling you at ten' });
    await scheduled.waitFor();
    await scheduled.getByTestId('scheduled-for').waitFor();
    await screenshot(page, 'send-later-scheduled');
    await scheduled.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('.message[data-status="failed"]', { hasText: 'Calling you at ten' }).waitFor();
  });
});
