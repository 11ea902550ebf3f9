/** The one place a 401 anywhere (query, mutation, live stream) is reported; the app listens and shows sign-in. */
type Listener = () => void;
const listeners = new Set<Listener>();

export function sessionExpired(): void {
  for (const listener of listeners) listener();
}

export function onSessionExpired(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
