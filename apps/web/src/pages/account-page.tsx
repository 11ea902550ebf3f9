import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import type { RouterOutputs } from '@parley/server';
import { MIN_PASSWORD_CHARS } from '@parley/shared/team-constants';
import { errorMessage } from '../lib/errors';
import { NotificationSettings } from '../components/notification-settings';
import { trpc } from '../trpc';

type Agent = RouterOutputs['auth']['me'];

/** The signed-in agent's own settings: password and notifications. */
export function AccountPage({ me }: { me: Agent }) {
  return (
    <div className="page-body narrow">
      <div className="page-head">
        <h1>Your account</h1>
        <span className="muted">
          {me.name} · {me.email} · {me.role === 'admin' ? 'Admin' : 'Agent'}
        </span>
      </div>
      <section className="card" aria-labelledby="notifications-title">
        <h2 id="notifications-title">Notifications</h2>
        <NotificationSettings />
      </section>
      <ChangePassword />
    </div>
  );
}

function ChangePassword() {
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const [done, setDone] = useState(false);
  const change = useMutation({
    ...trpc.auth.changePassword.mutationOptions({
      onSuccess: () => {
        setDone(true);
        setCurrent('');
        setNew('');
      },
    }),
    meta: { ownAuthErrors: true },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setDone(false);
    change.mutate({ currentPassword, newPassword });
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="password-title">
      <h2 id="password-title">Change password</h2>
      <p className="muted small">
        Your other sessions (other browsers and devices) are signed out; this one stays. API tokens keep working.
      </p>
      <label className="field">
        <span>Current password</span>
        <input
          type="password"
          autoComplete="current-password"
          required
          value={currentPassword}
          onChange={(e) => setCurrent(e.target.value)}
        />
      </label>
      <label className="field">
        <span>New password</span>
        <input
          type="password"
          autoComplete="new-password"
          required
          minLength={MIN_PASSWORD_CHARS}
          value={newPassword}
          onChange={(e) => setNew(e.target.value)}
        />
        <span className="hint">At least {MIN_PASSWORD_CHARS} characters.</span>
      </label>
      <button className="button primary" type="submit" disabled={change.isPending}>
        {change.isPending ? 'Saving…' : 'Change password'}
      </button>
      {done && (
        <p className="ok" role="status">
          Password changed. Other sessions were signed out.
        </p>
      )}
      {change.error && (
        <p className="error" role="alert">
          {errorMessage(change.error)}
        </p>
      )}
    </form>
  );
}
