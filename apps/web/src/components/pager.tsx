import type { CursorPages } from '../lib/use-cursor-pages';

/** "← Previous · Page 2 · Next →" under a paged table; nothing when everything fits on one page. */
export function Pager({ pages, nextCursor, busy = false }: { pages: CursorPages; nextCursor: string | null | undefined; busy?: boolean }) {
  if (pages.page === 1 && !nextCursor) return null;
  return (
    <nav className="pager" aria-label="Pages">
      <button className="button" type="button" onClick={pages.previous} disabled={pages.page === 1 || busy}>
        ← Previous
      </button>
      <span className="muted small" aria-live="polite">
        Page {pages.page}
      </span>
      <button className="button" type="button" onClick={() => nextCursor && pages.next(nextCursor)} disabled={!nextCursor || busy}>
        Next →
      </button>
    </nav>
  );
}
