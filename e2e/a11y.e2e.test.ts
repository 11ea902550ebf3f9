import AxeBuilder from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { screenshot, signIn } from './support/browser';
import { useE2e } from './support/e2e';
import { ADMIN } from './support/server';

const CUSTOMER = '+447700900123';

let page: Page;
let baseUrl: string;

/** Serious and critical violations on the page as it is now, one readable line per offending node. */
async function seriousViolations(): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    // WCAG 2.5.3 "label in name" is an experimental rule in axe 4.13: on by hand.
    .options({ rules: { 'label-content-name-mismatch': { enabled: true } } })
    .analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const lines = bad.flatMap((v) => v.nodes.map((node) => `${v.id} (${v.impact}): ${node.target.join(' ')} — ${node.failureSummary ?? ''}`));
  for (const line of lines) console.log(line);
  return lines;
}

describe('axe finds no serious or critical violation', () => {
  // AxeBuilder needs a page of its own context (it opens a blank page beside it to finish the run): useE2e's is.
  useE2e({ signIn: false }, (e2e) => void ({ page, baseUrl } = e2e));

  it('on the sign-in page', async () => {
    await page.goto(baseUrl);
    await page.getByLabel('Email').waitFor();
    expect(await seriousViolations()).toEqual([]);
  });

  it('on the inbox with a thread open', async () => {
    await signIn(page, baseUrl, ADMIN);
    const res = await page.request.post(`${baseUrl}/trpc/sandbox.simulateInbound`, { data: { from: CUSTOMER, text: 'Hello there' } });
    expect(res.status()).toBe(200);
    await page.locator('.conversation-row', { hasText: CUSTOMER }).click();
    await page.getByLabel('Reply').waitFor();
    expect(await seriousViolations()).toEqual([]);
  });

  it('on the shortcuts dialog, which ? opens, keeps Tab inside, and Escape closes back to the list', async () => {
    await page.locator('.conversation-row').first().focus();
    await page.keyboard.press('Escape');
    await page.locator('body').press('?');
    const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await dialog.waitFor();
    await screenshot(page, 'shortcuts-dialog');
    expect(await seriousViolations()).toEqual([]);
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press(i % 2 ? 'Shift+Tab' : 'Tab');
      expect(await page.evaluate(() => document.activeElement?.closest('[role="dialog"]') !== null)).toBe(true);
    }
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  it('on the new conversation dialog (n)', async () => {
    await page.locator('body').press('n');
    await page.getByRole('dialog', { name: 'New conversation' }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('new-to');
    expect(await seriousViolations()).toEqual([]);
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
  });

  for (const [name, path, ready] of [
    ['Campaigns', '/campaigns', 'Campaigns'],
    ['Contacts', '/contacts', 'Contacts'],
    ['Stats', '/stats', 'Stats'],
    ['Team', '/team', 'Team'],
    ['Audit', '/audit', 'Audit log'],
    ['Account', '/account', 'Account'],
  ] as const) {
    it(`on ${name}`, async () => {
      await page.goto(`${baseUrl}${path}`);
      await page.getByRole('heading', { name: ready }).first().waitFor();
      expect(await seriousViolations()).toEqual([]);
    });
  }
});
