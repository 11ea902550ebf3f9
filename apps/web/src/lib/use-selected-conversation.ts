import { useCallback, useEffect, useState } from 'react';

const PATH = /^\/c\/(\d+)$/;

function fromLocation(): number | null {
  const match = PATH.exec(window.location.pathname);
  return match?.[1] ? Number(match[1]) : null;
}

/** The open conversation lives in the URL (/c/42), so reload, back and links work. */
export function useSelectedConversation(): [number | null, (id: number | null) => void] {
  const [selected, setSelected] = useState<number | null>(fromLocation);

  useEffect(() => {
    const onPop = () => setSelected(fromLocation());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  const select = useCallback((id: number | null) => {
    const path = id === null ? '/' : `/c/${id}`;
    if (window.location.pathname !== path) window.history.pushState(null, '', path);
    setSelected(id);
  }, []);

  return [selected, select];
}
