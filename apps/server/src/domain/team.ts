import { SYSTEM_ACTOR, recordAudit, type AuditActor } from './audit';
import { and, asc, count, eq, gt, isNull, lt, ne, or, sql } from 'drizzle-orm';
import { DEFAULT_PREFERENCES, preferencesSchema, type AgentPreferences, type AgentRole } from '@parley/shared';
import type { Db } from '../db/client';
import { agentInvites, agents, apiTokens, conversations, sessions } from '../db/tables';
import { AppError } from '../errors';
import { generatePassword, hashPassword } from '../auth/password';
import { randomToken, sha256Hex } from '../auth/tokens';
import { getAgent, normalizeEmail, toAgentDto, type AgentDto } from './agents';
import { runTx, one, affected } from '../db/store';

/**
 * The team (issue 12): invitations and password-reset links, roles, disabling and per-agent
 * preferences (notes with @mentions: notes.ts). Access control rows are written directly (no event), as in
 * agents.ts.
 */

export const INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** An agent as the Team page shows it: plus whether their invitation is still unaccepted. */
export interface TeamMemberDto extends AgentDto {
  invitePending: boolean;
}

export async function listTeam(db: Db): Promise<TeamMemberDto[]> {
  const pending = new Set(
    (
      await db
        .select({ agentId: agentInvites.agentId })
        .from(agentInvites)
        .innerJoin(agents, eq(agents.id, agentInvites.agentId))
        .where(and(eq(agentInvites.kind, 'invite'), isNull(agentInvites.usedAt), isNull(agents.lastSeenAt)))
    ).map((r) => r.agentId),
  );
  return (await db.select().from(agents).orderBy(asc(agents.name), asc(agents.id))).map((row) => ({
    ...toAgentDto(row),
    invitePending: pending.has(row.id),
  }));
}

async function requireAgent(db: Db, id: number): Promise<AgentDto> {
  const agent = await getAgent(db, id);
  if (!agent) throw new AppError('NOT_FOUND', `Agent ${id} not found`);
  return agent;
}

async function activeAdminCount(db: Db): Promise<number> {
  return (
    (
      await db
        .select({ n: count() })
        .from(agents)
        .where(and(eq(agents.role, 'admin'), isNull(agents.disabledAt)))
    )[0]?.n ?? 0
  );
}

async function guardLastAdmin(db: Db, target: AgentDto, what: string): Promise<void> {
  if (target.role === 'admin' && target.disabledAt === null && (await activeAdminCount(db)) <= 1) {
    throw new AppError('CONFLICT', `${target.name} is the last active admin and cannot be ${what}; make another agent an admin first`);
  }
}

/** A fresh one-time link for an agent; earlier unused links of the agent stop working. */
async function issueLink(db: Db, agentId: number, kind: 'invite' | 'reset', now: number): Promise<string> {
  const token = randomToken();
  await runTx(db, async (tx) => {
    await tx
      .update(agentInvites)
      .set({ usedAt: now })
      .where(and(eq(agentInvites.agentId, agentId), isNull(agentInvites.usedAt)));
    await tx.insert(agentInvites).values({ tokenHash: sha256Hex(token), agentId, kind, expiresAt: now + INVITE_TTL_MS, createdAt: now });
  });
  return token;
}

export async function inviteAgent(opts: {
  db: Db;
  /** Who invites, for the audit log (default: Parley itself). */
  actor?: AuditActor;
  email: string;
  name: string;
  role: AgentRole;
  /** How the placeholder password is hashed (the server passes its cost and hash gate). */
  hash?: (password: string) => Promise<string>;
  now?: number;
}): Promise<{ agent: AgentDto; token: string }> {
  const { db } = opts;
  const now = opts.now ?? Date.now();
  const email = normalizeEmail(opts.email);
  const exists = async () => (await db.select({ id: agents.id }).from(agents).where(eq(agents.email, email)))[0];
  if (await exists()) throw new AppError('CONFLICT', `An agent with the email ${email} already exists`);
  // Until the invitation is accepted the account has a random password nobody knows (so a sign-in
  // attempt costs a real scrypt check, like any other wrong password).
  const passwordHash = await (opts.hash ?? hashPassword)(generatePassword());
  if (await exists()) throw new AppError('CONFLICT', `An agent with the email ${email} already exists`);
  const row = await runTx(db, async (tx) => {
    const inserted = one(
      await tx.insert(agents).values({ email, name: opts.name.trim(), role: opts.role, passwordHash, createdAt: now }).returning(),
    );
    await recordAudit(tx, {
      actor: opts.actor ?? SYSTEM_ACTOR,
      action: 'agent.invited',
      target: { type: 'agent', id: inserted.id },
      detail: { email, role: opts.role },
      now,
    });
    return inserted;
  });
  return { agent: toAgentDto(row), token: await issueLink(db, row.id, 'invite', now) };
}

