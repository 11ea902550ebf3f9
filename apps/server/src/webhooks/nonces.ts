import { and, eq, lt } from 'drizzle-orm';
import type { Db } from '../db/client';
import { webhookNonces } from '../db/schema';

export const NONCE_TTL_MS = 24 * 60 * 60 * 1000;

export interface NonceStore {
  /**
   * Records a nonce of a request whose signature verified. false: it was seen within the TTL
   * (a replay) and the request must be refused. Kept in SQLite, so a restart does not forget.
   */
  claim(provider: string, nonce: string, now?: number): boolean;
  /** Whether the nonce was seen within the TTL, recording nothing (claim it with the data it admits). */
  seen(provider: string, nonce: string, now?: number): boolean;
}

export function createNonceStore(db: Db, ttlMs = NONCE_TTL_MS): NonceStore {
  let lastPrune = 0;
  const seen = (provider: string, nonce: string, now: number): boolean => {
    const existing = db
      .select({ seenAt: webhookNonces.seenAt })
      .from(webhookNonces)
      .where(and(eq(webhookNonces.provider, provider), eq(webhookNonces.nonce, nonce)))
      .get();
    return existing !== undefined && existing.seenAt >= now - ttlMs;
  };
  return {
    seen: (provider, nonce, now = Date.now()) => seen(provider, nonce, now),
    claim(provider, nonce, now = Date.now()) {
      if (now - lastPrune > 60_000) {
        lastPrune = now;
        db.delete(webhookNonces).where(lt(webhookNonces.seenAt, now - ttlMs)).run();
      }
      if (seen(provider, nonce, now)) return false;
      db.insert(webhookNonces)
        .values({ provider, nonce, seenAt: now })
        .onConflictDoUpdate({ target: [webhookNonces.provider, webhookNonces.nonce], set: { seenAt: now } })
        .run();
      return true;
    },
  };
}
