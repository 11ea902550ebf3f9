export type ComposerMode = 'reply' | 'note';

/** The Reply / Private note tabs above the box. */
export function ComposerModes({ mode, onChange }: { mode: ComposerMode; onChange: (mode: ComposerMode) => void }) {
  return (
    <div className="composer-modes" role="tablist" aria-label="Composer mode">
      <button
        type="button"
        role="tab"
        aria-selected={mode === 'reply'}
        className={`mode${mode === 'reply' ? ' active' : ''}`}
        onClick={() => onChange('reply')}
      >
        Reply
      </button>
      <button
        type="button"
        role="tab"
        aria-selected={mode === 'note'}
        className={`mode${mode === 'note' ? ' active' : ''}`}
        onClick={() => onChange('note')}
      >
        Private note
      </button>
    </div>
  );
}
