import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { eventually, screenshot } from './support/browser';
import { useE2e } from './support/e2e';

/**
 * Issue 13, keyboard: three inbound conversations triaged with the keyboard alone (no mouse after sign-in):
 * j / k move, Enter opens, a assigns to me, r replies, p pending, s snoozes through its menu, e closes.
 * After each key the server's state is read back over tRPC, and focus is checked to be where it should be
 * and visibly so.
 */
const FIRST = '+447700900501';
const SECOND = '+447700900502';
const THIRD = '+447700900503';

interface Conversation {
  id: number;
  contactPhone: string;
  status: string;
  assignedAgentId: number | null;
  snoozeUntil: string | null;
}

let page: Page;
let baseUrl: string;
let meId: number;
const ids: Record<string, number> = {};

async function call<T>(path: string, input: unknown, method: 'query' | 'mutation'): Promise<T> {
  const res =
    method === 'query'
      ? await page.request.get(`${baseUrl}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`)
      : await page.request.post(`${baseUrl}/trpc/${path}`, { data: input });
  expect(res.status(), await res.text()).toBe(200);
  return ((await res.json()) as { result: { data: T } }).result.data;
}
const query = <T>(path: string, input: unknown = undefined) => call<T>(path, input, 'query');
const conversation = (phone: string) => query<Conversation>('conversation.get', { id: ids[phone] });

/** What has focus: its conversation id, test id, element id, and whether the browser shows a focus ring. */
function focused() {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return { body: true, conversationId: null, testId: null, id: null, visible: false, role: null };
    const style = getComputedStyle(el);
    return {
      body: false,
      conversationId: el.dataset.conversationId ? Number(el.dataset.conversationId) : null,
      testId: el.dataset.testid ?? null,
      id: el.id || null,
      role: el.getAttribute('role'),
      visible: el.matches(':focus-visible') && style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
    };
  });
}

async function press(key: string): Promise<void> {
  await page.keyboard.press(key);
}

/** The conversation row the keyboard's focus is on (and that its focus ring shows). */
async function expectFocusOnRow(phone: string): Promise<void> {
  await eventually(async () => {
    const f = await focused();
    expect(f.conversationId).toBe(ids[phone]);
    expect(f.visible).toBe(true);
  });
}

const openIds = async () => (await query<{ items: Conversation[] }>('conversation.list', { filter: 'open' })).items.map((c) => c.id);

