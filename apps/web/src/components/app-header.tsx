import { useMutation } from '@tanstack/react-query';
import type { RouterOutputs } from '@parley/server';
import { resetSession } from '../auth/reset-session';
import { trpc } from '../trpc';
import { ConnectionIndicator } from './connection-indicator';

export function AppHeader({
  me,
  onNew,
  onSandbox,
}: {
  me: RouterOutputs['auth']['me'];
  onNew: () => void;
  onSandbox: () => void;
}) {
  const logout = useMutation(trpc.auth.logout.mutationOptions({ onSettled: () => resetSession() }));
  return (
    <header className="app-header">
      <span className="brand">
        <span className="brand-mark" aria-hidden="true">P</span>
        <span className="brand-name">Parley</span>
      </span>
      <ConnectionIndicator />
      <span className="spacer" />
      <button className="button primary" type="button" onClick={onNew}>
        <span aria-hidden="true">+</span>
        <span className="hide-narrow">New</span>
        <span className="visually-hidden"> conversation</span>
      </button>
      <button className="button ghost" type="button" onClick={onSandbox} title="Simulate an inbound text (sandbox)">
        Sandbox
      </button>
      <span className="agent" title={me.email} aria-label={`Signed in as ${me.name}`}>
        <span className="avatar" aria-hidden="true">{me.name.slice(0, 1).toUpperCase()}</span>
        <span className="hide-narrow agent-name">{me.name}</span>
      </span>
      <button className="button ghost" type="button" onClick={() => logout.mutate()} disabled={logout.isPending}>
        Sign out
      </button>
    </header>
  );
}
