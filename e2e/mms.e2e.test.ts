import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { eventually, screenshot } from './support/browser';
import { useE2e } from './support/e2e';

/** MMS in the sandbox: a photo from a US phone to the Plivo number, and a picture sent back. */
const PLIVO_NUMBER = '+14155550100';
const CUSTOMER = '+12015550199';

let page: Page;

const row = (text: string) => page.locator('.conversation-row', { hasText: text });

describe('MMS in Chromium', () => {
  useE2e({}, (e2e) => void ({ page } = e2e));

  it('an inbound photo (sandbox) appears live in the thread and opens full size in a dialog', async () => {
    await page.getByRole('button', { name: /sandbox/i }).click();
    await page.getByLabel('From', { exact: true }).fill(CUSTOMER);
    await page.getByLabel('To', { exact: true }).selectOption(PLIVO_NUMBER);
    await page.getByLabel('Text', { exact: true }).fill('Here is the damaged box');
    await page.getByLabel('With a photo (MMS)').check();
    await page.getByRole('button', { name: 'Receive' }).click();
    await row('Here is the damaged box').waitFor();
    // Plivo's MMS names no type: the preview says 📷 once the picture is downloaded and known to be one.
    await eventually(async () => {
      expect(await row('Here is the damaged box').textContent()).toContain('📷 Here is the damaged box');
    }, 15_000);
    await page.getByRole('button', { name: 'Close the sandbox panel' }).click();
    await row('Here is the damaged box').click();

    // Parley downloads the picture after storing the message; the thread shows it when that lands (live).
    const thumb = page.locator('.message-in .media-thumb img');
    await thumb.waitFor({ timeout: 15_000 });
    await eventually(async () => {
      expect(await thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
    });
    await screenshot(page, 'mms-inbound');

    await page.locator('.message-in .media-thumb').click();
    const dialog = page.getByTestId('media-dialog');
    await dialog.waitFor();
    expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
    await expect(dialog.getByRole('link', { name: 'Open in a new tab' }).getAttribute('href')).resolves.toMatch(/^\/media\/\d+$/);
    await screenshot(page, 'mms-dialog');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  it('an agent attaches a picture: a wrong file is refused readably, the picture shows, is sent, then delivered', async () => {
    // Drag-and-drop of a file that is not a picture: a readable error, nothing attached.
    const composer = page.getByTestId('composer');
    const notAPicture = await page.evaluateHandle(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['just some text'], 'notes.txt', { type: 'text/plain' }));
      return dt;
    });
    await composer.dispatchEvent('dragover', { dataTransfer: notAPicture });
    await composer.dispatchEvent('drop', { dataTransfer: notAPicture });
    await expect(page.getByTestId('attach-error').textContent()).resolves.toMatch(/not a picture Parley can send/);

    // The picker: a real PNG (a screenshot of part of the page).
    const png = await page.screenshot({ clip: { x: 0, y: 0, width: 120, height: 80 } });
    await page.getByTestId('attach-input').setInputFiles({ name: 'box.png', mimeType: 'image/png', buffer: png });
    const preview = page.getByTestId('composer-attachment');
    await preview.locator('img').waitFor();
    await eventually(async () => {
      expect(await preview.locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(120);
    });
    await expect(page.getByTestId('attach-error').count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await preview.waitFor({ state: 'detached' });

    const sent = page.locator('.message-out', { has: page.locator('.media-thumb') }).last();
    await sent.waitFor();
    await sent.locator('.status[data-status="delivered"]').waitFor({ timeout: 20_000 });
    await expect(sent.locator('.media-thumb img').evaluate((img: HTMLImageElement) => img.naturalWidth)).resolves.toBe(120);
    await eventually(async () => {
      expect(await row(CUSTOMER).textContent()).toContain('📷 Photo');
    });
    await screenshot(page, 'mms-sent');
  });
});
