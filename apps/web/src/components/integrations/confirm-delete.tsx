import { useRef } from 'react';
import { useDialogFocus } from '../../lib/use-dialog-focus';

/** Asks before an endpoint is deleted: a modal alert dialog, focus on Cancel. */
export function ConfirmDelete({
  id,
  url,
  pending,
  onCancel,
  onConfirm,
}: {
  id: number;
  url: string;
  pending: boolean;
  onCancel: () => void;
  onConfirm: () => void;
}) {
  const dialog = useRef<HTMLDivElement>(null);
  // Focus stays inside, starts on Cancel, Escape cancels, and focus goes back to the Delete button.
  useDialogFocus(dialog, onCancel, {
    initialFocus: '[data-cancel]',
    // The card re-renders with every poll: find its Delete button again if the one that opened us is gone.
    returnFocus: () => document.querySelector<HTMLElement>(`[data-delete-endpoint="${id}"]`),
  });
  return (
    <div className="sheet-backdrop" onClick={onCancel}>
      <div
        ref={dialog}
        className="sheet"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="delete-endpoint-title"
        onClick={(e) => e.stopPropagation()}
      >
        <h2 id="delete-endpoint-title">Delete this endpoint?</h2>
        <p>
          <code>{url}</code> stops receiving events at once, and its delivery history is deleted.
        </p>
        <div className="sheet-actions">
          <button className="button ghost" type="button" data-cancel onClick={onCancel}>
            Cancel
          </button>
          <button className="button danger-solid" type="button" onClick={onConfirm} disabled={pending}>
            Delete endpoint
          </button>
        </div>
      </div>
    </div>
  );
}
