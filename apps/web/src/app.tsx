import { useEffect, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { onSessionExpired } from './auth/session-events';
import { resetSession } from './auth/reset-session';
import { InboxPage } from './pages/inbox-page';
import { LoginPage } from './pages/login-page';
import { queryClient, trpc } from './trpc';

const EXPIRED = 'Your session has expired. Sign in again to continue.';

export function App() {
  const me = useQuery({ ...trpc.auth.me.queryOptions(), retry: false, staleTime: Infinity });
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(
    () =>
      onSessionExpired(() => {
        if (!queryClient.getQueryData(trpc.auth.me.queryKey())) return;
        setNotice(EXPIRED);
        resetSession();
      }),
    [],
  );

  if (me.isPending) return <div className="splash" aria-busy="true">Loading Parley…</div>;
  if (me.data) return <InboxPage me={me.data} />;
  return <LoginPage notice={notice} onSignedIn={() => setNotice(null)} />;
}
