import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { screenshotsDir } from './paths';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Signs in through the form as `who` and waits for the live connection. */
export async function signIn(page: Page, baseUrl: string, who: { email: string; password: string }): Promise<void> {
  await page.goto(baseUrl);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.connection[data-status="live"]').waitFor();
}

/**
 * Writes `e2e/screenshots/<name>.png` and prints its path. `wholePage`: the app scrolls inside `.page`,
 * not the document, so the viewport grows to fit it for the shot, then is restored.
 */
export async function screenshot(page: Page, name: string, wholePage = false): Promise<void> {
  mkdirSync(screenshotsDir, { recursive: true });
  const file = path.join(screenshotsDir, `${name}.png`);
  const viewport = page.viewportSize() ?? { width: 1280, height: 900 };
  if (wholePage) {
    const height = await page.evaluate(() => {
      const scroller = document.querySelector('.page');
      const header = document.querySelector('.app-header');
      return (header?.getBoundingClientRect().height ?? 0) + (scroller?.scrollHeight ?? 0);
    });
    await page.setViewportSize({ width: viewport.width, height: Math.min(2400, Math.max(viewport.height, Math.ceil(height))) });
  }
  await page.screenshot({ path: file });
  if (wholePage) await page.setViewportSize(viewport);
  console.log(`screenshot: ${file}`);
}

/** Polls until the check passes (the UI settles asynchronously). */
export async function eventually(check: () => Promise<void>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
