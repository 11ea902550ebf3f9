import { EventEmitter, on } from 'node:events';
import type { PresenceEntry } from '@parley/shared';

/** A change made on this instance, for the others (several instances on one database). */
export type PresenceChange = { op: 'update'; entry: PresenceEntry } | { op: 'remove'; agentId: number };

export interface PresenceHubOptions {
  /** An entry lives this long after its last update (the web sends one every ttl/3). Default 30 s. */
  ttlMs?: number;
  now?: () => number;
  /** Called with every local update (heartbeats too: they keep the other instances' copies alive) and removal. */
  relay?: (change: PresenceChange) => void;
}

interface Entry extends PresenceEntry {
  expiresAt: number;
}

/**
 * Who is online, viewing and typing: in memory only (never in the event log, gone on restart). One
 * entry per agent (their latest tab wins, on whichever instance). With several instances each change
 * is relayed to the others (PostgreSQL NOTIFY), which apply it to their own copy. Costs nothing when nobody watches: expiry runs on a timer
 * only while a stream is open; otherwise stale entries are dropped when the list is next read.
 */
export class PresenceHub {
  private readonly entries = new Map<number, Entry>();
  private readonly emitter = new EventEmitter();
  private watchers = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  readonly ttlMs: number;
  private readonly now: () => number;
  private readonly relay: ((change: PresenceChange) => void) | undefined;

  constructor(opts: PresenceHubOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.now = opts.now ?? Date.now;
    this.relay = opts.relay;
    this.emitter.setMaxListeners(0);
  }

  /** Records an agent's state; announces a change only when what others see changed. */
  update(entry: PresenceEntry): void {
    this.set(entry);
    this.relay?.({ op: 'update', entry });
  }

  /** Forgets an agent at once (signed out, disabled). */
  remove(agentId: number): void {
    this.delete(agentId);
    this.relay?.({ op: 'remove', agentId });
  }

  /** A change relayed from another instance: applied here, not relayed again. */
  apply(change: PresenceChange): void {
    if (change.op === 'update') this.set(change.entry);
    else this.delete(change.agentId);
  }

  private set(entry: PresenceEntry): void {
    const old = this.entries.get(entry.agentId);
    this.entries.set(entry.agentId, { ...entry, expiresAt: this.now() + this.ttlMs });
    const changed = !old || old.conversationId !== entry.conversationId || old.typing !== entry.typing || old.name !== entry.name;
    if (changed) this.changed();
    else this.schedule();
  }

  private delete(agentId: number): void {
    if (this.entries.delete(agentId)) this.changed();
  }

  /** The live entries, by name. */
  list(): PresenceEntry[] {
    this.expire();
    return [...this.entries.values()]
      .map(({ agentId, name, conversationId, typing }) => ({ agentId, name, conversationId, typing }))
      .sort((a, b) => a.name.localeCompare(b.name) || a.agentId - b.agentId);
  }

  get watcherCount(): number {
    return this.watchers;
  }

  /** The current list, then the whole list again whenever it changes, until `signal` aborts. */
  async *watch(signal?: AbortSignal): AsyncGenerator<PresenceEntry[]> {
    const controller = new AbortController();
    const abort = () => controller.abort();
    signal?.addEventListener('abort', abort, { once: true });
    const changes = on(this.emitter, 'change', { signal: controller.signal });
    this.watchers += 1;
    this.schedule();
    try {
      yield this.list();
      for await (const _ of changes) yield this.list();
    } catch (err) {
      if (!controller.signal.aborted) throw err;
    } finally {
      this.watchers -= 1;
      signal?.removeEventListener('abort', abort);
      controller.abort();
      if (this.watchers === 0) this.clearTimer();
    }
  }

  close(): void {
    this.clearTimer();
    this.emitter.removeAllListeners();
    this.entries.clear();
  }

  /** Drops expired entries; true when any was dropped. */
  private expire(): boolean {
    const at = this.now();
    let dropped = false;
    for (const [id, e] of this.entries) {
      if (e.expiresAt <= at) {
        this.entries.delete(id);
        dropped = true;
      }
    }
    return dropped;
  }

  private changed(): void {
    this.emitter.emit('change');
    this.schedule();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One timer, for the soonest expiry, and only while someone watches. */
  private schedule(): void {
    this.clearTimer();
    if (this.watchers === 0 || this.entries.size === 0) return;
    let soonest = Infinity;
    for (const e of this.entries.values()) soonest = Math.min(soonest, e.expiresAt);
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        if (this.expire()) this.emitter.emit('change');
        this.schedule();
      },
      Math.max(0, soonest - this.now()) + 5,
    );
    this.timer.unref?.();
  }
}
