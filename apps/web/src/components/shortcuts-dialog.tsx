import { useRef } from 'react';
import { SHORTCUTS, type ShortcutAction } from '../lib/shortcuts';
import { useDialogFocus } from '../lib/use-dialog-focus';

/** `?`: every inbox key, in a modal dialog (focus trapped, Escape closes, focus goes back). */
export function ShortcutsDialog({ onClose, unavailable = [] }: { onClose: () => void; unavailable?: readonly ShortcutAction[] }) {
  const dialog = useRef<HTMLDivElement>(null);
  useDialogFocus(dialog, onClose);
  return (
    <div className="sheet-backdrop" onClick={onClose}>
      <div
        ref={dialog}
        className="sheet shortcuts-sheet"
        role="dialog"
        aria-modal="true"
        aria-labelledby="shortcuts-title"
        aria-describedby="shortcuts-note"
        onClick={(e) => e.stopPropagation()}
      >
        <h2 id="shortcuts-title">Keyboard shortcuts</h2>
        <p id="shortcuts-note" className="muted small">
          In the inbox, outside text fields. Esc leaves a text field; in a dialog, Esc closes it.
        </p>
        <table className="table shortcuts-table">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Does</th>
            </tr>
          </thead>
          <tbody>
            {SHORTCUTS.map((shortcut) => (
              <tr key={shortcut.action} data-shortcut={shortcut.action}>
                <td className="shortcut-keys">
                  {shortcut.label.split(' or ').map((key, i) => (
                    <span key={key}>
                      {i > 0 && <span className="muted"> or </span>}
                      <kbd>{key}</kbd>
                    </span>
                  ))}
                </td>
                <td>
                  {shortcut.description}
                  {unavailable.includes(shortcut.action) && <span className="muted"> (not available yet)</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <div className="sheet-actions">
          <button className="button primary" type="button" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
