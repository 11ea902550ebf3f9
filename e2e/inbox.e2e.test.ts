import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { eventually, screenshot } from './support/browser';
import { useE2e } from './support/e2e';
import { ADMIN, type ServerHarness } from './support/server';

const CUSTOMER = '+447700900123';
const REJECTED = '+447700900666';

let harness: ServerHarness;
let page: Page;
let baseUrl: string;

/** The server's own sandbox.simulateInbound over HTTP, with the page's session cookie. */
async function simulateInbound(from: string, text: string): Promise<void> {
  const res = await page.request.post(`${baseUrl}/trpc/sandbox.simulateInbound`, { data: { from, text } });
  expect(res.status(), await res.text()).toBe(200);
}

const row = (text: string) => page.locator('.conversation-row', { hasText: text });
const bubble = (text: string) => page.locator('.message', { has: page.locator('.bubble', { hasText: text }) });

const SEND = '**/trpc/message.send**';

/**
 * Holds the page's first message.send request until `release()` (its body rewritten by `rewrite`,
 * if given); later ones pass at once. `count`: requests seen so far; `done()` releases and unroutes.
 */
async function holdFirstSend(rewrite?: (body: string) => string) {
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const sends = {
    count: 0,
    release: () => release(),
    done: async () => {
      release();
      await page.unroute(SEND);
    },
  };
  await page.route(SEND, async (route) => {
    sends.count += 1;
    if (sends.count > 1) return await route.continue();
    await held;
    const body = route.request().postData() ?? '';
    await route.continue(rewrite ? { postData: rewrite(body) } : {});
  });
  return sends;
}

