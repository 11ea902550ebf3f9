import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, screenshot, signIn } from './support/browser';
import { useE2e } from './support/e2e';
import { ADMIN } from './support/server';

/** Issue 15: an admin registers a webhook endpoint in Chromium, and the page shows its deliveries. */
interface Hit {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
}

let page: Page;
let baseUrl: string;
let receiver: Server;
let receiverUrl = '';
const hits: Hit[] = [];

/** The Standard Webhooks signature, computed by hand (the receiver's side). */
function expectedSignature(secret: string, hit: Hit): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${hit.id}.${hit.timestamp}.${hit.body}`).digest('base64')}`;
}

describe('Integrations: outbound webhooks in Chromium', () => {
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        hits.push({
          id: String(req.headers['webhook-id']),
          timestamp: String(req.headers['webhook-timestamp']),
          signature: String(req.headers['webhook-signature']),
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('received by the e2e receiver');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/parley`;
  });
  useE2e(
    { env: { PARLEY_ALLOW_HTTP_WEBHOOKS: '1' }, viewport: { width: 1280, height: 900 }, signIn: false },
    (e2e) => void ({ page, baseUrl } = e2e),
  );

  afterAll(async () => {
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  });

  it('the endpoints page creates an endpoint, shows its secret once and shows its deliveries', async () => {
    await signIn(page, baseUrl, ADMIN);
    await page.getByRole('link', { name: 'Team' }).click();
    await page.getByRole('link', { name: 'Integrations' }).click();
    const form = page.getByRole('form', { name: 'New webhook endpoint' });
    await form.getByLabel('URL').fill(receiverUrl);
    await form.getByRole('button', { name: 'Add endpoint' }).click();
    const secretField = page.getByLabel('Signing secret');
    await secretField.waitFor();
    const secret = await secretField.inputValue();
    expect(secret).toMatch(/^whsec_/);

    const card = page.getByRole('region', { name: `Endpoint ${receiverUrl}` });
    await card.getByRole('button', { name: 'Send test event' }).click();
    await eventually(async () => {
      await expect(
        card.getByTestId('delivery-row').filter({ hasText: 'webhook.test' }).filter({ hasText: 'succeeded' }).count(),
      ).resolves.toBe(1);
    });
    // A real event: an inbound text in the sandbox becomes a delivered message.created.
    const sim = await page.evaluate(async () => {
      const res = await fetch('/trpc/sandbox.simulateInbound', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ from: '+447700900777', text: 'Hello from the e2e' }),
      });
      return res.status;
    });
    expect(sim).toBe(200);
    await eventually(async () => {
      const row = card.getByTestId('delivery-row').filter({ hasText: 'message.created' });
      await expect(row.count()).resolves.toBeGreaterThan(0);
      await expect(row.first().textContent()).resolves.toMatch(/succeeded.*200.*received by the e2e receiver/);
    }, 20_000);
    // Every request the receiver got is signed with the secret shown.
    expect(hits.length).toBeGreaterThanOrEqual(2);
    for (const hit of hits) expect(hit.signature.split(' ')).toContain(expectedSignature(secret, hit));
    expect(hits.some((h) => h.body.includes('Hello from the e2e'))).toBe(true);
    await page.getByRole('button', { name: 'Done' }).click();
    await screenshot(page, 'integrations', true);
  });

  it('delete asks first, in a dialog that holds focus', async () => {
    const card = page.getByRole('region', { name: `Endpoint ${receiverUrl}` });
    await card.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Delete this endpoint?' });
    await dialog.waitFor();
    const focusedText = () => page.evaluate(() => document.activeElement?.textContent?.trim());
    // Focus moves in React's commit, which a loaded machine may run a moment after the key: polled.
    const focusIs = (text: string) => eventually(async () => expect(await focusedText()).toBe(text), 5_000);
    await focusIs('Cancel');
    await page.keyboard.press('Tab');
    await focusIs('Delete endpoint');
    await page.keyboard.press('Tab');
    await focusIs('Cancel');
    await page.keyboard.press('Escape');
    await eventually(async () => expect(await dialog.count()).toBe(0), 5_000);
    await focusIs('Delete');
    await card.getByRole('button', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete endpoint' }).click();
    await eventually(async () => {
      await expect(page.getByText('No endpoints yet.').count()).resolves.toBe(1);
    });
  });
});
