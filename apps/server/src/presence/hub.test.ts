import { afterEach, describe, expect, it, vi } from 'vitest';
import { PresenceHub, type PresenceChange } from './hub';

afterEach(() => {
  vi.useRealTimers();
});

describe('PresenceHub', () => {
  it('costs nothing unwatched: no timer runs, stale entries are dropped when read', () => {
    vi.useFakeTimers();
    const hub = new PresenceHub({ ttlMs: 30_000 });
    hub.update({ agentId: 1, name: 'Ann', conversationId: 3, typing: false });
    expect(vi.getTimerCount()).toBe(0);
    expect(hub.list()).toHaveLength(1);
    vi.advanceTimersByTime(30_001);
    expect(hub.list()).toEqual([]);
    hub.close();
  });

  it('a watcher gets the list at once, on each visible change, and when an entry expires; the timer stops with the last watcher', async () => {
    vi.useFakeTimers();
    const hub = new PresenceHub({ ttlMs: 30_000 });
    const controller = new AbortController();
    const seen: unknown[] = [];
    const done = (async () => {
      for await (const list of hub.watch(controller.signal)) seen.push(list);
    })();
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual([[]]);
    hub.update({ agentId: 2, name: 'Bob', conversationId: 5, typing: false });
    await vi.advanceTimersByTimeAsync(0);
    hub.update({ agentId: 2, name: 'Bob', conversationId: 5, typing: false }); // a heartbeat: no change announced
    hub.update({ agentId: 2, name: 'Bob', conversationId: 5, typing: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual([
      [],
      [{ agentId: 2, name: 'Bob', conversationId: 5, typing: false }],
      [{ agentId: 2, name: 'Bob', conversationId: 5, typing: true }],
    ]);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(30_100);
    expect(seen.at(-1)).toEqual([]);
    controller.abort();
    await done;
    expect(hub.watcherCount).toBe(0);
    hub.update({ agentId: 3, name: 'Cy', conversationId: null, typing: false });
    expect(vi.getTimerCount()).toBe(0);
    hub.close();
  });

  it('relays every local change, heartbeats included, and applies relayed ones without relaying them again', () => {
    const relayed: PresenceChange[] = [];
    const hub = new PresenceHub({ relay: (c) => relayed.push(c) });
    const bob = { agentId: 2, name: 'Bob', conversationId: 5, typing: false };
    hub.update(bob);
    hub.update(bob);
    hub.remove(2);
    expect(relayed).toEqual([
      { op: 'update', entry: bob },
      { op: 'update', entry: bob },
      { op: 'remove', agentId: 2 },
    ]);
    hub.apply({ op: 'update', entry: { ...bob, agentId: 3, name: 'Cy' } });
    expect(hub.list()).toEqual([{ ...bob, agentId: 3, name: 'Cy' }]);
    hub.apply({ op: 'remove', agentId: 3 });
    expect(hub.list()).toEqual([]);
    expect(relayed).toHaveLength(3);
    hub.close();
  });
});
