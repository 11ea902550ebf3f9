/**
 * Open subscriptions outlive the call that authenticated them, so their credential is watched:
 * every watcher is re-checked on a short interval (only while any is open), and at once whenever
 * `revoked()` says something may have ended a credential (logout, token revocation, an agent
 * disabled). A check that fails ends that watcher (its `onEnd` runs once).
 */
export interface CredentialWatch {
  /** Something may have ended a credential: re-check every open watcher now (resolves when checked). */
  revoked(): Promise<void>;
  /**
   * Watches one credential. `key` groups watchers of the same credential (one check per key per
   * round); `check` answers whether it still stands (a throw counts as "still stands": a busy
   * database must not sign everyone out). Returns a function that stops watching.
   */
  watch(key: string, check: () => Promise<boolean>, onEnd: () => void): () => void;
  /** Open watchers (tests, metrics). */
  size(): number;
  close(): void;
}

interface Watcher {
  key: string;
  check: () => Promise<boolean>;
  onEnd: () => void;
}

export function createCredentialWatch({ intervalMs }: { intervalMs: number }): CredentialWatch {
  const watchers = new Set<Watcher>();
  let timer: ReturnType<typeof setInterval> | undefined;

  const round = async () => {
    const verdicts = new Map<string, boolean>();
    for (const w of [...watchers]) {
      let ok = verdicts.get(w.key);
      if (ok === undefined) {
        try {
          ok = await w.check();
        } catch {
          ok = true;
        }
        verdicts.set(w.key, ok);
      }
      if (!ok && watchers.delete(w)) w.onEnd();
    }
    if (watchers.size === 0) stopTimer();
  };
  const stopTimer = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
  };

  return {
    revoked: round,
    watch(key, check, onEnd) {
      const w: Watcher = { key, check, onEnd };
      watchers.add(w);
      if (!timer) {
        timer = setInterval(() => void round(), intervalMs);
        timer.unref();
      }
      return () => {
        watchers.delete(w);
        if (watchers.size === 0) stopTimer();
      };
    },
    size: () => watchers.size,
    close() {
      watchers.clear();
      stopTimer();
    },
  };
}
