import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, renderHook } from '@testing-library/react';
import { SHORTCUTS, useShortcuts, type ShortcutAction, type ShortcutHandlers } from './shortcuts';

afterEach(() => {
  cleanup();
  document.body.innerHTML = '';
});

/** A keydown as the browser sends it: on `target`, bubbling to the window. */
function press(target: Element, key: string, init: KeyboardEventInit = {}): KeyboardEvent {
  const event = new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...init });
  target.dispatchEvent(event);
  return event;
}

function spies(): Record<ShortcutAction, ReturnType<typeof vi.fn>> {
  return Object.fromEntries(SHORTCUTS.map((s) => [s.action, vi.fn()])) as Record<ShortcutAction, ReturnType<typeof vi.fn>>;
}

function mount(html: string): { handlers: Record<ShortcutAction, ReturnType<typeof vi.fn>>; root: HTMLElement } {
  document.body.innerHTML = html;
  const handlers = spies();
  renderHook(() => useShortcuts(handlers as ShortcutHandlers));
  return { handlers, root: document.body };
}

function byId(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`no #${id}`);
  return el;
}

const calledActions = (handlers: Record<ShortcutAction, ReturnType<typeof vi.fn>>) =>
  (Object.keys(handlers) as ShortcutAction[]).filter((action) => handlers[action].mock.calls.length > 0);

describe('the inbox keys', () => {
  it.each([
    ['j', 'next'],
    ['ArrowDown', 'next'],
    ['k', 'previous'],
    ['ArrowUp', 'previous'],
    ['Enter', 'open'],
    ['r', 'reply'],
    ['e', 'close'],
    ['p', 'pending'],
    ['s', 'snooze'],
    ['a', 'assignToMe'],
    ['/', 'search'],
    ['n', 'newConversation'],
    ['?', 'help'],
  ] as const)('%s calls %s (once, and keeps the key from doing anything else)', (key, action) => {
    const { handlers, root } = mount('<div id="page"></div>');
    const event = press(root, key, key === '?' ? { shiftKey: true } : {});
    expect(calledActions(handlers)).toEqual([action]);
    expect(event.defaultPrevented).toBe(true);
  });

  it.each([
    ['an input', '<input id="t">'],
    ['a search field', '<input id="t" type="search">'],
    ['a textarea', '<textarea id="t"></textarea>'],
    ['a select', '<select id="t"><option>x</option></select>'],
    ['a contenteditable', '<div id="t" contenteditable="true"></div>'],
    ['a child of a contenteditable', '<div contenteditable=""><b id="t">bold</b></div>'],
  ])('never fire while typing in %s', (_, html) => {
    const { handlers } = mount(html);
    const field = byId('t');
    for (const shortcut of SHORTCUTS) for (const key of shortcut.keys) expect(press(field, key).defaultPrevented).toBe(false);
    expect(calledActions(handlers)).toEqual([]);
  });

  it.each(['ctrlKey', 'metaKey', 'altKey'] as const)('never fire with %s held (the browser keeps Ctrl+R, ⌘N, …)', (modifier) => {
    const { handlers, root } = mount('<div></div>');
    for (const key of ['j', 'k', 'r', 'e', 'a', 'n', '/', '?', 'Enter'])
      expect(press(root, key, { [modifier]: true }).defaultPrevented).toBe(false);
    expect(calledActions(handlers)).toEqual([]);
  });

  it('do not fire during an IME composition, or for a key something already handled', () => {
    const { handlers, root } = mount('<div></div>');
    press(root, 'j', { isComposing: true });
    const handled = new KeyboardEvent('keydown', { key: 'e', bubbles: true, cancelable: true });
    handled.preventDefault();
    root.dispatchEvent(handled);
    expect(calledActions(handlers)).toEqual([]);
  });

  it('leave a shifted letter alone (J is not j)', () => {
    const { handlers, root } = mount('<div></div>');
    press(root, 'J', { shiftKey: true });
    press(root, 'E', { shiftKey: true });
    expect(calledActions(handlers)).toEqual([]);
  });

  it('let a focused button take its own Enter (a focused row opens by its click), but not its letters', () => {
    const { handlers } = mount('<button id="row">Ann</button>');
    const row = byId('row');
    expect(press(row, 'Enter').defaultPrevented).toBe(false);
    expect(handlers.open).not.toHaveBeenCalled();
    press(row, 'e');
    expect(calledActions(handlers)).toEqual(['close']);
  });

  it('leave ↑ ↓ to a scrollable thread, and move the list when it has focus', () => {
    const { handlers } = mount('<div id="messages" tabindex="0"></div><div data-list-keys><button id="row">Ann</button></div>');
    press(byId('messages'), 'ArrowDown');
    expect(handlers.next).not.toHaveBeenCalled();
    press(byId('row'), 'ArrowDown');
    expect(handlers.next).toHaveBeenCalledTimes(1);
    // j works from anywhere that is not a field.
    press(byId('messages'), 'j');
    expect(handlers.next).toHaveBeenCalledTimes(2);
  });

  it('do nothing while a dialog is open, even with focus outside it', () => {
    const { handlers } = mount(
      '<button id="outside">x</button><div role="dialog" aria-modal="true"><button id="inside">Close</button></div>',
    );
    press(byId('inside'), 'e');
    press(byId('outside'), 'n');
    press(document.body, 'j');
    expect(calledActions(handlers)).toEqual([]);
  });

  it('do nothing for keys pressed in a menu (the snooze menu: e there must not close the conversation)', () => {
    const { handlers } = mount(
      '<button id="outside">x</button><div role="menu"><button role="menuitem" id="item">In 1 hour</button></div>',
    );
    for (const key of ['e', 'j', 'p', 's', 'a', 'Enter', 'ArrowDown']) press(byId('item'), key);
    expect(calledActions(handlers)).toEqual([]);
    press(byId('outside'), 'e');
    expect(calledActions(handlers)).toEqual(['close']);
  });

  it('leave a key without a handler untouched (p before the pending status exists)', () => {
    document.body.innerHTML = '<div></div>';
    const close = vi.fn();
    renderHook(() => useShortcuts({ close }));
    expect(press(document.body, 'p').defaultPrevented).toBe(false);
    expect(press(document.body, 'e').defaultPrevented).toBe(true);
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('Escape in a text field leaves it, so the keys work again; not inside a dialog', () => {
    const { handlers } = mount('<textarea id="reply"></textarea><div role="dialog"><input id="to"></div>');
    const reply = document.getElementById('reply') as HTMLTextAreaElement;
    reply.focus();
    press(reply, 'Escape');
    expect(document.activeElement).toBe(document.body);
    press(document.body, 'e');
    expect(handlers.close).toHaveBeenCalledTimes(1);
    const to = document.getElementById('to') as HTMLInputElement;
    to.focus();
    press(to, 'Escape');
    expect(document.activeElement).toBe(to);
  });

  it('list every action once in the help', () => {
    const actions = SHORTCUTS.map((s) => s.action);
    expect(new Set(actions).size).toBe(actions.length);
    expect(actions).toHaveLength(11);
  });
});
