import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, launchChromium, screenshot, signIn } from './support/browser';
import { ADMIN, ServerHarness } from './support/server';
import { ensureWebBuilt } from './support/web-build';

/** An admin edits the compliance settings (with a readable refusal) and finds the change on the Audit page (issue 19). */
let harness: ServerHarness;
let browser: Browser;
let page: Page;
let baseUrl: string;

describe('compliance settings and the audit log in Chromium', () => {
  beforeAll(async () => {
    ensureWebBuilt();
    harness = new ServerHarness();
    baseUrl = (await harness.start()).url;
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await signIn(page, baseUrl, ADMIN);
  });
  afterAll(async () => {
    await browser?.close();
    await harness?.stop();
  });

  it('refuses a window that starts when it ends, saves a valid one with retention and HELP text', async () => {
    await page.getByRole('link', { name: 'Team' }).click();
    const section = page.getByRole('region', { name: 'Compliance' });
    await section.getByLabel('Quiet hours: sending starts at').fill('09:00');
    await section.getByLabel('Quiet hours: sending ends at').fill('09:00');
    await section.getByRole('button', { name: 'Save compliance settings' }).click();
    await eventually(async () => expect(await section.getByRole('alert').textContent()).toContain('Start and end must differ'));

    await section.getByLabel('Quiet hours: sending ends at').fill('20:00');
    await section.getByTestId('retention-toggle').check();
    await section.getByLabel('Retention in days').fill('90');
    await section
      .getByLabel(/Sent to anyone who texts HELP/)
      .fill('Acme support 0800 000 000. Msg & data rates may apply. Reply STOP to stop.');
    await section.getByRole('button', { name: 'Save compliance settings' }).click();
    await eventually(async () => expect(await section.getByRole('status').textContent()).toContain('Saved'));
    await screenshot(page, 'compliance-settings');
  });

  it('shows the change on the Audit page, filters by action and exports CSV', async () => {
    await page.getByRole('link', { name: 'Audit' }).click();
    const table = page.getByTestId('audit-table');
    await eventually(async () => {
      const row = table.locator('tr[data-action="settings.updated"]').first();
      expect(await row.textContent()).toContain('retentionDays');
    });
    await page.getByTestId('audit-filter').selectOption('campaign.created');
    await eventually(async () => expect(await page.getByText('Nothing recorded for campaign.created yet.').count()).toBe(1));
    await page.getByTestId('audit-filter').selectOption('');
    const download = page.waitForEvent('download');
    await page.getByTestId('audit-export').click();
    expect((await download).suggestedFilename()).toMatch(/^parley-audit-all-\d{4}-\d{2}-\d{2}\.csv$/);
    await eventually(async () => expect(await table.locator('tr[data-action="audit.exported"]').count()).toBeGreaterThan(0));
    await screenshot(page, 'audit-log');
  });
});
