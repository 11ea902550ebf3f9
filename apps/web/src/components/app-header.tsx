import { useMutation } from '@tanstack/react-query';
import type { RouterOutputs } from '@parley/server';
import { resetSession } from '../auth/reset-session';
import { paths, sectionOf, useRoute, type Section } from '../lib/navigation';
import { trpc } from '../trpc';
import { ConnectionIndicator } from './connection-indicator';
import { Link } from './link';
import { NotificationSettings } from './notification-settings';
import { RefusedWebhooksBanner } from './refused-webhooks-banner';

const NAV: { section: Section; label: string; to: string }[] = [
  { section: 'inbox', label: 'Inbox', to: paths.inbox },
  { section: 'campaigns', label: 'Campaigns', to: paths.campaigns },
  { section: 'contacts', label: 'Contacts', to: paths.contacts },
  { section: 'stats', label: 'Stats', to: paths.stats },
  { section: 'canned', label: 'Canned replies', to: paths.canned },
];
/** Only admins manage the team; the page is not offered to agents. */
const ADMIN_NAV: { section: Section; label: string; to: string }[] = [{ section: 'team', label: 'Team', to: paths.team }];

export function AppHeader({
  me,
  onNew,
  onSandbox,
  onShortcuts,
}: {
  me: RouterOutputs['auth']['me'];
  /** Inbox only: the "New conversation" and sandbox buttons. */
  onNew?: () => void;
  onSandbox?: () => void;
  /** Inbox only: the keyboard shortcuts (also `?`). */
  onShortcuts?: () => void;
}) {
  const current = sectionOf(useRoute());
  const logout = useMutation(trpc.auth.logout.mutationOptions({ onSettled: () => resetSession() }));
  return (
    <>
      <header className="app-header">
        <span className="brand">
          <span className="brand-mark" aria-hidden="true">
            P
          </span>
          <span className="brand-name label-lg">Parley</span>
        </span>
        <ConnectionIndicator />
        <nav className="app-nav" aria-label="Main">
          {[...NAV, ...(me.role === 'admin' ? ADMIN_NAV : [])].map((item) => (
            <Link
              key={item.section}
              to={item.to}
              className={`nav-link${item.section === current ? ' active' : ''}`}
              aria-current={item.section === current ? 'page' : undefined}
            >
              {item.label}
            </Link>
          ))}
        </nav>
        <span className="spacer" />
        {onNew && (
          <button className="button primary" type="button" onClick={onNew}>
            <span aria-hidden="true">+</span>
            <span className="hide-narrow">New</span>
            <span className="visually-hidden"> conversation</span>
          </button>
        )}
        {onSandbox && (
          <button className="button ghost" type="button" onClick={onSandbox} title="Simulate an inbound text (sandbox)">
            Sandbox
          </button>
        )}
        {onShortcuts && (
          <button className="button ghost" type="button" onClick={onShortcuts} title="Keyboard shortcuts (?)">
            <span aria-hidden="true">?</span>
            <span className="visually-hidden">Keyboard shortcuts</span>
          </button>
        )}
        <NotificationSettings compact />
        <Link to={paths.account} className={`agent${current === 'account' ? ' active' : ''}`} title={`${me.email} — your account`}>
          {/* Named by its text, which starts with what it shows (WCAG 2.5.3: the visible label is in the name). */}
          <span className="avatar" aria-hidden="true">
            {me.name.slice(0, 1).toUpperCase()}
          </span>
          <span className="label-lg agent-name">{me.name}</span>
          <span className="visually-hidden">: signed in, your account</span>
        </Link>
        <button className="button ghost" type="button" onClick={() => logout.mutate()} disabled={logout.isPending}>
          Sign out
        </button>
      </header>
      {me.role === 'admin' && <RefusedWebhooksBanner />}
    </>
  );
}