export async function createResetLink({ db, id, now = Date.now() }: { db: Db; id: number; now?: number }): Promise<string> {
  const agent = await requireAgent(db, id);
  if (agent.disabledAt !== null) throw new AppError('BAD_REQUEST', `${agent.name} is disabled; enable the account first`);
  return await issueLink(db, id, 'reset', now);
}

/**
 * Uses an invitation or reset link: sets the password, ends the agent's other sessions and marks the
 * link used, all or nothing. A forged, used or expired link is UNAUTHORIZED with the reason.
 */
export async function acceptInvite(opts: {
  db: Db;
  token: string;
  password: string;
  /** How the new password is hashed (the server passes its cost and hash gate). */
  hash?: (password: string) => Promise<string>;
  now?: number;
}): Promise<AgentDto> {
  const { db } = opts;
  const now = opts.now ?? Date.now();
  const tokenHash = sha256Hex(opts.token);
  const check = async () => {
    const link = (await db.select().from(agentInvites).where(eq(agentInvites.tokenHash, tokenHash)))[0];
    if (!link) throw new AppError('UNAUTHORIZED', 'This link is not valid: check that it was copied whole, or ask an admin for a new one');
    if (link.usedAt !== null)
      throw new AppError('UNAUTHORIZED', 'This link was already used (or replaced by a newer one); ask an admin for a new one');
    if (link.expiresAt <= now) throw new AppError('UNAUTHORIZED', 'This link has expired (links last 7 days); ask an admin for a new one');
    const agent = await requireAgent(db, link.agentId);
    if (agent.disabledAt !== null) throw new AppError('UNAUTHORIZED', 'This account is disabled; ask an admin');
    return link;
  };
  await check();
  const passwordHash = await (opts.hash ?? hashPassword)(opts.password);
  return await runTx(db, async (tx) => {
    // Checked again inside the transaction: two concurrent uses of one link, only one wins.
    const link = await check();
    const used = await tx
      .update(agentInvites)
      .set({ usedAt: now })
      .where(and(eq(agentInvites.id, link.id), isNull(agentInvites.usedAt)));
    if (affected(used) !== 1) throw new AppError('UNAUTHORIZED', 'This link was already used; ask an admin for a new one');
    await tx.update(agents).set({ passwordHash, lastSeenAt: now }).where(eq(agents.id, link.agentId));
    await tx.delete(sessions).where(eq(sessions.agentId, link.agentId));
    return await requireAgent(db, link.agentId);
  });
}

export async function updateAgent(opts: {
  db: Db;
  id: number;
  name?: string | undefined;
  role?: AgentRole | undefined;
  actor?: AuditActor;
}): Promise<AgentDto> {
  const { db, id } = opts;
  return await runTx(db, async (tx) => {
    const agent = await requireAgent(db, id);
    if (opts.role === 'agent' && agent.role === 'admin') await guardLastAdmin(db, agent, 'demoted');
    const set: Partial<typeof agents.$inferInsert> = {};
    if (opts.name !== undefined) set.name = opts.name.trim();
    if (opts.role !== undefined) set.role = opts.role;
    await db.update(agents).set(set).where(eq(agents.id, id));
    if (opts.role !== undefined && opts.role !== agent.role) {
      await recordAudit(tx, {
        actor: opts.actor ?? SYSTEM_ACTOR,
        action: 'agent.role_changed',
        target: { type: 'agent', id },
        detail: { from: agent.role, to: opts.role },
      });
    }
    return await requireAgent(db, id);
  });
}

/**
 * Disabling ends everything the agent signed in with, at once: their sessions are deleted, their API
 * tokens revoked (re-enabling does not revive them) and unused links voided. The credential lookups
 * refuse a disabled agent too, so a request already in flight fails on its next check.
 */
