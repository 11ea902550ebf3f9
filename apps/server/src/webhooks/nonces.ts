import { and, eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { webhookNonces } from '../db/tables';

export const NONCE_TTL_MS = 24 * 60 * 60 * 1000;

export interface NonceStore {
  /**
   * Records a nonce of a request whose signature verified. false: it was seen within the TTL
   * (a replay) and the request must be refused. Kept in SQLite, so a restart does not forget.
   */
  claim(provider: string, nonce: string, now?: number): Promise<boolean>;
  /** Whether the nonce was seen within the TTL, recording nothing (claim it with the data it admits). */
  seen(provider: string, nonce: string, now?: number): Promise<boolean>;
}

export function createNonceStore(db: Db, ttlMs = NONCE_TTL_MS): NonceStore {
  let lastPrune = 0;
  const seen = async (provider: string, nonce: string, now: number): Promise<boolean> => {
    const existing = (
      await db
        .select({ seenAt: webhookNonces.seenAt })
        .from(webhookNonces)
        .where(and(eq(webhookNonces.provider, provider), eq(webhookNonces.nonce, nonce)))
    )[0];
    return existing !== undefined && existing.seenAt >= now - ttlMs;
  };
  return {
    seen: async (provider, nonce, now = Date.now()) => await seen(provider, nonce, now),
    async claim(provider, nonce, now = Date.now()) {
      if (now - lastPrune > 60_000) {
        lastPrune = now;
        await db.delete(webhookNonces).where(lt(webhookNonces.seenAt, now - ttlMs));
      }
      if (await seen(provider, nonce, now)) return false;
      await db
        .insert(webhookNonces)
        .values({ provider, nonce, seenAt: now })
        .onConflictDoUpdate({ target: [webhookNonces.provider, webhookNonces.nonce], set: { seenAt: now } });
      return true;
    },
  };
}

/**
 * The nonce store a replay (webhooks/replay.ts) verifies with: a nonce is judged as of the original
 * receipt, like the signature's timestamp. A refused request's nonce was never claimed (nonces are
 * claimed only once a signature verified and, for Sinch, with the data it admitted), so:
 * - used *before* the request first arrived: the request was itself a replay of one already accepted:
 *   still refused ("already used");
 * - used only *after* it arrived (the provider's own retry was accepted once the secret was fixed, or an
 *   earlier replay of this same row): that use was this very request again, not a forgery of it — it
 *   passes, and the domain functions find it already stored (`duplicate`);
 * - never seen: it passes and is claimed now, so the same headers posted live later are refused.
 */
export function createReplayNonceStore(db: Db, receivedAt: number, ttlMs = NONCE_TTL_MS): NonceStore {
  const usedBeforeReceipt = async (provider: string, nonce: string): Promise<boolean> => {
    const existing = (
      await db
        .select({ seenAt: webhookNonces.seenAt })
        .from(webhookNonces)
        .where(and(eq(webhookNonces.provider, provider), eq(webhookNonces.nonce, nonce)))
    )[0];
    return existing !== undefined && existing.seenAt < receivedAt && existing.seenAt >= receivedAt - ttlMs;
  };
  return {
    seen: async (provider, nonce) => await usedBeforeReceipt(provider, nonce),
    async claim(provider, nonce) {
      if (await usedBeforeReceipt(provider, nonce)) return false;
      // Recorded if new (or long forgotten); a later use (seenAt after the receipt) is left as it is.
      const now = Date.now();
      await db
        .insert(webhookNonces)
        .values({ provider, nonce, seenAt: now })
        .onConflictDoUpdate({
          target: [webhookNonces.provider, webhookNonces.nonce],
          set: { seenAt: sql`case when ${webhookNonces.seenAt} < ${receivedAt - ttlMs} then ${now} else ${webhookNonces.seenAt} end` },
        });
      return true;
    },
  };
}
