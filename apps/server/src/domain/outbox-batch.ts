/**
 * The outbox worker's batched transitions, its hot path at high rates (issue 17): claim a tick's worth
 * of due rows in one transaction, and record the answers of one event-loop turn in one transaction,
 * on statements prepared once per connection. The rules are those of outbox.ts, row by row.
 */
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { ProviderName } from '@parley/shared';
import { messages, outbox } from '../db/schema';
import type { Db } from '../db/client';
import type { EventLog, Tx, Append } from '../events/log';
import { adoptOrphans } from './status';
import { messageDtoOf } from './media';
import { claimDueIn, type ClaimedSend } from './outbox';

/** The hot path's statements, prepared once per connection (a drizzle query is otherwise built and prepared on every call). */
function prepareHot(db: Db) {
  return {
    deleteRow: db
      .delete(outbox)
      .where(eq(outbox.messageId, sql.placeholder('id')))
      .prepare(),
    loadRow: db
      .select()
      .from(messages)
      .where(eq(messages.id, sql.placeholder('id')))
      .prepare(),
    /** queued → submitted, keeping a provider id a status webhook stored first. */
    submit: db
      .update(messages)
      .set({
        status: 'submitted',
        statusAt: sql`${sql.placeholder('at')}`,
        providerMessageUuid: sql`coalesce(${messages.providerMessageUuid}, ${sql.placeholder('uuid')})`,
      })
      .where(and(eq(messages.id, sql.placeholder('id')), eq(messages.status, 'queued')))
      .returning()
      .prepare(),
    setUuid: db
      .update(messages)
      .set({ providerMessageUuid: sql`${sql.placeholder('uuid')}` })
      .where(and(eq(messages.id, sql.placeholder('id')), isNull(messages.providerMessageUuid)))
      .prepare(),
    /** Whether an orphan status report may belong to this message (adoptOrphans then does the work). */
    hasOrphan: db.$client.prepare(
      `select 1 from message_status_history where message_id is null and (provider_message_uuid = ? or client_ref = ?) limit 1`,
    ),
  };
}
const hot = new WeakMap<Db, ReturnType<typeof prepareHot>>();
async function hotStatements(db: Db): Promise<ReturnType<typeof prepareHot>> {
  let s = hot.get(db);
  if (!s) {
    s = prepareHot(db);
    hot.set(db, s);
  }
  return s;
}

/**
 * Claims up to `limit` due rows in one transaction (claimDueIn in outbox.ts: the rules of claimNextSend, row by row).
 */
export async function claimDueSends({
  log,
  limit,
  now = Date.now(),
  provider,
}: {
  log: EventLog;
  limit: number;
  now?: number;
  provider?: ProviderName;
}): Promise<{ claimed: ClaimedSend[]; skipped: number }> {
  if (limit < 1) return { claimed: [], skipped: 0 };
  return await log.write(async (tx, append) => await claimDueIn(tx, append, { limit, now, provider }));
}

/** recordSendAccepted inside a caller's transaction, on prepared statements. */
async function recordSendAcceptedIn(tx: Tx, append: Append, db: Db, messageId: number, providerMessageId: string): Promise<boolean> {
  const s = await hotStatements(db);
  s.deleteRow.run({ id: messageId });
  const current = s.loadRow.get({ id: messageId });
  if (!current) return true;
  if (current.status === 'queued') {
    const updated = s.submit.get({ id: messageId, at: Date.now(), uuid: providerMessageId });
    if (updated) append({ type: 'message.status', payload: { message: await messageDtoOf(tx, updated), previousStatus: 'queued' } });
  } else if (current.providerMessageUuid === null) {
    s.setUuid.run({ id: messageId, uuid: providerMessageId });
  }
  if (s.hasOrphan.get(current.providerMessageUuid ?? providerMessageId, current.clientRef) !== undefined)
    await adoptOrphans(tx, append, messageId);
  return current.providerMessageUuid === null || current.providerMessageUuid === providerMessageId;
}

/**
 * recordSendAccepted for many sends in one transaction (one commit for a tick's worth of answers).
 * All or nothing: when it throws, nothing was written and no event published; record them one by
 * one then (recordSendAccepted), so one bad item cannot hold back the rest.
 */
export async function recordSendsAccepted({
  log,
  sends,
}: {
  log: EventLog;
  sends: readonly { messageId: number; providerMessageId: string }[];
}): Promise<boolean[]> {
  if (sends.length === 0) return [];
  return await log.write((tx, append) =>
    sends.map(async (x) => await recordSendAcceptedIn(tx, append, log.db, x.messageId, x.providerMessageId)),
  );
}
