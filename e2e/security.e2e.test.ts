import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, signIn } from './support/browser';
import { ADMIN, ServerHarness } from './support/server';
import { ensureWebBuilt } from './support/web-build';

let harness: ServerHarness;
let browser: Browser;
let page: Page;
let baseUrl: string;
const violations: string[] = [];

describe('the built web app under its Content-Security-Policy, in Chromium', () => {
  beforeAll(async () => {
    ensureWebBuilt();
    harness = new ServerHarness();
    baseUrl = (await harness.start()).url;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // Every CSP refusal fires securitypolicyviolation on the document; Chromium also logs it.
    await page.exposeFunction('__cspViolation', (v: string) => violations.push(v));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        (window as unknown as { __cspViolation(v: string): void }).__cspViolation(`${e.violatedDirective} ${e.blockedURI}`);
      });
    });
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await harness?.stop();
  });

  it('serves the page with the CSP, signs in, goes live over the WebSocket and renders every page without a violation', async () => {
    const res = await page.goto(baseUrl);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await signIn(page, baseUrl, ADMIN);
    const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
    for (const name of ['Campaigns', 'Contacts', 'Stats', 'Inbox']) {
      await nav(name).click();
      await page.waitForLoadState('networkidle');
    }
    await page.locator('.connection[data-status="live"]').waitFor();
    expect(violations).toEqual([]);
  });
});
