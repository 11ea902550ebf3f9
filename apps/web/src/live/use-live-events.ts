import { useEffect } from 'react';
import type { ParleyEvent } from '@parley/shared/events';
import { appCodeOf, isUnauthorized } from '../lib/errors';
import { sessionExpired } from '../auth/session-events';
import { queryClient, trpc, trpcClient } from '../trpc';
import { applyEvent } from './apply-event';
import { setConnectionStatus } from './connection-status';
import { notifyFor } from './notifications';

/** The last event applied. The ws client resends it on every reconnect; we keep it for a fresh subscribe. */
let lastEventId: string | null = null;

export function useLiveEvents(meId: number): void {
  useEffect(() => {
    let stopped = false;
    let everStarted = lastEventId !== null;
    let unsubscribe: (() => void) | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    // The tab title's unread count: refetched once per burst of conversation changes.
    let unread: ReturnType<typeof setTimeout> | undefined;
    const refreshUnread = () => {
      clearTimeout(unread);
      unread = setTimeout(() => void queryClient.invalidateQueries({ queryKey: trpc.conversation.unreadCount.queryKey() }), 300);
    };

    const online = () => (navigator.onLine ? undefined : setConnectionStatus('offline'));
    const start = () => {
      const subscription = trpcClient.event.stream.subscribe(
        { lastEventId },
        {
          onStarted: () => {
            setConnectionStatus('live');
            // Events between the first page load and this subscription: one refetch, once.
            if (!everStarted) void queryClient.invalidateQueries();
            everStarted = true;
          },
          onData: ({ id, data }) => {
            lastEventId = id;
            const event = data as ParleyEvent;
            applyEvent(queryClient, event, { id: meId });
            if (event.type === 'conversation.updated') refreshUnread();
            void notifyFor(queryClient, event, { id: meId });
          },
          onConnectionStateChange: (state) => {
            if (state.state === 'connecting' && state.error) setConnectionStatus(navigator.onLine ? 'reconnecting' : 'offline');
            if (state.state === 'pending') setConnectionStatus('live');
          },
          onError: (error) => {
            if (isUnauthorized(error)) {
              sessionExpired();
              return;
            }
            if (appCodeOf(error) === 'RESYNC') {
              // Our position was compacted away on the server: start again from the tail, and
              // refetch everything once that subscription has started (so nothing falls between).
              lastEventId = null;
              everStarted = false;
              subscription.unsubscribe();
              if (!stopped) start();
              return;
            }
            setConnectionStatus('reconnecting');
            subscription.unsubscribe();
            if (!stopped) retry = setTimeout(start, 2_000);
          },
        },
      );
      unsubscribe = () => subscription.unsubscribe();
    };

    start();
    window.addEventListener('offline', online);
    window.addEventListener('online', online);
    return () => {
      stopped = true;
      clearTimeout(retry);
      clearTimeout(unread);
      unsubscribe?.();
      window.removeEventListener('offline', online);
      window.removeEventListener('online', online);
      setConnectionStatus('connecting');
    };
  }, [meId]);
}

/** Sign-out: the next agent starts from a fresh page load of data, not our position. */
export function resetLiveCursor(): void {
  lastEventId = null;
}
