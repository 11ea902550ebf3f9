import { lazy, Suspense, useEffect, useState, type ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import type { RouterOutputs } from '@parley/server';
import { onSessionExpired } from './auth/session-events';
import { resetSession } from './auth/reset-session';
import { AppHeader } from './components/app-header';
import { Link } from './components/link';
import { PageErrorBoundary } from './components/page-error-boundary';
import { useLiveEvents } from './live/use-live-events';
import { usePresence } from './live/presence';
import { paths, usePathname, useRoute } from './lib/navigation';
import { AcceptInvitePage } from './pages/accept-invite-page';
import { InboxPage } from './pages/inbox-page';
import { LoginPage } from './pages/login-page';
import { queryClient, trpc } from './trpc';

// Everything but the inbox loads on first visit, so the inbox bundle stays as it was (recharts is big).
const CampaignsPage = lazy(() => import('./pages/campaigns-page').then((m) => ({ default: m.CampaignsPage })));
const NewCampaignPage = lazy(() => import('./pages/campaigns-page').then((m) => ({ default: m.NewCampaignPage })));
const CampaignDetailPage = lazy(() => import('./pages/campaign-detail').then((m) => ({ default: m.CampaignDetailPage })));
const ContactsPage = lazy(() => import('./pages/contacts-page').then((m) => ({ default: m.ContactsPage })));
const ContactPage = lazy(() => import('./pages/contact-page').then((m) => ({ default: m.ContactPage })));
const StatsPage = lazy(() => import('./pages/stats-page').then((m) => ({ default: m.StatsPage })));
const CannedRepliesPage = lazy(() => import('./pages/canned-replies-page').then((m) => ({ default: m.CannedRepliesPage })));
const AuditPage = lazy(() => import('./pages/audit-page').then((m) => ({ default: m.AuditPage })));
const TeamPage = lazy(() => import('./pages/team-page').then((m) => ({ default: m.TeamPage })));
const IntegrationsPage = lazy(() => import('./pages/integrations-page').then((m) => ({ default: m.IntegrationsPage })));
const RefusedWebhooksPage = lazy(() => import('./pages/refused-webhooks-page').then((m) => ({ default: m.RefusedWebhooksPage })));
const AccountPage = lazy(() => import('./pages/account-page').then((m) => ({ default: m.AccountPage })));

const EXPIRED = 'Your session has expired. Sign in again to continue.';

type Agent = RouterOutputs['auth']['me'];

export function App() {
  const me = useQuery({ ...trpc.auth.me.queryOptions(), retry: false, staleTime: Infinity });
  const [notice, setNotice] = useState<string | null>(null);
  const route = useRoute();

  useEffect(
    () =>
      onSessionExpired(() => {
        if (!queryClient.getQueryData(trpc.auth.me.queryKey())) return;
        setNotice(EXPIRED);
        resetSession();
      }),
    [],
  );

  // An invitation or reset link works signed in or not (it signs in as the invitee).
  if (route.page === 'invite') return <AcceptInvitePage />;
  if (me.isPending)
    return (
      <div className="splash" aria-busy="true">
        Loading Parley…
      </div>
    );
  if (me.data) return <SignedIn me={me.data} />;
  return <LoginPage notice={notice} onSignedIn={() => setNotice(null)} />;
}

/** One live stream for every page (it survives page switches), then the page the URL names. */
function SignedIn({ me }: { me: Agent }) {
  useLiveEvents(me.id);
  usePresence(me.id);
  useUnreadTitle();
  // Loaded once so live notifications know the agent's choices and teammates' names.
  useQuery(trpc.agent.preferences.queryOptions());
  useQuery({ ...trpc.agent.list.queryOptions(), staleTime: 60_000 });
  const route = useRoute();
  switch (route.page) {
    case 'inbox':
      return <InboxPage me={me} />;
    case 'campaigns':
      return (
        <Page me={me}>
          <CampaignsPage me={me} />
        </Page>
      );
    case 'campaign-new':
      return (
        <Page me={me}>
          <NewCampaignPage me={me} />
        </Page>
      );
    case 'campaign':
      return (
        <Page me={me}>
          <CampaignDetailPage key={route.id} id={route.id} me={me} />
        </Page>
      );
    case 'contacts':
      return (
        <Page me={me}>
          <ContactsPage me={me} />
        </Page>
      );
    case 'contact':
      return (
        <Page me={me}>
          <ContactPage key={route.id} id={route.id} me={me} />
        </Page>
      );
    case 'stats':
      return (
        <Page me={me}>
          <StatsPage />
        </Page>
      );
    case 'team':
      return (
        <Page me={me}>
          <TeamPage me={me} />
        </Page>
      );
    case 'audit':
      return (
        <Page me={me}>
          <AuditPage />
        </Page>
      );
    case 'canned':
      return (
        <Page me={me}>
          <CannedRepliesPage />
        </Page>
      );
    case 'integrations':
      return (
        <Page me={me}>{me.role === 'admin' ? <IntegrationsPage /> : <p className="muted">Only an admin manages integrations.</p>}</Page>
      );
    case 'refused-webhooks':
      return (
        <Page me={me}>
          <RefusedWebhooksPage />
        </Page>
      );
    case 'account':
      return (
        <Page me={me}>
          <AccountPage me={me} />
        </Page>
      );
    case 'invite':
    case 'not-found':
      return (
        <Page me={me}>
          <div className="empty-state">
            <h2>Nothing here</h2>
            <p className="muted">
              There is no page at {window.location.pathname}. <Link to={paths.inbox}>Go to the inbox</Link>.
            </p>
          </div>
        </Page>
      );
  }
}

/** "(3) Parley": unread inbound texts in open conversations, kept live by the event stream. */
function useUnreadTitle(): void {
  const unread = useQuery({ ...trpc.conversation.unreadCount.queryOptions(), staleTime: 60_000 });
  const count = unread.data?.messages ?? 0;
  useEffect(() => {
    document.title = count > 0 ? `(${count > 99 ? '99+' : count}) Parley` : 'Parley';
  }, [count]);
  useEffect(() => () => void (document.title = 'Parley'), []);
}

function Page({ me, children }: { me: Agent; children: ReactNode }) {
  const pathname = usePathname();
  return (
    <div className="app">
      <AppHeader me={me} />
      <main className="page">
        <PageErrorBoundary key={pathname}>
          <Suspense
            fallback={
              <p className="page-loading muted" aria-busy="true">
                Loading…
              </p>
            }
          >
            {children}
          </Suspense>
        </PageErrorBoundary>
      </main>
    </div>
  );
}
