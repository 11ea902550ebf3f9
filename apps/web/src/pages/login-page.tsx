import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { errorMessage } from '../lib/errors';
import { queryClient, trpc } from '../trpc';

export function LoginPage({ notice, onSignedIn }: { notice: string | null; onSignedIn: () => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const login = useMutation(
    trpc.auth.login.mutationOptions({
      onSuccess: ({ agent }) => {
        onSignedIn();
        queryClient.setQueryData(trpc.auth.me.queryKey(), agent);
      },
    }),
  );

  const submit = (event: FormEvent) => {
    event.preventDefault();
    login.mutate({ email, password });
  };

  return (
    <main className="login">
      <form className="login-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title" className="brand">
          <span className="brand-mark" aria-hidden="true">
            P
          </span>{' '}
          Parley
        </h1>
        <p className="muted">Sign in to your team inbox.</p>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <label className="field">
          <span>Email</span>
          <input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
        </label>
        <label className="field">
          <span>Password</span>
          <input type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        {login.error && (
          <p className="error" role="alert">
            {errorMessage(login.error)}
          </p>
        )}
        <button className="button primary wide" type="submit" disabled={login.isPending}>
          {login.isPending ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
