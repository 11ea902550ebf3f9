import { useEffect, useSyncExternalStore } from 'react';
import type { PresenceEntry } from '@parley/shared/team';
import { isUnauthorized } from '../lib/errors';
import { queryClient, trpc, trpcClient } from '../trpc';

/**
 * Presence (issue 12): this tab reports what it shows (the open conversation, whether a reply is
 * being typed) with presence.update — at once on a change, then every HEARTBEAT_MS — and follows
 * everyone's over presence.stream. The server forgets an agent ~30 s after their last heartbeat.
 */
const HEARTBEAT_MS = 10_000;

let entries: PresenceEntry[] = [];
const listeners = new Set<() => void>();
const subscribe = (listener: () => void) => {
  listeners.add(listener);
  return () => listeners.delete(listener);
};
const snapshot = () => entries;

function setEntries(next: PresenceEntry[]): void {
  entries = next;
  for (const listener of listeners) listener();
}

const meId = () => queryClient.getQueryData(trpc.auth.me.queryKey())?.id ?? null;

/** Everyone else's presence, or only theirs in one conversation. */
export function useOthersPresence(conversationId?: number): PresenceEntry[] {
  const all = useSyncExternalStore(subscribe, snapshot);
  const me = meId();
  return all.filter((e) => e.agentId !== me && (conversationId === undefined || e.conversationId === conversationId));
}

/** Everyone present (me included): who is online. */
export function useAllPresence(): PresenceEntry[] {
  return useSyncExternalStore(subscribe, snapshot);
}

/** "Ann is replying…", "Ann and Bob are viewing"; null when nobody else is there. */
export function presenceLabel(others: PresenceEntry[]): string | null {
  if (others.length === 0) return null;
  const typing = others.filter((e) => e.typing).map((e) => e.name);
  const names = (list: string[]) => (list.length <= 2 ? list.join(' and ') : `${list.slice(0, 2).join(', ')} and ${list.length - 2} more`);
  if (typing.length > 0) return `${names(typing)} ${typing.length === 1 ? 'is' : 'are'} replying…`;
  const viewing = others.map((e) => e.name);
  return `${names(viewing)} ${viewing.length === 1 ? 'is' : 'are'} viewing`;
}

// ── this tab's own state ──────────────────────────────────────────────────────────────────────────

let mine: { conversationId: number | null; typing: boolean } = { conversationId: null, typing: false };
let started = false;

function send(): void {
  if (!started) return;
  trpcClient.presence.update.mutate(mine).catch(() => undefined);
}

/** Tells the others what this tab shows now (sent at once when it changed). */
export function reportPresence(change: Partial<typeof mine>): void {
  const next = { ...mine, ...change };
  if (next.conversationId === mine.conversationId && next.typing === mine.typing) return;
  mine = next;
  send();
}

/** While signed in: heartbeats, the stream of everyone's presence, and a goodbye when the tab closes. */
export function usePresence(me: number): void {
  useEffect(() => {
    started = true;
    send();
    const heartbeat = setInterval(send, HEARTBEAT_MS);
    const goodbye = () => {
      // keepalive: the request outlives the closing tab, so others see us leave at once.
      void fetch('/trpc/presence.update', {
        method: 'POST',
        keepalive: true,
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ conversationId: null, typing: false }),
      }).catch(() => undefined);
    };
    window.addEventListener('pagehide', goodbye);

    let stopped = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let subscription: { unsubscribe(): void } | null = null;
    const start = () => {
      subscription = trpcClient.presence.stream.subscribe(undefined, {
        onData: (list) => setEntries(list),
        onError: (error) => {
          subscription?.unsubscribe();
          setEntries([]);
          if (!stopped && !isUnauthorized(error)) retry = setTimeout(start, 2_000);
        },
      });
    };
    start();
    return () => {
      stopped = true;
      started = false;
      clearInterval(heartbeat);
      clearTimeout(retry);
      subscription?.unsubscribe();
      window.removeEventListener('pagehide', goodbye);
      mine = { conversationId: null, typing: false };
      setEntries([]);
    };
  }, [me]);
}
