/**
 * Auto-assignment (settings.autoAssign = 'round-robin'): a conversation's first inbound text gives it
 * to the next eligible agent — enabled, online (presence), and holding fewer than maxOpenPerAgent open
 * conversations. "Next" is by agent id after the agent of the most recently created assigned
 * conversation, wrapping around; nobody eligible: it stays unassigned. Runs inside the inbound
 * transaction, so the assignment is in the same `conversation.updated` event as the message.
 */
import { and, asc, count, desc, eq, inArray, isNotNull, isNull } from 'drizzle-orm';
import { agents, conversations, messages } from '../db/tables';
import type { Db } from '../db/client';
import type { Tx } from '../events/log';
import { getSettings } from './settings';

export async function autoAssignIn(
  tx: Tx,
  opts: {
    conversationId: number;
    onlineAgentIds: readonly number[];
    /** Where the settings are read (a Db: by its prepared statement, inside the open transaction); default `tx`. */
    settingsFrom?: Db;
  },
): Promise<number | null> {
  // Nobody online: nothing to read.
  if (opts.onlineAgentIds.length === 0) return null;
  const settings = await getSettings(opts.settingsFrom ?? tx);
  if (settings.autoAssign !== 'round-robin') return null;
  const row = (
    await tx.select({ assigned: conversations.assignedAgentId }).from(conversations).where(eq(conversations.id, opts.conversationId))
  )[0];
  if (!row || row.assigned !== null) return null;
  const inbound = (
    await tx
      .select({ n: count() })
      .from(messages)
      .where(and(eq(messages.conversationId, opts.conversationId), eq(messages.direction, 'in')))
  )[0];
  if ((inbound?.n ?? 0) !== 1) return null; // not its first inbound text

  const candidates = (
    await tx
      .select({ id: agents.id })
      .from(agents)
      .where(and(inArray(agents.id, [...opts.onlineAgentIds]), isNull(agents.disabledAt)))
      .orderBy(asc(agents.id))
  ).map((a) => a.id);
  if (candidates.length === 0) return null;
  const load = new Map(
    (
      await tx
        .select({ agentId: conversations.assignedAgentId, n: count() })
        .from(conversations)
        .where(and(eq(conversations.status, 'open'), inArray(conversations.assignedAgentId, candidates)))
        .groupBy(conversations.assignedAgentId)
    ).map((r) => [r.agentId, r.n]),
  );
  const eligible = candidates.filter((id) => (load.get(id) ?? 0) < settings.maxOpenPerAgent);
  if (eligible.length === 0) return null;
  const last = (
    await tx
      .select({ agentId: conversations.assignedAgentId })
      .from(conversations)
      .where(isNotNull(conversations.assignedAgentId))
      .orderBy(desc(conversations.createdAt), desc(conversations.id))
      .limit(1)
  )[0];
  const lastId = last?.agentId ?? 0;
  const next = eligible.find((id) => id > lastId) ?? eligible[0];
  if (next === undefined) return null;
  await tx.update(conversations).set({ assignedAgentId: next }).where(eq(conversations.id, opts.conversationId));
  return next;
}
