import AxeBuilder from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { eventually, screenshot } from './support/browser';
import { useE2e } from './support/e2e';

/** Compliance in Chromium (issue 19): a possible opt-out flagged live and confirmed in one click; an erasure dropping the conversation from another browser live. */
const ASKER = '+447700900611';
const ERASED = '+447700900612';

let a: Page;
let b: Page;
let baseUrl: string;

const row = (page: Page, text: string) => page.locator('.conversation-row', { hasText: text });
const simulate = async (page: Page, from: string, text: string) => {
  const res = await page.request.post(`${baseUrl}/trpc/sandbox.simulateInbound`, { data: { from, text } });
  expect(res.status()).toBe(200);
};

/** Serious and critical axe violations on the page as it is now. */
async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).options({ rules: { 'label-content-name-mismatch': { enabled: true } } }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((node) => `${v.id}: ${node.target.join(' ')} — ${node.failureSummary ?? ''}`));
}

describe('compliance in Chromium', () => {
  // Two browsers (contexts), both signed in as the admin.
  useE2e({}, async (e2e) => {
    ({ page: a, baseUrl } = e2e);
    b = await e2e.newPage();
  });

  it('a text that reads like an opt-out is flagged live, listed under its filter, and confirmed in one click', async () => {
    await simulate(a, ASKER, 'stop by tomorrow?');
    await row(a, 'stop by tomorrow?').waitFor();
    expect(await row(a, ASKER).getByTestId('row-possible-opt-out').count()).toBe(0);

    await simulate(a, ASKER, 'Please stop texting me');
    // Live, without a reload: the badge appears on the row.
    await row(a, 'Please stop texting me').getByTestId('row-possible-opt-out').waitFor();
    expect(await row(a, ASKER).getByTestId('row-possible-opt-out').textContent()).toBe('Possible opt-out');

    await a.getByRole('tab', { name: 'Possible opt-out' }).click();
    await eventually(async () => expect(await a.locator('.conversation-row').count()).toBe(1));
    await row(a, ASKER).click();
    const banner = a.getByTestId('opt-out-banner');
    await banner.waitFor();
    await screenshot(a, 'compliance-possible-opt-out');
    expect(await seriousViolations(a)).toEqual([]);

    await banner.getByRole('button', { name: 'Confirm opt-out' }).click();
    await banner.waitFor({ state: 'detached' });
    // Opted out, and gone from the Possible opt-out list (live, in place).
    await eventually(async () => expect(await a.locator('.conversation-row').count()).toBe(0));
    await a.getByRole('tab', { name: 'Open' }).click();
    await row(a, ASKER).locator('.tag-danger', { hasText: 'Opted out' }).waitFor();
    // The other browser saw it too.
    await row(b, ASKER).locator('.tag-danger', { hasText: 'Opted out' }).waitFor();
  });

  it('erasing a contact from its page removes the conversation from another open browser live', async () => {
    await simulate(a, ERASED, 'Hello from Zed, order 5521');
    await row(b, 'order 5521').waitFor();

    await a.goto(`${baseUrl}/contacts`);
    await a.getByRole('link', { name: `Contact page of ${ERASED}` }).click();
    await a.getByTestId('contact-page').waitFor();
    await a.getByTestId('consent-history').or(a.getByText('No opt-out or opt-in recorded.')).waitFor();
    await a.getByRole('button', { name: 'Erase…' }).click();
    const dialog = a.getByRole('alertdialog');
    await dialog.waitFor();
    // Focus starts inside and stays inside (Tab and Shift+Tab cycle through the dialog's buttons).
    const focusInside = () => a.evaluate(() => document.activeElement?.closest('[role="alertdialog"]') !== null);
    expect(await focusInside()).toBe(true);
    for (const key of ['Tab', 'Tab', 'Tab', 'Shift+Tab', 'Shift+Tab', 'Shift+Tab']) {
      await a.keyboard.press(key);
      expect(await focusInside()).toBe(true);
    }
    await screenshot(a, 'compliance-erase-dialog');
    expect(await seriousViolations(a)).toEqual([]);
    await dialog.getByRole('button', { name: 'Erase for good' }).click();
    await a.waitForURL(`${baseUrl}/contacts`);

    // The other browser drops it without a reload.
    await row(b, 'order 5521').waitFor({ state: 'detached', timeout: 15_000 });
    expect(await row(b, ERASED).count()).toBe(0);
    // Gone for good: a reload does not bring it back.
    await b.reload();
    await b.locator('.connection[data-status="live"]').waitFor();
    await row(b, ASKER).waitFor();
    expect(await row(b, ERASED).count()).toBe(0);
  });
});
