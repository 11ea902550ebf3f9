import { useEffect, useRef, useState } from 'react';
import { formatWhen, timePresets, toLocalInput } from '../lib/snooze-times';

/**
 * A menu of times (presets in the agent's time zone, or a picked one): the thread header's snooze
 * menu and the composer's "send later". `open`/`onOpenChange` let a keyboard shortcut open it.
 */
export function TimeMenu({
  label,
  title,
  open,
  onOpenChange,
  onPick,
  disabled,
  testId,
}: {
  label: string;
  title: string;
  open: boolean;
  onOpenChange: (open: boolean) => void;
  onPick: (at: Date) => void;
  disabled?: boolean;
  testId: string;
}) {
  const [picked, setPicked] = useState('');
  const menu = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!open) return;
    menu.current?.querySelector<HTMLElement>('button')?.focus();
    const close = (e: MouseEvent) => {
      if (!menu.current?.contains(e.target as Node) && e.target !== button.current) onOpenChange(false);
    };
    document.addEventListener('mousedown', close);
    return () => document.removeEventListener('mousedown', close);
  }, [open, onOpenChange]);
  const choose = (at: Date) => {
    onOpenChange(false);
    button.current?.focus();
    onPick(at);
  };
  const now = new Date();
  return (
    <div className="time-menu">
      <button
        ref={button}
        className="button"
        type="button"
        aria-haspopup="menu"
        aria-expanded={open}
        disabled={disabled}
        onClick={() => onOpenChange(!open)}
        data-testid={testId}
      >
        {label}
      </button>
      {open && (
        <div
          ref={menu}
          className="time-menu-popup"
          role="menu"
          aria-label={title}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.stopPropagation();
              onOpenChange(false);
              button.current?.focus();
              return;
            }
            // The menu pattern: ↑ ↓ move between the choices (wrapping), Home / End go to the first / last.
            // Only from a choice: in the picked-time field the arrows change the time.
            if (!(e.target instanceof HTMLElement) || e.target.getAttribute('role') !== 'menuitem') return;
            const items = [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
            const at = items.indexOf(e.target);
            const moves: Record<string, number> = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: items.length - 1 };
            const to = moves[e.key];
            if (to === undefined || items.length === 0) return;
            e.preventDefault();
            e.stopPropagation();
            items[(to + items.length) % items.length]?.focus();
          }}
        >
          {timePresets(now).map((p) => (
            <button
              key={p.key}
              type="button"
              role="menuitem"
              className="time-menu-item"
              onClick={() => choose(p.at)}
              data-testid={`${testId}-${p.key}`}
            >
              <span>{p.label}</span> <span className="muted small">{formatWhen(p.at.toISOString())}</span>
            </button>
          ))}
          <form
            className="time-menu-pick"
            onSubmit={(e) => {
              e.preventDefault();
              const at = new Date(picked);
              if (!Number.isNaN(at.getTime())) choose(at);
            }}
          >
            <label className="small">
              Pick a time
              <input
                type="datetime-local"
                className="input"
                min={toLocalInput(now)}
                value={picked}
                onChange={(e) => setPicked(e.target.value)}
                data-testid={`${testId}-input`}
              />
            </label>
            <button type="submit" className="button" disabled={picked === ''}>
              Set
            </button>
          </form>
        </div>
      )}
    </div>
  );
}
