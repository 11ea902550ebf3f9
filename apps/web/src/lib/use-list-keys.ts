import { useEffect, useRef } from 'react';

function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

/** j / k or ↓ / ↑ anywhere but a text field move through the list. */
export function useListKeys(
  items: readonly { id: number }[],
  selected: number | null,
  onMove: (id: number, index: number) => void,
): void {
  const latest = useRef({ items, selected, onMove });
  latest.current = { items, selected, onMove };

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
      const step = event.key === 'j' || event.key === 'ArrowDown' ? 1 : event.key === 'k' || event.key === 'ArrowUp' ? -1 : 0;
      if (step === 0) return;
      const { items: list, selected: current, onMove: move } = latest.current;
      if (list.length === 0) return;
      const index = list.findIndex((item) => item.id === current);
      const next = index === -1 ? 0 : Math.min(list.length - 1, Math.max(0, index + step));
      const target = list[next];
      if (!target) return;
      event.preventDefault();
      move(target.id, next);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