describe('keyboard-only triage in Chromium', () => {
  useE2e({}, async (e2e) => {
    ({ page, baseUrl } = e2e);
    meId = (await query<{ id: number }>('auth.me')).id;
    // Oldest first: the list shows the newest on top (THIRD, SECOND, FIRST).
    for (const [from, text] of [
      [FIRST, 'First: my parcel is late'],
      [SECOND, 'Second: wrong size delivered'],
      [THIRD, 'Third: can I change my address?'],
    ] as const) {
      await call('sandbox.simulateInbound', { from, text }, 'mutation');
      await page.locator('.conversation-row', { hasText: text }).waitFor();
    }
    const all = await query<{ items: Conversation[] }>('conversation.list', { filter: 'all' });
    for (const c of all.items) ids[c.contactPhone] = c.id;
    expect(Object.keys(ids).sort()).toEqual([FIRST, SECOND, THIRD]);
  });

  it('moves with j and k, opens with Enter, assigns with a, replies with r and closes with e', async () => {
    // After sign-in nothing in particular has focus: j starts at the top.
    await press('j');
    await expectFocusOnRow(THIRD);
    await press('j');
    await expectFocusOnRow(SECOND);
    await press('k');
    await expectFocusOnRow(THIRD);
    await screenshot(page, 'keyboard-cursor');

    await press('Enter');
    await page.getByRole('heading', { name: THIRD }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/c/${ids[THIRD]}`);
    await expectFocusOnRow(THIRD);

    await press('a');
    await eventually(async () => expect((await conversation(THIRD)).assignedAgentId).toBe(meId));
    await page.locator(`#assign-${ids[THIRD]}`).evaluate((el, id) => {
      if ((el as HTMLSelectElement).value !== String(id)) throw new Error('the header does not show the assignment');
    }, meId);

    await press('r');
    await eventually(async () => expect((await focused()).id).toBe(`composer-${ids[THIRD]}`));
    // Typed keys land in the reply, never as shortcuts (this text has j, k, e, a, p, s, r, n in it).
    await page.keyboard.type('Yes: send me the new address and we change it.');
    await eventually(async () => expect((await focused()).id).toBe(`composer-${ids[THIRD]}`));
    expect((await conversation(THIRD)).status).toBe('open');
    await press('Enter');
    await page.locator('.message[data-status="delivered"]', { hasText: 'send me the new address' }).waitFor({ timeout: 15_000 });
    const messages = await query<{ items: { direction: string; text: string; agentId: number | null }[] }>('conversation.messages', {
      conversationId: ids[THIRD],
    });
    expect(messages.items.filter((m) => m.direction === 'out')).toEqual([
      expect.objectContaining({ text: 'Yes: send me the new address and we change it.', agentId: meId }),
    ]);
    await screenshot(page, 'keyboard-replied');

    // Esc leaves the reply box, so the keys act again.
    await press('Escape');
    await eventually(async () => expect((await focused()).body).toBe(true));
    await press('e');
    await eventually(async () => expect((await conversation(THIRD)).status).toBe('closed'));
    await page.getByRole('button', { name: 'Reopen' }).waitFor();
    await page.locator('.conversation-row', { hasText: THIRD }).waitFor({ state: 'detached' });
    expect(await openIds()).toEqual([ids[SECOND], ids[FIRST]]);
  });

  it('marks the next one pending with p', async () => {
    // The closed one left the Open list: j goes to what took its place.
    await press('j');
    await expectFocusOnRow(SECOND);
    await press('Enter');
    await page.getByRole('heading', { name: SECOND }).waitFor();
    await press('p');
    await eventually(async () => expect((await conversation(SECOND)).status).toBe('pending'));
    await page.getByTestId('status-tag').filter({ hasText: 'Pending' }).waitFor();
    await page.locator('.conversation-row', { hasText: SECOND }).waitFor({ state: 'detached' });
    expect(await openIds()).toEqual([ids[FIRST]]);
    await screenshot(page, 'keyboard-pending');
  });

  it('snoozes the last one with s, choosing in the menu with the arrows and Enter', async () => {
    await press('j');
    await expectFocusOnRow(FIRST);
    await press('Enter');
    await page.getByRole('heading', { name: FIRST }).waitFor();

    await press('s');
    await page.getByRole('menu', { name: 'Snooze until' }).waitFor();
    await eventually(async () => {
      const f = await focused();
      expect(f.testId).toBe('snooze-1h');
      expect(f.visible).toBe(true);
    });
    const items = await page
      .getByRole('menu', { name: 'Snooze until' })
      .getByRole('menuitem')
      .evaluateAll((els) => els.map((el) => (el as HTMLElement).dataset.testid));
    expect(items.length).toBeGreaterThanOrEqual(3);
    // ↓ moves down the menu, ↑ back, and ↑ from the first wraps to the last.
    await press('ArrowDown');
    await eventually(async () => expect((await focused()).testId).toBe(items[1]));
    await press('ArrowUp');
    await eventually(async () => expect((await focused()).testId).toBe(items[0]));
    await press('ArrowUp');
    await eventually(async () => expect((await focused()).testId).toBe(items.at(-1)));
    await press('Home');
    await eventually(async () => expect((await focused()).testId).toBe(items[0]));
    // Esc closes the menu and gives focus back to its button; s opens it again.
    await press('Escape');
    await page.getByRole('menu', { name: 'Snooze until' }).waitFor({ state: 'detached' });
    await eventually(async () => expect((await focused()).testId).toBe('snooze'));
    await press('s');
    await eventually(async () => expect((await focused()).testId).toBe('snooze-1h'));
    await press('ArrowDown');
    await eventually(async () => expect((await focused()).testId).toBe(items[1]));
    const before = Date.now();
    await screenshot(page, 'keyboard-snooze-menu');
    await press('Enter');

    await eventually(async () => expect((await conversation(FIRST)).status).toBe('snoozed'));
    const until = Date.parse((await conversation(FIRST)).snoozeUntil ?? '');
    // The second choice: tonight 18:00 (before 18:00) or tomorrow 9:00, in the browser's time zone.
    const second = items[1];
    expect(['snooze-tonight', 'snooze-tomorrow']).toContain(second);
    const expected = await page.evaluate((key) => {
      const d = new Date();
      if (key === 'snooze-tomorrow') d.setDate(d.getDate() + 1);
      d.setHours(key === 'snooze-tomorrow' ? 9 : 18, 0, 0, 0);
      return d.getTime();
    }, second);
    expect(until).toBe(expected);
    expect(until).toBeGreaterThan(before);
    await page.getByTestId('status-tag').filter({ hasText: 'Snoozed until' }).waitFor();
    await page.getByTestId('snooze').waitFor({ state: 'detached' });
    // The menu's button is gone (the header offers Unsnooze): focus goes there, not lost to the page.
    await eventually(async () => {
      const f = await focused();
      expect(f.testId).toBe('unsnooze');
      expect(f.visible).toBe(true);
    });

    await page.getByText('No conversations here yet.').waitFor();
    expect(await openIds()).toEqual([]);
    const byStatus = await Promise.all([FIRST, SECOND, THIRD].map(async (phone) => (await conversation(phone)).status));
    expect(byStatus).toEqual(['snoozed', 'pending', 'closed']);
    await screenshot(page, 'keyboard-triaged');

    // And back: Enter on the focused Unsnooze reopens it, and focus goes to the Snooze button again.
    await press('Enter');
    await eventually(async () => expect((await conversation(FIRST)).status).toBe('open'));
    await eventually(async () => {
      const f = await focused();
      expect(f.testId).toBe('snooze');
      expect(f.visible).toBe(true);
    });
    await page.locator('.conversation-row', { hasText: FIRST }).waitFor();
  });
});
