import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { signIn } from './support/browser';
import { useE2e } from './support/e2e';
import { ADMIN } from './support/server';

let page: Page;
let baseUrl: string;
const violations: string[] = [];

describe('the built web app under its Content-Security-Policy, in Chromium', () => {
  useE2e(
    {
      viewport: { width: 1280, height: 900 },
      signIn: false,
      preparePage: async (fresh) => {
        // Every CSP refusal fires securitypolicyviolation on the document; Chromium also logs it.
        await fresh.exposeFunction('__cspViolation', (v: string) => violations.push(v));
        await fresh.addInitScript(() => {
          document.addEventListener('securitypolicyviolation', (e) => {
            (window as unknown as { __cspViolation(v: string): void }).__cspViolation(`${e.violatedDirective} ${e.blockedURI}`);
          });
        });
        fresh.on('console', (m) => {
          if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
        });
      },
    },
    (e2e) => void ({ page, baseUrl } = e2e),
  );

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