describe('the inbox in Chromium', () => {
  useE2e({ signIn: false }, (e2e) => void ({ harness, page, baseUrl } = e2e));

  it('signs in and shows the agent and a live connection', async () => {
    await page.goto(baseUrl);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.locator('.connection[data-status="live"]').waitFor();
    await page.getByText('No conversations here yet.').waitFor();
  });

  it('shows a simulated inbound text in the list and the open thread without reload', async () => {
    await simulateInbound(CUSTOMER, 'Hi, is my order on its way?');
    await row('Hi, is my order on its way?').waitFor();
    await expect(row(CUSTOMER).locator('.badge').textContent()).resolves.toBe('1');
    await row(CUSTOMER).click();
    await bubble('Hi, is my order on its way?').waitFor();
    // Opening marks it read.
    await row(CUSTOMER).locator('.badge').waitFor({ state: 'detached' });

    await simulateInbound(CUSTOMER, 'It was due yesterday.');
    await bubble('It was due yesterday.').waitFor();
    await eventually(async () => expect(await row(CUSTOMER).locator('.row-preview').textContent()).toContain('It was due yesterday.'));
  });

  it('counts characters, encoding and segments as you type', async () => {
    const input = page.getByLabel('Reply');
    await input.fill('Olá! Your parcel 📦 left the depot this morning and should reach you before 6pm today — thanks for your patience.');
    await expect(page.getByTestId('sms-encoding').textContent()).resolves.toBe('Unicode');
    await page.getByTestId('sms-unicode-warning').waitFor();
    await page.getByTestId('sms-segments-warning').waitFor();
    await screenshot(page, 'composer-counter');
    await input.fill('');
  });

  it('sends a reply with Enter and shows it reach delivered', async () => {
    const input = page.getByLabel('Reply');
    await input.fill('Sorry about that');
    await input.press('Shift+Enter');
    await input.pressSequentially('it ships today.');
    await expect(page.getByTestId('sms-encoding').textContent()).resolves.toBe('GSM-7');
    await input.press('Enter');
    const sent = bubble('it ships today.');
    await sent.waitFor();
    await expect(sent.locator('.bubble').textContent()).resolves.toBe('Sorry about that\nit ships today.');
    await eventually(async () => expect(await input.inputValue()).toBe(''));
    await sent.locator('.status[data-status="delivered"]').waitFor({ timeout: 15_000 });
    await screenshot(page, 'inbox');
  });

  it('keeps a reply typed while the last one is still sending, and Enter sends it next, in order', async () => {
    const input = page.getByLabel('Reply');
    // Hold the first send's request until the second reply has been typed and Enter pressed.
    const sends = await holdFirstSend();
    try {
      await input.fill('Checking with the courier.');
      await input.press('Enter');
      await eventually(async () => expect(sends.count).toBe(1));
      await input.fill('One moment please.');
      await input.press('Enter');
      await expect(page.getByRole('button', { name: 'Sending…' }).count()).resolves.toBe(1);
      sends.release();
      await bubble('One moment please.').waitFor();
      // Sent once each, the first first, and the box empty once both went.
      const texts = await page.locator('.message .bubble').allTextContents();
      const first = texts.indexOf('Checking with the courier.');
      expect(first).toBeGreaterThanOrEqual(0);
      expect(texts.indexOf('One moment please.')).toBe(first + 1);
      expect(texts.filter((t) => t === 'One moment please.')).toHaveLength(1);
      await eventually(async () => expect(await input.inputValue()).toBe(''));
      expect(sends.count).toBe(2);
    } finally {
      await sends.done();
    }
  });

  it('a refused send keeps what was typed after it: not sent by itself, sent on the next Enter', async () => {
    const input = page.getByLabel('Reply');
    // The first send reaches the server over the 1,000-character limit, so the server refuses it.
    const sends = await holdFirstSend((body) => body.replace('First try.', 'x'.repeat(1200)));
    try {
      await input.fill('First try.');
      await input.press('Enter');
      await eventually(async () => expect(sends.count).toBe(1));
      await input.fill('Typed while it was sending.');
      await input.press('Enter');
      sends.release();
      await page.getByTestId('send-error').waitFor();
      await expect(input.inputValue()).resolves.toBe('Typed while it was sending.');
      expect(sends.count).toBe(1);
      expect(await bubble('Typed while it was sending.').count()).toBe(0);
      await input.press('Enter');
      await bubble('Typed while it was sending.').waitFor();
      await page.getByTestId('send-error').waitFor({ state: 'detached' });
      expect(sends.count).toBe(2);
    } finally {
      await sends.done();
    }
  });

  it('shows a failed send with its reason', async () => {
    await page.getByRole('button', { name: 'New conversation' }).click();
    await page.getByLabel('To', { exact: true }).fill('+44 7700');
    await page.getByText('Number is too short').waitFor();
    await page.getByLabel('To', { exact: true }).fill('+44 7700 900666');
    await page.getByText(`Sends to ${REJECTED}`).waitFor();
    await page.getByLabel('Message', { exact: true }).fill('Your code is 1234');
    await page.getByRole('dialog').getByRole('button', { name: 'Send' }).click();
    const sent = bubble('Your code is 1234');
    await sent.waitFor();
    const failed = sent.locator('.status[data-status="rejected"]');
    await failed.waitFor({ timeout: 15_000 });
    const reason = await failed.getAttribute('title');
    expect(reason).toBeTruthy();
    expect(reason).not.toBe('No reason given');
    await failed.click();
    await sent.locator('.status-reason').waitFor();
    await screenshot(page, 'thread-failed');
  });

  it('locks the composer when the contact texts STOP', async () => {
    await row(CUSTOMER).click();
    await page.getByLabel('Reply').waitFor();
    await simulateInbound(CUSTOMER, 'STOP');
    await page.getByTestId('composer-locked').waitFor();
    await expect(page.getByLabel('Reply').count()).resolves.toBe(0);
    await page.setViewportSize({ width: 390, height: 780 });
    await screenshot(page, 'thread-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('after a crash and restart on the same port, shows every text that came meanwhile, once, without reload', async () => {
    const port = harness.current?.port ?? 0;
    await harness.kill();
    await page.locator('.connection[data-status="reconnecting"]').waitFor({ timeout: 15_000 });
    await harness.start(port);
    // Straight after the restart, before the page has reconnected: it must arrive by replay.
    await simulateInbound('+447700900777', 'sent while you were away');
    await page.locator('.connection[data-status="live"]').waitFor({ timeout: 20_000 });
    await simulateInbound('+447700900777', 'and one after you were back');
    await row('+447700900777').click();
    await bubble('and one after you were back').waitFor();
    await expect(bubble('sent while you were away').count()).resolves.toBe(1);
    await expect(bubble('and one after you were back').count()).resolves.toBe(1);
    await expect(row('+447700900777').count()).resolves.toBe(1);
  });

  it('sends you back to sign-in with a message when the session is gone (401)', async () => {
    await page.context().clearCookies();
    await page.getByRole('tab', { name: 'Closed' }).click();
    await page.getByText('Your session has expired').waitFor();
    await page.getByLabel('Email').waitFor();
  });
});
