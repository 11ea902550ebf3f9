import { useLayoutEffect, useRef, type RefObject } from 'react';
import { createFocusTrap } from 'focus-trap';

/**
 * A dialog's keyboard contract (focus-trap): while it is mounted, Tab and Shift+Tab stay inside it, focus
 * starts on `initialFocus` (a selector inside it) or its first control, Escape calls `onClose`, and when it
 * unmounts focus goes back to what had it before it opened (or `returnFocus()`, when that element is gone).
 */
export function useDialogFocus(
  ref: RefObject<HTMLElement | null>,
  onClose: () => void,
  options: { initialFocus?: string; returnFocus?: () => HTMLElement | null } = {},
): void {
  const latest = useRef({ onClose, ...options });
  latest.current = { onClose, ...options };
  // Read during the first render: by the time the effect runs, focus may already be inside the dialog.
  const opener = useRef<Element | null>(null);
  if (opener.current === null && typeof document !== 'undefined') opener.current = document.activeElement;

  // A layout effect: its cleanup runs in the same commit that removes the dialog (before its nodes
  // leave the page), and gives focus back there and then. focus-trap's own return waits a tick
  // (setTimeout 0), in which focus sat on <body> where a test or a screen reader could see it.
  useLayoutEffect(() => {
    const container = ref.current;
    if (!container) return;
    const { initialFocus } = latest.current;
    const trap = createFocusTrap(container, {
      initialFocus: () => (initialFocus ? container.querySelector<HTMLElement>(initialFocus) : null) ?? undefined,
      fallbackFocus: container,
      // At once, not a tick later: the key that opened it was already handled (preventDefault), so it
      // cannot reach the field that gets focus.
      delayInitialFocus: false,
      // The dialog closes itself (its owner unmounts it), which deactivates the trap below.
      escapeDeactivates: (event) => {
        event.preventDefault();
        latest.current.onClose();
        return false;
      },
      allowOutsideClick: true,
      returnFocusOnDeactivate: false,
      // jsdom has no layout: there everything counts as displayed.
      tabbableOptions: { displayCheck: navigator.userAgent.includes('jsdom') ? 'none' : 'full' },
    });
    trap.activate();
    return () => {
      trap.deactivate({ returnFocus: false });
      const back = opener.current;
      const target = back instanceof HTMLElement && back.isConnected && back !== document.body ? back : latest.current.returnFocus?.();
      target?.focus();
    };
  }, [ref]);
}
