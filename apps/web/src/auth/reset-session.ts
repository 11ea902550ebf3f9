import { hashKey } from '@tanstack/react-query';
import { resetLiveCursor } from '../live/use-live-events';
import { queryClient, trpc } from '../trpc';

/** Signs out locally: drops every cached answer, then asks the server who we are (→ sign-in). */
export function resetSession(): void {
  resetLiveCursor();
  const me = hashKey(trpc.auth.me.queryKey());
  queryClient.removeQueries({ predicate: (query) => query.queryHash !== me });
  void queryClient.resetQueries(trpc.auth.me.queryFilter());
}
