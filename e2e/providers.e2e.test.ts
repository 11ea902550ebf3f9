import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { screenshot } from './support/browser';
import { useE2e } from './support/e2e';

/** One inbox, numbers on three providers (all sandboxed): a text on the Plivo number is answered through Plivo. */
const PLIVO_NUMBER = '+14155550100';
const SINCH_NUMBER = '+14155550142';
const CUSTOMER = '+447700900777';

let page: Page;

const row = (text: string) => page.locator('.conversation-row', { hasText: text });
const bubble = (text: string) => page.locator('.message', { has: page.locator('.bubble', { hasText: text }) });

describe('several providers in one inbox, in Chromium', () => {
  useE2e({}, (e2e) => void ({ page } = e2e));

  it('receives on the Plivo number through the signed Plivo webhook and replies through Plivo', async () => {
    // The sandbox panel sends through the chosen number's provider: here Plivo's form-encoded, V3-signed path.
    await page.getByRole('button', { name: /sandbox/i }).click();
    await page.getByLabel('From', { exact: true }).fill(CUSTOMER);
    await page.getByLabel('To', { exact: true }).selectOption(PLIVO_NUMBER);
    await page.getByLabel('Text', { exact: true }).fill('Hi from a Plivo number');
    await page.getByRole('button', { name: 'Receive' }).click();
    await row('Hi from a Plivo number').waitFor();
    await expect(row('Hi from a Plivo number').locator('.tag-provider').textContent()).resolves.toBe('Plivo');
    await page.getByRole('button', { name: 'Close the sandbox panel' }).click();

    await row('Hi from a Plivo number').click();
    await page.getByText(`to ${PLIVO_NUMBER} via Plivo`).waitFor();
    const input = page.getByLabel('Reply');
    await input.fill('Answered through Plivo');
    await input.press('Enter');
    const sent = bubble('Answered through Plivo');
    await sent.waitFor();
    // Plivo's sandbox posts `sent` then `delivered` callbacks to /webhooks/plivo/status?ref=…
    await sent.locator('.status[data-status="delivered"]').waitFor({ timeout: 15_000 });
    await screenshot(page, 'inbox-providers');
  });

  it('starts a conversation from the Sinch number and filters the list by number', async () => {
    await page.getByRole('button', { name: 'New conversation' }).click();
    await page.getByLabel('To', { exact: true }).fill('+447700900778');
    await page.getByLabel('From', { exact: true }).selectOption(SINCH_NUMBER);
    await page.getByLabel('Message', { exact: true }).fill('Hello from Sinch');
    await page.getByRole('dialog').getByRole('button', { name: 'Send' }).click();
    const sent = bubble('Hello from Sinch');
    await sent.waitFor();
    await sent.locator('.status[data-status="delivered"]').waitFor({ timeout: 15_000 });
    await page.getByText(`to ${SINCH_NUMBER} via Sinch`).waitFor();

    await page.getByRole('tab', { name: 'All' }).click();
    await page.getByLabel('Number', { exact: true }).selectOption(SINCH_NUMBER);
    await row('Hello from Sinch').waitFor();
    await row('Answered through Plivo').waitFor({ state: 'detached' });
    await page.getByLabel('Number', { exact: true }).selectOption('');
    await row('Answered through Plivo').waitFor();
  });
});
