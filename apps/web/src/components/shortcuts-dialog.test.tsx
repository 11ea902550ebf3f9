import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { useState } from 'react';
import { ShortcutsDialog } from './shortcuts-dialog';

afterEach(cleanup);

function Harness({ onClose }: { onClose?: () => void }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>
        Keyboard shortcuts
      </button>
      <button type="button">Elsewhere</button>
      {open && (
        <ShortcutsDialog
          unavailable={['pending']}
          onClose={() => {
            onClose?.();
            setOpen(false);
          }}
        />
      )}
    </>
  );
}

// Tab staying inside needs a browser's own Tab (jsdom has none): e2e/keyboard.e2e.test.ts checks it in Chromium.
describe('the shortcuts dialog', () => {
  it('lists every key, says which are not there yet, and is a labelled modal dialog', () => {
    render(<Harness />);
    fireEvent.click(screen.getByRole('button', { name: 'Keyboard shortcuts' }));
    const dialog = screen.getByRole('dialog', { name: 'Keyboard shortcuts' });
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    const rows = dialog.querySelectorAll('tbody tr');
    expect(rows).toHaveLength(11);
    expect(dialog.querySelector('[data-shortcut="pending"]')?.textContent).toContain('not available yet');
    expect(dialog.querySelector('[data-shortcut="close"]')?.textContent).not.toContain('not available yet');
    expect([...dialog.querySelectorAll('kbd')].map((k) => k.textContent)).toEqual(
      expect.arrayContaining(['j', '↓', 'k', '↑', 'Enter', 'r', 'e', 'p', 's', 'a', '/', 'n', '?']),
    );
  });

  it('takes focus, closes on Escape and gives focus back to its opener', async () => {
    const onClose = vi.fn();
    render(<Harness onClose={onClose} />);
    const opener = screen.getByRole('button', { name: 'Keyboard shortcuts' });
    opener.focus();
    fireEvent.click(opener);
    const close = screen.getByRole('button', { name: 'Close' });
    expect(document.activeElement).toBe(close);
    fireEvent.keyDown(close, { key: 'Escape' });
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(screen.queryByRole('dialog')).toBeNull();
    // In the same commit that removed the dialog, not a tick later (never on <body> in between).
    expect(document.activeElement).toBe(opener);
  });

  it('closes from its button and from the backdrop, focus back each time', async () => {
    render(<Harness />);
    const opener = screen.getByRole('button', { name: 'Keyboard shortcuts' });
    opener.focus();
    fireEvent.click(opener);
    fireEvent.click(screen.getByRole('button', { name: 'Close' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(opener));

    fireEvent.click(opener);
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Close' }));
    const backdrop = document.querySelector('.sheet-backdrop');
    if (!backdrop) throw new Error('no backdrop');
    fireEvent.click(backdrop);
    expect(screen.queryByRole('dialog')).toBeNull();
    // focus-trap gives focus back a tick after the trap ends.
    await waitFor(() => expect(document.activeElement).toBe(opener));
  });
});
