import { useRef, useState } from 'react';
import type { MediaDto } from '@parley/shared/dto';
import { useDialogFocus } from '../lib/use-dialog-focus';

/** "1.2 MB" / "340 KB" for attachment links. */
export function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

/** A message's attachments: images inline (click: full size in a dialog), other files as links with name and size. */
export function MessageMedia({ media }: { media: MediaDto[] }) {
  const [open, setOpen] = useState<MediaDto | null>(null);
  if (media.length === 0) return null;
  return (
    <div className="message-media">
      {media.map((m) => {
        if (m.state === 'pending') {
          return (
            <span key={m.id} className="media-note muted small" data-media-state="pending">
              Downloading attachment…
            </span>
          );
        }
        if (m.state === 'refused') {
          return (
            <span key={m.id} className="media-note error small" data-media-state="refused" title={m.reason ?? undefined}>
              Attachment not kept: {m.reason ?? 'refused'}
            </span>
          );
        }
        if (m.contentType.startsWith('image/')) {
          return (
            <button
              key={m.id}
              type="button"
              className="media-thumb"
              onClick={() => setOpen(m)}
              aria-label={`Open the picture${m.name ? ` ${m.name}` : ''} full size`}
              data-media-state="stored"
            >
              <img src={m.url} alt={m.name ?? 'Picture'} loading="lazy" />
            </button>
          );
        }
        return (
          <a key={m.id} className="media-file" href={m.url} target="_blank" rel="noopener noreferrer" data-media-state="stored">
            📎 {m.name ?? `Attachment (${m.contentType})`} <span className="muted small">{formatSize(m.size)}</span>
          </a>
        );
      })}
      {open && <MediaDialog media={open} onClose={() => setOpen(null)} />}
    </div>
  );
}

/** A picture full size, in a modal dialog (focus trapped, Escape closes, focus goes back to the thumbnail). */
function MediaDialog({ media, onClose }: { media: MediaDto; onClose: () => void }) {
  const dialog = useRef<HTMLDivElement>(null);
  useDialogFocus(dialog, onClose);
  return (
    <div className="sheet-backdrop" onClick={onClose}>
      <div
        ref={dialog}
        className="sheet media-sheet"
        role="dialog"
        aria-modal="true"
        aria-label={media.name ?? 'Picture'}
        onClick={(e) => e.stopPropagation()}
        data-testid="media-dialog"
      >
        <img src={media.url} alt={media.name ?? 'Picture'} className="media-full" />
        <div className="media-sheet-actions">
          <span className="muted small">
            {media.name ? `${media.name} · ` : ''}
            {formatSize(media.size)}
          </span>
          <a className="button" href={media.url} target="_blank" rel="noopener noreferrer">
            Open in a new tab
          </a>
          <button type="button" className="button primary" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
