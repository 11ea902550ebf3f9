import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { eventually, screenshot, signIn } from './support/browser';
import { useE2e } from './support/e2e';
import { ADMIN, switchQuietHoursOff } from './support/server';

/** Opted out (texts STOP) before the campaign: the campaign skips it. */
const OPTED_OUT = '+447700900300';
/** The sandbox rejects every text to it: the campaign's one failure. */
const REJECTED = '+447700900666';
const NAMES = [
  'Ann',
  'Ben',
  'Cat',
  'Dan',
  'Eve',
  'Fay',
  'Gus',
  'Hal',
  'Ivy',
  'Jon',
  'Kim',
  'Lea',
  'Max',
  'Ned',
  'Ola',
  'Pia',
  'Rex',
  'Sue',
];
const VALID = NAMES.map((name, i) => ({ phone: `+4477009003${String(i + 1).padStart(2, '0')}`, name }));
const CSV = [
  'phone,name',
  ...VALID.map((r) => `${r.phone},${r.name}`),
  `${REJECTED},Rejected`,
  'not-a-number,Broken', // line 21: invalid
  `${VALID[0]?.phone},Ann again`, // line 22: duplicate of line 2
  `${OPTED_OUT},Opted`, // line 23: opted out
].join('\n');
const SENDABLE = VALID.length + 1;

let page: Page;
let baseUrl: string;

async function simulateInbound(from: string, text: string): Promise<void> {
  const res = await page.request.post(`${baseUrl}/trpc/sandbox.simulateInbound`, { data: { from, text } });
  expect(res.status(), await res.text()).toBe(200);
}

const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
const progressBar = () => page.getByTestId('campaign-progress');
/** A chart's own SVG (its legend icons are SVGs too). */
const chartSvg = (testId: string) =>
  page.getByTestId(testId).locator('svg.recharts-surface', { has: page.locator('.recharts-cartesian-grid') });

