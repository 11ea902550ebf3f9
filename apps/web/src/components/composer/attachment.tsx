import { useRef } from 'react';
import { formatSize } from '../message-media';
import { SENDABLE_IMAGE_TYPES, type Attached } from './use-attachment';

/** The attached picture as a thumbnail, with its name, size and a Remove button. */
export function AttachmentPreview({ attachment, onRemove }: { attachment: Attached; onRemove: () => void }) {
  return (
    <div className="composer-attachment" data-testid="composer-attachment">
      <img src={attachment.url} alt={`Attached: ${attachment.name ?? 'picture'}`} />
      <span className="muted small">
        {attachment.name ?? 'Picture'} · {formatSize(attachment.size)}
      </span>
      <button type="button" className="button ghost small" onClick={onRemove} aria-label="Remove the attached picture">
        Remove
      </button>
    </div>
  );
}

/** Why the picture was not attached. */
export function AttachError({ error }: { error: string }) {
  return (
    <p className="error small" role="alert" data-testid="attach-error">
      {error}
    </p>
  );
}

/** The hidden file picker and the button that opens it. */
export function AttachButton({ disabled, uploading, onFile }: { disabled: boolean; uploading: boolean; onFile: (file: File) => void }) {
  const fileInput = useRef<HTMLInputElement>(null);
  return (
    <>
      <input
        ref={fileInput}
        type="file"
        accept={SENDABLE_IMAGE_TYPES.join(',')}
        hidden
        data-testid="attach-input"
        onChange={(e) => {
          const file = e.target.files?.[0];
          if (file) onFile(file);
          e.target.value = '';
        }}
      />
      <button type="button" className="button ghost" onClick={() => fileInput.current?.click()} disabled={disabled} data-testid="attach">
        {uploading ? 'Attaching…' : '📷 Attach picture'}
      </button>
    </>
  );
}