export async function setAgentDisabled(opts: {
  db: Db;
  id: number;
  disabled: boolean;
  actorId: number;
  now?: number;
  actor?: AuditActor;
}): Promise<AgentDto> {
  const { db, id } = opts;
  const now = opts.now ?? Date.now();
  const actor = opts.actor ?? { agentId: opts.actorId, via: 'session' as const };
  return await runTx(db, async (tx) => {
    const agent = await requireAgent(db, id);
    if (!opts.disabled) {
      if (agent.disabledAt === null) return agent;
      await db.update(agents).set({ disabledAt: null }).where(eq(agents.id, id));
      await recordAudit(tx, { actor, action: 'agent.enabled', target: { type: 'agent', id }, detail: { email: agent.email }, now });
      return await requireAgent(db, id);
    }
    if (agent.disabledAt !== null) return agent;
    await guardLastAdmin(db, agent, 'disabled');
    if (id === opts.actorId) throw new AppError('BAD_REQUEST', 'You cannot disable your own account');
    await db.update(agents).set({ disabledAt: now }).where(eq(agents.id, id));
    await db.delete(sessions).where(eq(sessions.agentId, id));
    await db
      .update(apiTokens)
      .set({ revokedAt: now })
      .where(and(eq(apiTokens.agentId, id), isNull(apiTokens.revokedAt)));
    await db
      .update(agentInvites)
      .set({ usedAt: now })
      .where(and(eq(agentInvites.agentId, id), isNull(agentInvites.usedAt)));
    await recordAudit(tx, { actor, action: 'agent.disabled', target: { type: 'agent', id }, detail: { email: agent.email }, now });
    return await requireAgent(db, id);
  });
}

/** A new password for the agent; every session but `keepSessionHash` (the caller's own) ends. */
export async function setPasswordHash(opts: {
  db: Db;
  agentId: number;
  passwordHash: string;
  keepSessionHash: string | null;
}): Promise<void> {
  const { db, agentId } = opts;
  await runTx(db, async (tx) => {
    await tx.update(agents).set({ passwordHash: opts.passwordHash }).where(eq(agents.id, agentId));
    const others =
      opts.keepSessionHash === null
        ? eq(sessions.agentId, agentId)
        : and(eq(sessions.agentId, agentId), ne(sessions.tokenHash, opts.keepSessionHash));
    await tx.delete(sessions).where(others);
  });
}

export async function passwordHashOf(db: Db, agentId: number): Promise<string | undefined> {
  return (await db.select({ h: agents.passwordHash }).from(agents).where(eq(agents.id, agentId)))[0]?.h;
}

/** How stale "last seen" may be: it is written at most once a minute per agent. */
const LAST_SEEN_GRANULARITY_MS = 60_000;

export async function touchLastSeen(db: Db, agentId: number, now = Date.now()): Promise<void> {
  await db
    .update(agents)
    .set({ lastSeenAt: now })
    .where(and(eq(agents.id, agentId), or(isNull(agents.lastSeenAt), lt(agents.lastSeenAt, now - LAST_SEEN_GRANULARITY_MS))));
}

// ── preferences ───────────────────────────────────────────────────────────────────────────────────

export async function getPreferences(db: Db, agentId: number): Promise<AgentPreferences> {
  const raw = (await db.select({ p: agents.preferences }).from(agents).where(eq(agents.id, agentId)))[0]?.p;
  if (!raw) return { ...DEFAULT_PREFERENCES };
  try {
    return preferencesSchema.parse({ ...DEFAULT_PREFERENCES, ...(JSON.parse(raw) as object) });
  } catch {
    return { ...DEFAULT_PREFERENCES };
  }
}

export async function setPreferences(db: Db, agentId: number, change: Partial<AgentPreferences>): Promise<AgentPreferences> {
  const next: AgentPreferences = { ...(await getPreferences(db, agentId)) };
  if (change.desktop !== undefined) next.desktop = change.desktop;
  if (change.sound !== undefined) next.sound = change.sound;
  await db
    .update(agents)
    .set({ preferences: JSON.stringify(next) })
    .where(eq(agents.id, agentId));
  return next;
}

/** Unread inbound texts across open conversations (the tab title's count). */
export async function unreadTotal(db: Db): Promise<{ messages: number; conversations: number }> {
  const [row] = await db
    .select({ messages: sql<number>`coalesce(sum(${conversations.unreadCount}), 0)`, conversations: sql<number>`count(*)` })
    .from(conversations)
    .where(and(eq(conversations.status, 'open'), gt(conversations.unreadCount, 0)));
  return { messages: Number(row?.messages ?? 0), conversations: Number(row?.conversations ?? 0) };
}
