import { createHash, createHmac, randomUUID } from 'node:crypto';
import AxeBuilder from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, launchChromium, screenshot, signIn } from './support/browser';
import { ADMIN, ServerHarness } from './support/server';
import { ensureWebBuilt } from './support/web-build';

/**
 * Refused-webhook review (issue 15): Vonage signs with the secret it has; the server was started with a
 * wrong one, so its inbounds are refused and kept. Restarted with the right secret, an admin sees the
 * banner, opens the review page, views one raw and replays all: the texts appear and the banner goes.
 */
const RIGHT = 'the-right-vonage-secret';
const WRONG = 'a-wrong-vonage-secret';

let harness: ServerHarness;
let browser: Browser;
let page: Page;
let baseUrl: string;

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** Vonage's signed-webhook JWT (HS256, iat, jti, payload_hash over the exact body). */
function vonageJwt(body: string, secret: string): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const claims = b64url(
    JSON.stringify({
      iat: Math.floor(Date.now() / 1000),
      jti: randomUUID(),
      iss: 'Vonage',
      payload_hash: createHash('sha256').update(body).digest('hex'),
    }),
  );
  const sig = createHmac('sha256', secret).update(`${head}.${claims}`).digest('base64url');
  return `${head}.${claims}.${sig}`;
}

async function vonageInbound(text: string): Promise<number> {
  const body = JSON.stringify({
    channel: 'sms',
    message_uuid: randomUUID(),
    to: '447700900000',
    from: '447700900555',
    timestamp: new Date().toISOString(),
    message_type: 'text',
    text,
    sms: { num_messages: '1' },
  });
  const res = await fetch(`${baseUrl}/webhooks/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${vonageJwt(body, RIGHT)}` },
    body,
  });
  return res.status;
}

/** axe: serious and critical violations on the page as it is now. */
async function seriousViolations(): Promise<string[]> {
  const results = await new AxeBuilder({ page }).options({ rules: { 'label-content-name-mismatch': { enabled: true } } }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((node) => `${v.id} (${v.impact}): ${node.target.join(' ')} — ${node.failureSummary ?? ''}`));
}

describe('refused webhooks (Chromium)', () => {
  beforeAll(async () => {
    ensureWebBuilt();
    harness = new ServerHarness({ VONAGE_SIGNATURE_SECRET: WRONG });
    const first = await harness.start();
    baseUrl = first.url;
    for (const text of ['refused one', 'refused two', 'refused three']) expect(await vonageInbound(text)).toBe(401);
    await harness.kill();
    harness.env.VONAGE_SIGNATURE_SECRET = RIGHT;
    await harness.start(first.port);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await harness?.stop();
  });

  it('shows the banner, the raw view in a focus-trapped dialog, and replays all: the texts arrive, the banner goes', async () => {
    await signIn(page, baseUrl, ADMIN);
    const banner = page.getByTestId('refused-webhooks-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('3 refused webhooks need review');
    await banner.getByRole('link', { name: 'Review refused webhooks' }).click();
    await page.getByRole('heading', { name: 'Refused webhooks' }).waitFor();
    const rows = page.locator('.refused-table tbody tr[data-webhook-log-id]');
    await eventually(async () => expect(await rows.count()).toBe(3));
    expect(await rows.first().textContent()).toContain('bad_signature');
    expect(await seriousViolations()).toEqual([]);

    // The raw view: a modal dialog; Tab stays inside it; Escape closes it and focus goes back to "View".
    await rows.first().getByRole('button', { name: /^View/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Body').waitFor();
    expect(await dialog.getByLabel('Body').textContent()).toContain('refused three');
    expect(await dialog.getByLabel('Headers').textContent()).toMatch(/"authorization": "\[redacted: \d+ chars\]"/);
    await screenshot(page, 'refused-webhooks-raw');
    expect(await seriousViolations()).toEqual([]);
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => Boolean(document.activeElement?.closest('[role="dialog"]')))).toBe(true);
    }
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await page.evaluate(() => document.activeElement?.textContent ?? '')).toMatch(/^View/);

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Replay all matching' }).click();
    await eventually(async () => expect(await page.getByTestId('replay-result').textContent()).toBe('Replayed 3: 3 stored.'));
    await banner.waitFor({ state: 'detached', timeout: 15_000 });
    await eventually(async () => expect(await rows.count()).toBe(0));
    await page.getByLabel('Needs review only').uncheck();
    await eventually(async () => expect(await rows.count()).toBe(3));
    expect(await rows.first().textContent()).toContain('stored');
    await screenshot(page, 'refused-webhooks-replayed', true);

    // The texts are in the inbox.
    await page.getByRole('link', { name: 'Inbox' }).click();
    await eventually(async () => expect(await page.locator('.conversation-row', { hasText: /refused (one|two|three)/ }).count()).toBe(1));
  }, 60_000);
});
