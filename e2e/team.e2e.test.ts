import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, launchChromium, screenshot, signIn } from './support/browser';
import { repoRoot, screenshotsDir } from './support/paths';
import { ADMIN, ServerHarness } from './support/server';
import { ensureWebBuilt } from './support/web-build';

/** Two agents in two browser contexts: invitation, presence, a note with a mention, notifications (issue 12). */
const CUSTOMER = '+447700900321';
const BEA = { name: 'Bea Jones', email: 'bea@parley.test', password: 'bea-long-password' };

let harness: ServerHarness;
let browser: Browser;
let contextA: BrowserContext;
let contextB: BrowserContext;
let a: Page;
let b: Page;
let baseUrl: string;
let inviteUrl = '';

/**
 * Records every `new Notification(…)` into window.__notifications (the permission itself is granted
 * through the context, so the page's own permission checks run as in a real browser).
 */
function recordNotifications(): void {
  const calls: { title: string; body: string | undefined }[] = [];
  (window as unknown as { __notifications: typeof calls }).__notifications = calls;
  const Real = window.Notification;
  class Recorded {
    onclick: (() => void) | null = null;
    constructor(title: string, options?: NotificationOptions) {
      calls.push({ title, body: options?.body });
    }
    close(): void {}
    static get permission(): NotificationPermission {
      return Real.permission;
    }
    static requestPermission(): Promise<NotificationPermission> {
      return Real.requestPermission();
    }
  }
  (window as unknown as { Notification: unknown }).Notification = Recorded;
}

const notifications = (page: Page) =>
  page.evaluate(() => (window as unknown as { __notifications: { title: string; body?: string }[] }).__notifications);

const row = (page: Page, text: string) => page.locator('.conversation-row', { hasText: text });

async function newAgentContext(): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, permissions: ['notifications'] });
  await context.grantPermissions(['notifications'], { origin: baseUrl });
  await context.addInitScript(recordNotifications);
  return context;
}

