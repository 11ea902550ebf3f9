/**
 * Time to first render of the conversation list in Chromium: 10 vs 10,000 conversations, same run
 * (so the ratio holds on a noisy machine), plus the built bundle's sizes.
 *
 *   pnpm --filter @parley/e2e exec tsx bench/render.ts     (or: pnpm bench, which runs it last)
 *
 * Each size gets its own temp database, seeded directly with SQLite before the server starts
 * (contacts + conversations + one inbound message each, one transaction), then a real server
 * (`ServerHarness`), a sign-in through the page, and a fresh navigation that is timed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { openDb } from '../../apps/server/src/db/client';
import { launchChromium } from '../support/browser';
import { webDir } from '../support/paths';
import { ADMIN, ServerHarness } from '../support/server';
import { ensureWebBuilt } from '../support/web-build';

const OUR_NUMBER = '+447700900000'; // the sandbox provider's number (config.ts default)
const ROW = '.conversation-row';
const SCROLL_BUDGET_MS = 30_000;
/** Timed navigations per size; the table shows medians. */
const RUNS = 5;

interface Result {
  size: number;
  firstRowMs: number;
  listRequestMs: number;
  domRows: number;
  scroll?: { loadedRows: number; ms: number; frames: number; longTasks: number; longestTaskMs: number; domRows: number };
}

/** Seeds `count` conversations (one inbound message each), last_message_at one minute apart, newest now. */
function seed(dbFile: string, count: number): void {
  const db = openDb(dbFile);
  const sqlite = db.$client;
  const insertContact = sqlite.prepare('insert into contacts (phone, name, created_at) values (?, ?, ?)');
  const insertConversation = sqlite.prepare(
    `insert into conversations (contact_id, our_number, status, last_message_at, last_message_preview,
       last_message_direction, unread_count, created_at) values (?, ?, 'open', ?, ?, 'in', ?, ?)`,
  );
  const insertMessage = sqlite.prepare(
    `insert into messages (conversation_id, direction, provider_message_uuid, "from", "to", text, encoding, segments,
       status, status_at, created_at) values (?, 'in', ?, ?, ?, ?, 'gsm7', 1, 'received', ?, ?)`,
  );
  const now = Date.now();
  sqlite.transaction(() => {
    for (let i = 0; i < count; i++) {
      const at = now - i * 60_000;
      const phone = `+1202${String(5_000_000 + i).padStart(7, '0')}`;
      const text = `Hello from customer ${i}, is order #${10_000 + i} on its way?`;
      const contactId = insertContact.run(phone, i % 3 === 0 ? `Customer ${i}` : null, at).lastInsertRowid;
      const conversationId = insertConversation.run(contactId, OUR_NUMBER, at, text, i % 4 === 0 ? 1 : 0, at).lastInsertRowid;
      insertMessage.run(conversationId, `seed-${i}`, phone, OUR_NUMBER, text, at, at);
    }
  })();
  sqlite.close();
}

async function measure(browser: Browser, size: number): Promise<Result> {
  const harness = new ServerHarness();
  try {
    const seedStart = performance.now();
    seed(path.join(harness.dir, 'p.db'), size);
    console.log(`seeded ${size} conversations in ${Math.round(performance.now() - seedStart)} ms`);
    const { url } = await harness.start();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    // Records when the first row enters the DOM (more exact than the time waitFor's polling returns).
    await context.addInitScript(`
      new MutationObserver((_, observer) => {
        if (!document.querySelector('${ROW}')) return;
        globalThis.__firstRowAt = performance.now();
        observer.disconnect();
      }).observe(document, { childList: true, subtree: true });
    `);
    const page = await context.newPage();

    // Sign in once (sets the session cookie), then time a fresh navigation with a warm HTTP cache.
    await page.goto(url);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator(ROW).first().waitFor();

    const samples = [];
    for (let run = 0; run < RUNS; run++) {
      await page.goto('about:blank');
      await page.goto(url, { waitUntil: 'commit' });
      await page.locator(ROW).first().waitFor({ timeout: 60_000 });
      const timing = await page.evaluate(() => {
        const list = performance
          .getEntriesByType('resource')
          .filter((e): e is PerformanceResourceTiming => e.name.includes('conversation.list'))[0];
        return {
          firstRowMs: (globalThis as { __firstRowAt?: number }).__firstRowAt ?? performance.now(),
          listRequestMs: list ? list.responseEnd - list.startTime : Number.NaN,
          domRows: document.querySelectorAll('.conversation-row').length,
        };
      });
      samples.push(timing);
    }
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
    const result: Result = {
      size,
      firstRowMs: median(samples.map((t) => t.firstRowMs)),
      listRequestMs: median(samples.map((t) => t.listRequestMs)),
      domRows: Math.max(...samples.map((t) => t.domRows)),
    };

    if (size > 100) result.scroll = await scrollToBottom(page, size);
    await context.close();
    return result;
  } finally {
    await harness.stop();
  }
}

