import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { createTRPCClient, createWSClient, httpBatchLink, httpLink, splitLink, wsLink } from '@trpc/client';
import { createTRPCOptionsProxy } from '@trpc/tanstack-react-query';
import type { AppRouter } from '@parley/server';
import { isUnauthorized } from './lib/errors';
import { sessionExpired } from './auth/session-events';

const wsUrl = () => `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/trpc`;

/** Retries quickly at first (a restart takes a second or two), never waits more than 5 s. */
const retryDelayMs = (attempt: number) => Math.min(500 * 2 ** attempt, 5_000);

/** Lazy: connects when the first subscription starts (after sign-in, so the upgrade carries the cookie). */
export const wsClient = createWSClient({ url: wsUrl, retryDelayMs, lazy: { enabled: true, closeMs: 0 } });

export const trpcClient = createTRPCClient<AppRouter>({
  links: [
    splitLink({
      // Presence heartbeats ride the same WebSocket as the streams (no HTTP request every 10 s per tab).
      condition: (op) => op.type === 'subscription' || op.path === 'presence.update',
      true: wsLink({ client: wsClient }),
      false: splitLink({
        // The server refuses sign-in calls inside a batch (each costs a password hash): alone, always.
        condition: (op) => op.path === 'auth.login' || op.path === 'auth.acceptInvite',
        true: httpLink({ url: '/trpc' }),
        // The server answers a batch of more than 20 calls (TRPC_MAX_BATCH_SIZE) with 400: split before that.
        false: httpBatchLink({ url: '/trpc', maxItems: 20 }),
      }),
    }),
  ],
});

const onError = (error: unknown) => {
  if (isUnauthorized(error)) sessionExpired();
};

export const queryClient = new QueryClient({
  queryCache: new QueryCache({ onError }),
  // A mutation whose 401 is about what was typed (an invitation link), not the session, opts out.
  mutationCache: new MutationCache({
    onError: (error, _vars, _ctx, mutation) => (mutation.meta?.ownAuthErrors ? undefined : onError(error)),
  }),
  defaultOptions: {
    queries: {
      staleTime: 30_000,
      refetchOnWindowFocus: false,
      retry: (count, error) => !isUnauthorized(error) && count < 2,
    },
  },
});

export const trpc = createTRPCOptionsProxy<AppRouter>({ client: trpcClient, queryClient });