describe('the team inbox with two agents in Chromium', () => {
  beforeAll(async () => {
    ensureWebBuilt();
    harness = new ServerHarness();
    baseUrl = (await harness.start()).url;
    browser = await launchChromium();
    contextA = await newAgentContext();
    contextB = await newAgentContext();
    a = await contextA.newPage();
    b = await contextB.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await harness?.stop();
  });

  it('the admin invites a colleague and gets a one-time link to copy', async () => {
    await signIn(a, baseUrl, ADMIN);
    await a.getByRole('link', { name: 'Team' }).click();
    const form = a.getByRole('form', { name: 'Invite an agent' });
    await form.getByLabel('Name').fill(BEA.name);
    await form.getByLabel('Email').fill(BEA.email);
    await form.getByRole('button', { name: 'Invite' }).click();
    const link = a.getByLabel('One-time link');
    await link.waitFor();
    inviteUrl = await link.inputValue();
    expect(inviteUrl).toMatch(new RegExp(`^${baseUrl}/invite#token=[\\w-]{43}$`));
    const bea = a.locator('tr', { hasText: BEA.email });
    await expect(bea.locator('.tag').textContent()).resolves.toBe('Invited');
    await screenshot(a, 'team', true);
    mkdirSync(path.join(repoRoot, 'docs'), { recursive: true });
    copyFileSync(path.join(screenshotsDir, 'team.png'), path.join(repoRoot, 'docs', 'team.png'));
  });

  it('the colleague opens the link, chooses a password and is signed in; it works once', async () => {
    await b.goto(inviteUrl);
    await b.getByLabel('New password').fill('short');
    await b.getByLabel('Repeat the password').fill('short');
    await b.getByRole('button', { name: 'Set password and sign in' }).click();
    // The browser's own minlength check stops it first; the server says the same (10 characters).
    await expect(b.getByLabel('New password').evaluate((el: HTMLInputElement) => el.validity.tooShort)).resolves.toBe(true);
    await b.getByLabel('New password').fill(BEA.password);
    await b.getByLabel('Repeat the password').fill(BEA.password);
    await screenshot(b, 'accept-invite');
    await b.getByRole('button', { name: 'Set password and sign in' }).click();
    await b.locator('.connection[data-status="live"]').waitFor();
    await expect(b.getByRole('link', { name: /^Bea Jones\W*signed in/ }).count()).resolves.toBe(1);
    // The token left the address bar; the agent sees no Team page.
    expect(new URL(b.url()).hash).toBe('');
    await expect(b.getByRole('link', { name: 'Team' }).count()).resolves.toBe(0);

    const again = await b.request.post(`${baseUrl}/trpc/auth.acceptInvite`, {
      data: { token: new URL(inviteUrl).hash.replace('#token=', ''), password: 'another-long-password' },
    });
    expect(again.status()).toBe(401);

    // Desktop notifications are asked for from a visible control, never on load.
    await b.getByTestId('enable-notifications').click();
    await b.getByTestId('enable-notifications').waitFor({ state: 'detached' });
  });

  it('the tab title counts unread texts; an unassigned inbound notifies the colleague', async () => {
    const res = await a.request.post(`${baseUrl}/trpc/sandbox.simulateInbound`, { data: { from: CUSTOMER, text: 'Where is my parcel?' } });
    expect(res.status(), await res.text()).toBe(200);
    await row(b, 'Where is my parcel?').waitFor();
    await eventually(async () => expect(await b.title()).toBe('(1) Parley'));
    await eventually(async () => expect((await notifications(b)).map((n) => n.title)).toContain(`New text from ${CUSTOMER}`));
    // The admin (who did not enable notifications) gets none.
    expect(await notifications(a)).toEqual([]);
  });

  it('A opens the conversation and B’s list shows A viewing; A types and B sees "replying"', async () => {
    await a.getByRole('link', { name: 'Inbox' }).click();
    await row(a, CUSTOMER).click();
    await a.getByLabel('Reply', { exact: true }).waitFor();
    await eventually(async () => expect(await row(b, CUSTOMER).getByTestId('row-presence').textContent()).toBe('Admin is viewing'));
    // Opening marked it read: the title's count is gone for everyone.
    await eventually(async () => expect(await b.title()).toBe('Parley'));

    await a.getByLabel('Reply', { exact: true }).pressSequentially('Let me check', { delay: 20 });
    await eventually(async () => expect(await row(b, CUSTOMER).getByTestId('row-presence').textContent()).toBe('Admin is replying…'));
    await screenshot(b, 'presence-replying');
  });

  it('a private note with @bea notifies Bea on the desktop; it shows in the thread and is never sent', async () => {
    await a.getByLabel('Reply', { exact: true }).fill('');
    await a.getByRole('tab', { name: 'Private note' }).click();
    await a.getByLabel('Private note').fill('@bea can you take this one? They ordered on Monday.');
    await a.getByRole('button', { name: 'Add note' }).click();
    await a.locator('.note', { hasText: 'can you take this one?' }).waitFor();

    await eventually(async () => {
      const titles = (await notifications(b)).map((n) => n.title);
      expect(titles).toContain('Admin mentioned you');
    });
    expect((await notifications(a)).map((n) => n.title)).not.toContain('Admin mentioned you');

    await row(b, CUSTOMER).click();
    const note = b.locator('.note', { hasText: 'can you take this one?' });
    await note.waitFor();
    await expect(note.locator('.mention').textContent()).resolves.toBe('@bea');
    await eventually(async () => expect(await b.getByTestId('thread-presence').textContent()).toContain('Admin is viewing'));
    await screenshot(b, 'note-mention');

    // The thread's messages are only the customer's text: the note is no message and went nowhere.
    const messages = await b.locator('.message .bubble').allTextContents();
    expect(messages).toEqual(['Where is my parcel?']);
  });

  it('before sending, Bea is told that Admin replied since she began writing, and asked', async () => {
    await b.getByLabel('Reply', { exact: true }).fill('Hi! Checking on it now.');
    await a.getByRole('tab', { name: 'Reply' }).click();
    await a.getByLabel('Reply', { exact: true }).fill('Your parcel left the depot this morning.');
    await a.getByLabel('Reply', { exact: true }).press('Enter');
    await b.locator('.message .bubble', { hasText: 'left the depot' }).waitFor();

    await b.getByLabel('Reply', { exact: true }).press('Enter');
    const collision = b.getByTestId('collision');
    await collision.waitFor();
    await expect(collision.textContent()).resolves.toContain('Admin replied while you were writing');
    await expect(collision.textContent()).resolves.toContain('Your parcel left the depot this morning.');
    await screenshot(b, 'collision');
    // A dialog like the others: focus starts on the safe choice and stays inside while it is shown…
    const focusedButton = () =>
      b.evaluate(() => {
        const el = document.activeElement;
        return { inside: el?.closest('[data-testid="collision"]') !== null, text: el?.textContent ?? null };
      });
    await eventually(async () => expect(await focusedButton()).toEqual({ inside: true, text: 'Don’t send' }));
    await b.keyboard.press('Tab');
    await eventually(async () => expect(await focusedButton()).toEqual({ inside: true, text: 'Send mine anyway' }));
    await b.keyboard.press('Shift+Tab');
    await b.keyboard.press('Tab');
    await b.keyboard.press('Tab');
    await eventually(async () => expect(await focusedButton()).toEqual({ inside: true, text: 'Don’t send' }));
    // …and Esc is "Don’t send": nothing is sent, and focus is back in the reply box with the text kept.
    await b.keyboard.press('Escape');
    await collision.waitFor({ state: 'detached' });
    const replyBox = b.getByLabel('Reply', { exact: true });
    await eventually(async () => expect(await replyBox.evaluate((el) => el === document.activeElement)).toBe(true));
    await expect(replyBox.inputValue()).resolves.toBe('Hi! Checking on it now.');
    expect(await b.locator('.message .bubble', { hasText: 'Checking on it now' }).count()).toBe(0);
    // Acknowledged: the next send goes straight out.
    await b.getByLabel('Reply', { exact: true }).press('Enter');
    await b.locator('.message .bubble', { hasText: 'Checking on it now' }).waitFor();
    // A reply that was already in the thread before Bea began writing is no collision.
    await b.getByLabel('Reply', { exact: true }).fill('Anything else I can do?');
    await b.getByLabel('Reply', { exact: true }).press('Enter');
    await b.locator('.message .bubble', { hasText: 'Anything else' }).waitFor();
    await expect(b.getByTestId('collision').count()).resolves.toBe(0);

    // "Send mine anyway" from the keyboard: sent, and focus back in the (now empty) reply box.
    await b.getByLabel('Reply', { exact: true }).fill('I can call you at noon.');
    await a.getByLabel('Reply', { exact: true }).fill('We will call you today.');
    await a.getByLabel('Reply', { exact: true }).press('Enter');
    await b.locator('.message .bubble', { hasText: 'We will call you today.' }).waitFor();
    await b.getByLabel('Reply', { exact: true }).press('Enter');
    await b.getByTestId('collision').waitFor();
    await eventually(async () => expect(await focusedButton()).toEqual({ inside: true, text: 'Don’t send' }));
    await b.keyboard.press('Tab');
    await eventually(async () => expect(await focusedButton()).toEqual({ inside: true, text: 'Send mine anyway' }));
    await b.keyboard.press('Enter');
    await b.locator('.message .bubble', { hasText: 'I can call you at noon.' }).waitFor();
    await b.getByTestId('collision').waitFor({ state: 'detached' });
    await eventually(async () => expect(await replyBox.evaluate((el) => el === document.activeElement)).toBe(true));
    await expect(replyBox.inputValue()).resolves.toBe('');
  });
});
