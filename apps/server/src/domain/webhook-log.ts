import type { Db } from '../db/client';
import { webhookLog } from '../db/schema';

export interface WebhookLogEntry {
  path: string;
  signatureOk: boolean;
  headers: Record<string, unknown>;
  rawBody: string;
  httpStatus: number;
  outcome: string;
  error: string | null;
}

/** Keeps a refused or unreadable webhook whole, so an admin can review (and replay) it later. */
export function logWebhook(db: Db, entry: WebhookLogEntry): void {
  db.insert(webhookLog)
    .values({ ...entry, headers: JSON.stringify(entry.headers), receivedAt: Date.now() })
    .run();
}
