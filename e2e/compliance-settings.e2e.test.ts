import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { eventually, screenshot } from './support/browser';
import { useE2e } from './support/e2e';

/** An admin edits the compliance settings (with a readable refusal) and finds the change on the Audit page (issue 19). */
let page: Page;

describe('compliance settings and the audit log in Chromium', () => {
  useE2e({ viewport: { width: 1280, height: 900 } }, (e2e) => void ({ page } = e2e));

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
