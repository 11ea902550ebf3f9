import { useEffect, useRef, useSyncExternalStore } from 'react';

/**
 * The `s` key opens the thread header's snooze menu. The menu registers its opener here while mounted
 * (`useSnoozeMenuShortcut(() => setOpen(true))` in the snooze menu component); without one (no
 * conversation open) `s` does nothing.
 */
let opener: (() => void) | null = null;
const listeners = new Set<() => void>();

function set(next: (() => void) | null): void {
  opener = next;
  for (const listener of listeners) listener();
}

/** For the snooze menu: while mounted, `s` calls `open`. */
export function useSnoozeMenuShortcut(open: () => void): void {
  const latest = useRef(open);
  latest.current = open;
  useEffect(() => {
    const mine = () => latest.current();
    set(mine);
    return () => {
      if (opener === mine) set(null);
    };
  }, []);
}

/** Opens the snooze menu; false when there is none. */
export function openSnoozeMenu(): boolean {
  if (!opener) return false;
  opener();
  return true;
}

/** Whether a snooze menu is there to open (re-renders when one mounts or unmounts). */
export function useSnoozeMenuAvailable(): boolean {
  return useSyncExternalStore(
    (onChange) => {
      listeners.add(onChange);
      return () => listeners.delete(onChange);
    },
    () => opener !== null,
  );
}
