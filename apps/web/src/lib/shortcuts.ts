import { useEffect, useRef } from 'react';

/** What a key does in the inbox. */
export type ShortcutAction =
  'next' | 'previous' | 'open' | 'reply' | 'close' | 'pending' | 'snooze' | 'assignToMe' | 'search' | 'newConversation' | 'help';

export interface Shortcut {
  action: ShortcutAction;
  /** `KeyboardEvent.key` values. */
  keys: readonly string[];
  /** How the help lists the keys. */
  label: string;
  description: string;
}

/** The inbox's keys, in the order the help lists them (the README's shortcut table is the same). */
export const SHORTCUTS: readonly Shortcut[] = [
  { action: 'next', keys: ['j', 'ArrowDown'], label: 'j or ↓', description: 'Next conversation in the list' },
  { action: 'previous', keys: ['k', 'ArrowUp'], label: 'k or ↑', description: 'Previous conversation in the list' },
  { action: 'open', keys: ['Enter'], label: 'Enter', description: 'Open the highlighted conversation' },
  { action: 'reply', keys: ['r'], label: 'r', description: 'Write a reply (focuses the composer)' },
  { action: 'close', keys: ['e'], label: 'e', description: 'Close the open conversation' },
  { action: 'pending', keys: ['p'], label: 'p', description: 'Mark the open conversation pending' },
  { action: 'snooze', keys: ['s'], label: 's', description: 'Snooze the open conversation (opens the snooze menu)' },
  { action: 'assignToMe', keys: ['a'], label: 'a', description: 'Assign the open conversation to me' },
  { action: 'search', keys: ['/'], label: '/', description: 'Search conversations' },
  { action: 'newConversation', keys: ['n'], label: 'n', description: 'New conversation' },
  { action: 'help', keys: ['?'], label: '?', description: 'Show these shortcuts' },
];

const BY_KEY = new Map(SHORTCUTS.flatMap((shortcut) => shortcut.keys.map((key) => [key, shortcut.action] as const)));

/** A text field (or a select, or anything editable): keys there are typing, never shortcuts. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target.closest('[contenteditable]:not([contenteditable="false"])')) return true;
  return target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
}

/** Controls that act on Enter themselves (a focused conversation row opens by its own click). */
function handlesEnter(target: EventTarget | null): boolean {
  return (
    target instanceof Element &&
    target.closest('button, a[href], summary, [role="button"], [role="link"], [role="tab"], [role="menuitem"], [role="option"]') !== null
  );
}

/** Focus on nothing in particular, or in the conversation list (marked `data-list-keys`). */
function arrowsMoveList(target: EventTarget | null): boolean {
  if (!(target instanceof Element)) return true;
  return target === document.body || target === document.documentElement || target.closest('[data-list-keys]') !== null;
}

/** An open dialog (or a menu, for keys pressed in it) owns the keyboard: the inbox behind it must not act. */
function inDialog(target: EventTarget | null): boolean {
  if (target instanceof Element && target.closest('[role="dialog"], [role="alertdialog"], [role="menu"]')) return true;
  return typeof document !== 'undefined' && document.querySelector('[aria-modal="true"]') !== null;
}

type KeyEventLike = Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey' | 'target' | 'isComposing' | 'defaultPrevented'>;

/**
 * The action a key press means, or null: never while typing in a field, with Ctrl, ⌘ or Alt held (the
 * browser's and the system's shortcuts), during an IME composition, inside a dialog, or when something
 * already handled the key. Shift is allowed: it is how `?` is typed (and `J` is not `j`).
 */
export function shortcutFor(event: KeyEventLike): ShortcutAction | null {
  if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.metaKey || event.altKey) return null;
  if (isTypingTarget(event.target) || inDialog(event.target)) return null;
  const action = BY_KEY.get(event.key) ?? null;
  if (action === 'open' && handlesEnter(event.target)) return null;
  // ↑ and ↓ scroll whatever has focus (the thread, a page) unless that is the list itself or nothing.
  if ((event.key === 'ArrowDown' || event.key === 'ArrowUp') && !arrowsMoveList(event.target)) return null;
  return action;
}

export type ShortcutHandlers = Partial<Record<ShortcutAction, () => void>>;

/**
 * Runs the handler for the key, if there is one (a key without a handler — say `p` before the pending
 * status exists — does nothing and keeps its default). Returns whether it handled the key. Escape in a text
 * field outside a dialog leaves the field, so the keys work again without reaching for the mouse.
 */
export function handleShortcut(event: KeyboardEvent, handlers: ShortcutHandlers): boolean {
  if (event.key === 'Escape' && !event.defaultPrevented && isTypingTarget(event.target) && !inDialog(event.target)) {
    (event.target as HTMLElement).blur();
    return true;
  }
  const action = shortcutFor(event);
  const handler = action === null ? undefined : handlers[action];
  if (!handler) return false;
  event.preventDefault();
  handler();
  return true;
}

/** Listens on the window while mounted; the latest handlers are used (no re-subscribing per render). */
export function useShortcuts(handlers: ShortcutHandlers): void {
  const latest = useRef(handlers);
  latest.current = handlers;
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => void handleShortcut(event, latest.current);
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
