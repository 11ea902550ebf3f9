import type { ConsoleMessage, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { screenshot } from './support/browser';
import { useE2e } from './support/e2e';

/**
 * The header at the widths agents use: every control fully inside the window from 1024 px up (one row)
 * and on a phone (wrapped), each still named for screen readers when only its icon shows; and an inbox
 * load with nothing in the console (no 404 for a favicon, no error).
 */
let page: Page;
let baseUrl: string;
const consoleErrors: string[] = [];

/** The header's controls, by role and accessible name (the widest case: an admin, notifications not on yet). */
function headerControls(inbox: boolean) {
  const header = page.locator('.app-header');
  return [
    ...['Inbox', 'Campaigns', 'Contacts', 'Stats', 'Canned replies', 'Team'].map((name) => header.getByRole('link', { name, exact: true })),
    ...(inbox
      ? [
          header.getByRole('button', { name: 'New conversation' }),
          header.getByRole('button', { name: 'Sandbox' }),
          header.getByRole('button', { name: 'Keyboard shortcuts' }),
        ]
      : []),
    header.getByRole('button', { name: 'Enable notifications' }),
    header.getByRole('link', { name: /signed in, your account/ }),
    header.getByRole('button', { name: 'Sign out' }),
    header.getByRole('status'),
  ];
}

async function expectAllInside(width: number, inbox: boolean): Promise<void> {
  for (const control of headerControls(inbox)) {
    const box = await control.boundingBox();
    const what = await control.evaluate((el) => el.textContent?.trim() || el.getAttribute('aria-label') || el.outerHTML.slice(0, 60));
    expect(box, `${what} is shown at ${width} px`).not.toBeNull();
    if (!box) continue;
    expect(box.width, `${what} has a size at ${width} px`).toBeGreaterThan(8);
    expect(box.x, `${what} starts inside the window at ${width} px`).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width, `${what} ends inside the window at ${width} px`).toBeLessThanOrEqual(width);
  }
  // Nothing overflows the header (no control half hidden behind its edge).
  const overflow = await page.locator('.app-header').evaluate((el) => el.scrollWidth - el.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
}

describe('the header in Chromium', () => {
  useE2e(
    {
      preparePage: (fresh) => {
        fresh.on('console', (message: ConsoleMessage) => {
          if (message.type() === 'error') consoleErrors.push(`${message.text()} (${message.location().url})`);
        });
        fresh.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
      },
    },
    (e2e) => void ({ page, baseUrl } = e2e),
  );

  it('loads the inbox with no error in the console (a favicon is there, nothing is missing)', async () => {
    consoleErrors.length = 0;
    await page.reload();
    await page.locator('.connection[data-status="live"]').waitFor();
    await page.getByText('No conversations here yet.').waitFor();
    // The favicon is inline: the browser has nothing to fetch for it.
    const icon = await page.locator('link[rel="icon"]').getAttribute('href');
    expect(icon).toMatch(/^data:image\/svg\+xml,/);
    // Late requests (the favicon is asked for after load) have had time to fail.
    await page.waitForLoadState('networkidle');
    expect(consoleErrors).toEqual([]);
  });

  for (const width of [1024, 1280, 1440, 1920]) {
    it(`shows every header control in one row at ${width} px`, async () => {
      await page.setViewportSize({ width, height: 800 });
      await page.goto(`${baseUrl}/`);
      await page.locator('.connection[data-status="live"]').waitFor();
      await expectAllInside(width, true);
      const height = await page.locator('.app-header').evaluate((el) => el.getBoundingClientRect().height);
      expect(height).toBeLessThanOrEqual(57);
      await screenshot(page, `header-${width}`);
      // Another page's header (without the inbox's buttons) too.
      await page.locator('.app-header').getByRole('link', { name: 'Campaigns', exact: true }).click();
      await page.getByRole('heading', { name: 'Campaigns' }).first().waitFor();
      await expectAllInside(width, false);
    });
  }

  it('wraps on a phone, every control inside the screen, and Sign out works there', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${baseUrl}/`);
    await page.locator('.connection[data-status="live"]').waitFor();
    await expectAllInside(390, true);
    await screenshot(page, 'header-phone');
    // Every page, width and reload so far left the console clean. (Signed out, the sign-in page's own
    // "who am I?" check is answered 401, which Chromium logs: that is the API's contract, not a fault.)
    expect(consoleErrors).toEqual([]);
    await page.locator('.app-header').getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
  });
});
