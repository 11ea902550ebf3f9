import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { MIN_PASSWORD_CHARS } from '@parley/shared/team-constants';
import { errorMessage } from '../lib/errors';
import { navigate, paths } from '../lib/navigation';
import { queryClient, trpc } from '../trpc';

/** The token of an invitation or reset link: `/invite#token=…` (a fragment never reaches the server). */
function tokenFromLocation(): string {
  return new URLSearchParams(window.location.hash.replace(/^#/, '')).get('token') ?? '';
}

/** Where an invitee (or an agent with a reset link) chooses a password and is signed in. */
export function AcceptInvitePage() {
  const [token] = useState(tokenFromLocation);
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const accept = useMutation({
    ...trpc.auth.acceptInvite.mutationOptions({
      onSuccess: ({ agent }) => {
        // Drop the token from the address bar and history, then open the inbox signed in.
        window.history.replaceState(null, '', paths.inbox);
        queryClient.setQueryData(trpc.auth.me.queryKey(), agent);
        navigate(paths.inbox, { replace: true });
      },
    }),
    meta: { ownAuthErrors: true },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (password !== confirm) {
      setMismatch(true);
      return;
    }
    accept.mutate({ token, password });
  };

  return (
    <main className="login">
      <form className="login-card" onSubmit={submit} aria-labelledby="invite-title">
        <h1 id="invite-title" className="brand">
          <span className="brand-mark" aria-hidden="true">
            P
          </span>{' '}
          Parley
        </h1>
        <p className="muted">Choose a password to join your team inbox.</p>
        {token === '' && (
          <p className="error" role="alert">
            This page needs the whole link you were sent (it ends in #token=…). Ask an admin for a new one.
          </p>
        )}
        <label className="field">
          <span>New password</span>
          <input
            type="password"
            autoComplete="new-password"
            required
            minLength={MIN_PASSWORD_CHARS}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-describedby="invite-password-hint"
            autoFocus
          />
          <span className="hint" id="invite-password-hint">
            At least {MIN_PASSWORD_CHARS} characters.
          </span>
        </label>
        <label className="field">
          <span>Repeat the password</span>
          <input
            type="password"
            autoComplete="new-password"
            required
            value={confirm}
            onChange={(e) => {
              setConfirm(e.target.value);
              setMismatch(false);
            }}
            aria-invalid={mismatch}
          />
        </label>
        {mismatch && (
          <p className="error" role="alert">
            The two passwords differ.
          </p>
        )}
        {accept.error && (
          <p className="error" role="alert">
            {errorMessage(accept.error)}
          </p>
        )}
        <button className="button primary wide" type="submit" disabled={accept.isPending || token === ''}>
          {accept.isPending ? 'Signing in…' : 'Set password and sign in'}
        </button>
      </form>
    </main>
  );
}
