import { useState } from 'react';

export interface CursorPages {
  /** The cursor of the page shown (null: the first). */
  cursor: string | null;
  /** 1-based. */
  page: number;
  next: (nextCursor: string) => void;
  previous: () => void;
}

/** Previous/next paging over keyset cursors: a stack of the cursors seen. Back to page 1 when `resetKey` changes. */
export function useCursorPages(resetKey: string): CursorPages {
  const [state, setState] = useState<{ key: string; stack: (string | null)[] }>({ key: resetKey, stack: [null] });
  const current = state.key === resetKey ? state : { key: resetKey, stack: [null] };
  if (current !== state) setState(current);
  return {
    cursor: current.stack.at(-1) ?? null,
    page: current.stack.length,
    next: (nextCursor) => setState((s) => ({ ...s, stack: [...s.stack, nextCursor] })),
    previous: () => setState((s) => ({ ...s, stack: s.stack.length > 1 ? s.stack.slice(0, -1) : s.stack })),
  };
}