describe('campaigns, stats and contacts in Chromium', () => {
  // Slow enough to watch the bar move, fast enough to finish in a few seconds.
  useE2e({ env: { SEND_RATE_PER_SECOND: '6' }, viewport: { width: 1280, height: 900 }, signIn: false }, async (e2e) => {
    ({ page, baseUrl } = e2e);
    // Not a quiet-hours test: the campaign must go out whatever the hour (compliance tests cover them).
    await switchQuietHoursOff(baseUrl);
  });

  it('signs in; a contact texts STOP', async () => {
    await signIn(page, baseUrl, ADMIN);
    await simulateInbound(OPTED_OUT, 'STOP');
  });

  it('creates a campaign from a CSV file, with the validation report and cost before sending', async () => {
    await nav('Campaigns').click();
    expect(new URL(page.url()).pathname).toBe('/campaigns');
    await page.getByText('No campaigns yet').waitFor();
    await page.getByRole('link', { name: 'New campaign' }).first().click();
    await page.getByLabel('Name', { exact: true }).fill('Order ready');
    await page.getByLabel('Message', { exact: true }).fill('Hi {name}, your order is ready for pickup. Reply STOP to opt out.');
    // A file with a quote never closed: its lines are listed, and it cannot be sent.
    const broken = `phone,name\n${VALID[1]?.phone},"Ben\n${VALID[2]?.phone},Cat\n`;
    await page.locator('#campaign-file').setInputFiles({ name: 'broken.csv', mimeType: 'text/csv', buffer: Buffer.from(broken) });
    const csvErrors = page.getByTestId('preview-csv-errors');
    await csvErrors.waitFor();
    await expect(csvErrors.locator('tr[data-line="2"]').textContent()).resolves.toContain(
      'A quoted field opens on line 2 and is never closed',
    );
    await expect(page.getByRole('button', { name: /^Send/ }).isDisabled()).resolves.toBe(true);
    await page.getByRole('button', { name: 'Remove broken.csv' }).click();

    await page.locator('#campaign-file').setInputFiles({ name: 'customers.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
    await page.getByTestId('campaign-file').getByText('customers.csv').waitFor();

    const preview = page.getByTestId('campaign-preview');
    await preview.waitFor();
    await eventually(async () => expect(await preview.getAttribute('aria-busy')).toBe('false'));
    await expect(page.getByTestId('preview-encoding').textContent()).resolves.toBe('GSM-7');
    await expect(page.getByTestId('preview-sendable').textContent()).resolves.toBe(`${SENDABLE} recipients of 22 rows`);
    await expect(page.getByTestId('preview-cost').textContent()).resolves.toBe(
      `Cost: 1 segment × ${SENDABLE} recipients = ${SENDABLE} segments`,
    );
    const problems = page.getByTestId('preview-problems');
    const problem = (line: number) => problems.locator(`tr[data-line="${line}"]`);
    await expect(problem(21).locator('[data-state]').getAttribute('data-state')).resolves.toBe('invalid');
    await expect(problem(21).textContent()).resolves.toContain('not-a-number');
    await expect(problem(22).locator('[data-state]').getAttribute('data-state')).resolves.toBe('duplicate');
    await expect(problem(23).locator('[data-state]').getAttribute('data-state')).resolves.toBe('skipped');
    await screenshot(page, 'campaign-new', true);

    await page.evaluate(() => Object.assign(window, { __noReload: true }));
    await page.getByRole('button', { name: `Send to ${SENDABLE} recipients` }).click();
    await page.waitForURL(/\/campaigns\/\d+$/);
  });

  it('shows the progress bar move and reach done live, without a reload', async () => {
    const seen = new Set<string>();
    const deadline = Date.now() + 30_000;
    for (;;) {
      const bar = progressBar();
      if ((await bar.count()) > 0) {
        seen.add((await bar.getAttribute('aria-valuenow')) ?? '');
        if ((await bar.getAttribute('data-status')) === 'done') break;
      }
      if (Date.now() > deadline) throw new Error(`campaign not done; progress seen: ${[...seen].join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // It moved through intermediate values (live events), not straight from nothing to done.
    expect([...seen].filter((v) => v !== '0' && v !== '100').length).toBeGreaterThan(0);
    await expect(progressBar().getAttribute('aria-valuenow')).resolves.toBe('100');
    await expect(page.evaluate(() => (window as { __noReload?: boolean }).__noReload)).resolves.toBe(true);
    await expect(page.getByTestId('count-skipped').textContent()).resolves.toBe('1');
    await expect(page.getByTestId('count-pending').textContent()).resolves.toBe('0');
    // Delivery receipts and the rejection arrive a moment after sending.
    await eventually(async () => expect(await page.getByTestId('count-failed').textContent()).toBe('1'), 15_000);
    await eventually(async () => expect(await page.getByTestId('count-delivered').textContent()).toBe(String(VALID.length)), 15_000);
    await page.locator('.campaign-status[data-status="done"]').waitFor();
    await page.getByTestId('recipient-report').locator(`tr[data-recipient="${REJECTED}"] [data-state="failed"]`).waitFor();
    await new Promise((resolve) => setTimeout(resolve, 500)); // the bar's width transition
    await screenshot(page, 'campaign-detail', true);
  });

  it('opens a recipient’s conversation from the report, with the campaign’s text in the thread', async () => {
    const first = VALID[0];
    if (!first) throw new Error('no recipients');
    await page.getByRole('link', { name: `Open the conversation with ${first.phone}` }).click();
    await page.waitForURL(/\/c\/\d+$/);
    await page.locator('.message .bubble', { hasText: 'Hi Ann, your order is ready for pickup.' }).waitFor();
    await expect(page.locator('.thread-header h2').textContent()).resolves.toMatch(/Ann|\+447700900301/);
    // Back returns to the campaign.
    await page.goBack();
    await page.waitForURL(/\/campaigns\/\d+$/);
    await progressBar().waitFor();
    await page.getByRole('link', { name: '← Campaigns' }).click();
    await page.locator('.campaign-card', { hasText: 'Order ready' }).locator('.campaign-status[data-status="done"]').waitFor();
    await screenshot(page, 'campaigns');
  });

  it('renders the Stats charts', async () => {
    await nav('Stats').click();
    await chartSvg('chart-volume').waitFor();
    await chartSvg('chart-delivery').waitFor();
    await eventually(async () =>
      expect(await page.getByTestId('chart-volume').locator('.recharts-bar-rectangle').count()).toBeGreaterThan(0),
    );
    // One day with data in the 7-day view: the line is a single dot (its path has no length).
    await page.getByTestId('chart-delivery').locator('.recharts-line-curve').waitFor({ state: 'attached' });
    await page.getByTestId('chart-delivery').locator('.recharts-line-dots circle').first().waitFor();
    await eventually(async () => expect(Number(await page.getByTestId('stat-outbound').textContent())).toBeGreaterThanOrEqual(SENDABLE));
    await page.getByTestId('failures-by-reason').locator('tbody tr').first().waitFor();
    await page.getByRole('button', { name: '24 hours' }).click();
    await page.getByRole('button', { name: '24 hours', pressed: true }).waitFor();
    await chartSvg('chart-volume').waitFor();
    await new Promise((resolve) => setTimeout(resolve, 700)); // bar animation
    await screenshot(page, 'stats', true);
  });

  it('lists contacts with their opt-out state, searchable, with the opt-out export', async () => {
    await nav('Contacts').click();
    const optedOut = page.locator(`tr[data-contact="${OPTED_OUT}"]`);
    await optedOut.getByTestId('optout-state').waitFor();
    await expect(optedOut.getByTestId('optout-state').textContent()).resolves.toContain('texted STOP');
    await optedOut.getByRole('button', { name: /^Opt in/ }).waitFor();
    await screenshot(page, 'contacts', true);

    await page.getByLabel('Search contacts').fill('900305');
    await eventually(async () => expect(await page.locator('tbody tr[data-contact]').count()).toBe(1));
    await page.getByRole('button', { name: 'Edit the name of +447700900305' }).click();
    await page.getByLabel('Name of +447700900305').fill('Eve Adams');
    await page.getByLabel('Name of +447700900305').press('Enter');
    await page.locator('tr[data-contact="+447700900305"]', { hasText: 'Eve Adams' }).waitFor();

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export opt-outs (CSV)' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/\.csv$/);
    const csv = await file.createReadStream().then(async (stream) => {
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    });
    expect(csv).toContain(OPTED_OUT);
  });

  it('fits a phone: the nav wraps under the header', async () => {
    await page.setViewportSize({ width: 390, height: 780 });
    await nav('Campaigns').click();
    await page.locator('.campaign-card .campaign-name').first().click();
    await progressBar().waitFor();
    await screenshot(page, 'campaign-phone');
    // The page never scrolls sideways (a wide table scrolls inside its own box).
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBe(0);
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});
