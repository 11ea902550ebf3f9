import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchChromium, signIn } from './browser';
import { ADMIN, ServerHarness } from './server';
import { ensureWebBuilt } from './web-build';

export interface E2eOptions {
  /** More variables for the server (see ServerHarness). */
  env?: Record<string, string>;
  /** The page's viewport; 1280 × 800 unless given. */
  viewport?: { width: number; height: number };
  /** Sign the page in as the admin (default true); false leaves it blank, for tests that sign in themselves. */
  signIn?: boolean;
  /** Runs on each fresh page before it loads anything (listeners, init scripts). */
  preparePage?: (page: Page) => Promise<void> | void;
}

export interface E2e {
  harness: ServerHarness;
  baseUrl: string;
  browser: Browser;
  /** In a browser context of its own (what AxeBuilder needs). */
  page: Page;
  /** Another page in another browser context (another agent's cookies), signed in as the admin unless told. */
  newPage(options?: { signIn?: boolean }): Promise<Page>;
  /** Closes Chromium and stops the server (and removes its temp database). */
  close(): Promise<void>;
}

/**
 * What every e2e file starts with: the web app built, a real server on a temp database, Chromium, one
 * page (signed in as the admin unless told). If a step fails, what was started is closed again.
 * Most files want useE2e below.
 */
export async function startE2e(options: E2eOptions = {}): Promise<E2e> {
  ensureWebBuilt();
  const harness = new ServerHarness(options.env);
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await harness.stop();
  };
  try {
    const baseUrl = (await harness.start()).url;
    const chromium = await launchChromium();
    browser = chromium;
    const viewport = options.viewport ?? { width: 1280, height: 800 };
    const newPage = async ({ signIn: signedIn = true }: { signIn?: boolean } = {}) => {
      const page = await (await chromium.newContext({ viewport })).newPage();
      await options.preparePage?.(page);
      if (signedIn) await signIn(page, baseUrl, ADMIN);
      return page;
    };
    const page = await newPage({ signIn: options.signIn ?? true });
    return { harness, baseUrl, browser: chromium, page, newPage, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * startE2e in the describe's beforeAll, then `ready` (take the page and URL, seed data); one teardown in
 * its afterAll, which also runs when `ready` failed:
 *   useE2e({}, (e2e) => void ({ page, baseUrl } = e2e));
 */
export function useE2e(options: E2eOptions, ready: (e2e: E2e) => Promise<void> | void): void {
  let e2e: E2e | undefined;
  beforeAll(async () => {
    e2e = await startE2e(options);
    await ready(e2e);
  });
  afterAll(async () => {
    await e2e?.close();
  });
}