/** Scrolls the list down in viewport-sized steps (loading pages as it goes) within a time budget, counting frames and long tasks. */
async function scrollToBottom(page: Page, size: number): Promise<NonNullable<Result['scroll']>> {
  // tsx (esbuild keepNames) wraps named inner functions in __name(), which the page does not define.
  await page.evaluate('globalThis.__name = (fn) => fn');
  return page.evaluate(
    async ({ size, budget }) => {
      const scroller = document.querySelector<HTMLElement>('.conversation-scroller');
      if (!scroller) throw new Error('no .conversation-scroller');
      let frames = 0;
      let running = true;
      const tick = () => {
        frames++;
        if (running) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
      const longTasks: number[] = [];
      const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasks.push(e.duration)));
      observer.observe({ type: 'longtask', buffered: false });
      const loaded = () => Math.round(scroller.scrollHeight / 68);
      const start = performance.now();
      while (performance.now() - start < budget) {
        scroller.scrollTop += scroller.clientHeight;
        await new Promise((resolve) => requestAnimationFrame(() => resolve(null)));
        const atBottom = scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 2;
        if (atBottom && loaded() >= size) break;
        if (atBottom) await new Promise((resolve) => setTimeout(resolve, 16));
      }
      const ms = performance.now() - start;
      running = false;
      observer.disconnect();
      return {
        loadedRows: loaded(),
        ms,
        frames,
        longTasks: longTasks.length,
        longestTaskMs: Math.max(0, ...longTasks),
        domRows: document.querySelectorAll('.conversation-row').length,
      };
    },
    { size, budget: SCROLL_BUDGET_MS },
  );
}

function bundleSizes(): void {
  const dir = path.join(webDir, 'dist', 'assets');
  const rows = readdirSync(dir)
    .sort()
    .map((file) => {
      const bytes = readFileSync(path.join(dir, file));
      return { file, raw: bytes.length, gzip: gzipSync(bytes).length };
    });
  const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
  console.log('\nbundle (apps/web/dist/assets)');
  console.table(Object.fromEntries(rows.map((r) => [r.file, { raw: kb(r.raw), gzip: kb(r.gzip) }])));
  const js = rows.filter((r) => r.file.endsWith('.js'));
  console.log(`JS total: ${kb(js.reduce((s, r) => s + r.raw, 0))} raw, ${kb(js.reduce((s, r) => s + r.gzip, 0))} gzip`);
}

async function main(): Promise<void> {
  ensureWebBuilt();
  const browser = await launchChromium();
  const results: Result[] = [];
  try {
    for (const size of [10, 10_000]) results.push(await measure(browser, size));
  } finally {
    await browser.close();
  }
  const ms = (n: number) => `${Math.round(n)} ms`;
  console.log(`\nfirst render of the conversation list (fresh navigation, signed in; ms from navigation start, median of ${RUNS})`);
  console.table(
    Object.fromEntries(
      results.map((r) => [
        `${r.size} conversations`,
        { 'first row visible': ms(r.firstRowMs), 'list request': ms(r.listRequestMs), 'DOM rows': r.domRows },
      ]),
    ),
  );
  const [small, large] = results;
  if (small && large) console.log(`ratio 10,000 / 10: first row ${(large.firstRowMs / small.firstRowMs).toFixed(2)}x`);
  for (const r of results) {
    if (!r.scroll) continue;
    const s = r.scroll;
    console.log(
      `scroll (${r.size}): ${s.loadedRows} rows loaded in ${ms(s.ms)}, ${s.frames} frames (${((s.frames * 1000) / s.ms).toFixed(0)} fps), ` +
        `${s.longTasks} long tasks (longest ${ms(s.longestTaskMs)}), ${s.domRows} DOM rows at the end`,
    );
  }
  bundleSizes();
}

await main();
