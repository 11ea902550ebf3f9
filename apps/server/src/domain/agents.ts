import { and, asc, count, desc, eq, gt, isNull, lt, or } from 'drizzle-orm';
import { isDbBusy, type Db } from '../db/client';
import { agents, apiTokens, sessions } from '../db/tables';
import { one, affected } from '../db/store';

/**
 * Agents, their sessions and API tokens: the SQL behind auth/. These rows are access control, not
 * inbox state, so they are written directly (no event): nothing on the live view depends on them.
 */

export type AgentRole = 'admin' | 'agent';

/** An agent as procedures return it: never the password hash. */
export interface AgentDto {
  id: number;
  email: string;
  name: string;
  role: AgentRole;
  disabledAt: string | null;
  /** Last sign-in or presence heartbeat (at most a minute stale); null: never. */
  lastSeenAt: string | null;
  createdAt: string;
}

/** What an API token may do: `read` queries and subscriptions, `send` mutations, `admin` admin procedures. */
export type ApiTokenScope = 'read' | 'send' | 'admin';
export const API_TOKEN_SCOPES: readonly ApiTokenScope[] = ['read', 'send', 'admin'];

export interface ApiTokenDto {
  id: number;
  name: string;
  scopes: ApiTokenScope[];
  /** null: does not expire. */
  expiresAt: string | null;
  /** The first characters of the token, to tell tokens apart. */
  prefix: string;
  agentId: number;
  lastUsedAt: string | null;
  revokedAt: string | null;
  createdAt: string;
}

type AgentRow = typeof agents.$inferSelect;
type TokenRow = typeof apiTokens.$inferSelect;

const isoOrNull = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toAgentDto(a: AgentRow): AgentDto {
  return {
    id: a.id,
    email: a.email,
    name: a.name,
    role: a.role,
    disabledAt: isoOrNull(a.disabledAt),
    lastSeenAt: isoOrNull(a.lastSeenAt),
    createdAt: new Date(a.createdAt).toISOString(),
  };
}

function toApiTokenDto(t: TokenRow): ApiTokenDto {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    scopes: parseScopes(t.scopes),
    expiresAt: isoOrNull(t.expiresAt),
    agentId: t.agentId,
    lastUsedAt: isoOrNull(t.lastUsedAt),
    revokedAt: isoOrNull(t.revokedAt),
    createdAt: new Date(t.createdAt).toISOString(),
  };
}

function parseScopes(stored: string): ApiTokenScope[] {
  const listed = new Set(stored.split(','));
  return API_TOKEN_SCOPES.filter((s) => listed.has(s));
}

/** Emails are stored and compared lower-case. */
export const normalizeEmail = (email: string) => email.trim().toLowerCase();

export async function countAgents(db: Db): Promise<number> {
  return (await db.select({ n: count() }).from(agents))[0]?.n ?? 0;
}

export async function insertAgent(db: Db, a: { email: string; name: string; passwordHash: string; role: AgentRole }): Promise<AgentDto> {
  const row = one(
    await db
      .insert(agents)
      .values({ ...a, email: normalizeEmail(a.email), createdAt: Date.now() })
      .returning(),
  );
  return toAgentDto(row);
}

/** The agent with this email and its password hash (for login), or undefined. */
export async function findAgentForLogin(db: Db, email: string): Promise<{ agent: AgentDto; passwordHash: string } | undefined> {
  const row = (
    await db
      .select()
      .from(agents)
      .where(eq(agents.email, normalizeEmail(email)))
  )[0];
  return row ? { agent: toAgentDto(row), passwordHash: row.passwordHash } : undefined;
}

/** Replaces a password hash (a rehash at a higher cost) unless it changed meanwhile; true when written. */
export async function setAgentPasswordHash(db: Db, id: number, hash: { from: string; to: string }): Promise<boolean> {
  return (
    affected(
      await db
        .update(agents)
        .set({ passwordHash: hash.to })
        .where(and(eq(agents.id, id), eq(agents.passwordHash, hash.from))),
    ) === 1
  );
}

export async function getAgent(db: Db, id: number): Promise<AgentDto | undefined> {
  const row = (await db.select().from(agents).where(eq(agents.id, id)))[0];
  return row ? toAgentDto(row) : undefined;
}

export async function listAgents(db: Db): Promise<AgentDto[]> {
  return (await db.select().from(agents).orderBy(asc(agents.name), asc(agents.id))).map(toAgentDto);
}

// ── sessions ──────────────────────────────────────────────────────────────────────────────────────

export async function insertSession(db: Db, s: { tokenHash: string; agentId: number; expiresAt: number }): Promise<void> {
  await db.insert(sessions).values({ ...s, createdAt: Date.now() });
}

/** The enabled agent behind an unexpired session, or undefined. */
export async function findSessionAgent(db: Db, tokenHash: string, now = Date.now()): Promise<AgentDto | undefined> {
  const row = (
    await db
      .select({ agent: agents })
      .from(sessions)
      .innerJoin(agents, eq(agents.id, sessions.agentId))
      .where(and(eq(sessions.tokenHash, tokenHash), gt(sessions.expiresAt, now), isNull(agents.disabledAt)))
  )[0];
  return row ? toAgentDto(row.agent) : undefined;
}

export async function deleteSession(db: Db, tokenHash: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.tokenHash, tokenHash));
}

export async function deleteExpiredSessions(db: Db, now = Date.now()): Promise<number> {
  return affected(await db.delete(sessions).where(lt(sessions.expiresAt, now)));
}

// ── API tokens ────────────────────────────────────────────────────────────────────────────────────

export async function insertApiToken(
  db: Db,
  t: { name: string; tokenHash: string; prefix: string; agentId: number; scopes: readonly ApiTokenScope[]; expiresAt: number | null },
): Promise<ApiTokenDto> {
  return toApiTokenDto(
    one(
      await db
        .insert(apiTokens)
        .values({ ...t, scopes: API_TOKEN_SCOPES.filter((s) => t.scopes.includes(s)).join(','), createdAt: Date.now() })
        .returning(),
    ),
  );
}

/** last_used_at is refreshed at most once a minute, so a busy script does not write on every call. */
const LAST_USED_GRANULARITY_MS = 60_000;

/** The enabled agent behind an unrevoked token, or undefined; notes the token's use. */
export async function findTokenAgent(db: Db, tokenHash: string, now = Date.now()): Promise<AgentDto | undefined> {
  return (await findTokenAccess(db, tokenHash, now))?.agent;
}

/** The enabled agent behind an unrevoked, unexpired token and the token's scopes, or undefined; notes its use. */
export async function findTokenAccess(
  db: Db,
  tokenHash: string,
  now = Date.now(),
): Promise<{ agent: AgentDto; tokenId: number; scopes: ApiTokenScope[] } | undefined> {
  const row = (
    await db
      .select({ agent: agents, tokenId: apiTokens.id, scopes: apiTokens.scopes })
      .from(apiTokens)
      .innerJoin(agents, eq(agents.id, apiTokens.agentId))
      .where(
        and(
          eq(apiTokens.tokenHash, tokenHash),
          isNull(apiTokens.revokedAt),
          isNull(agents.disabledAt),
          or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, now)),
        ),
      )
  )[0];
  if (!row) return undefined;
  try {
    await db
      .update(apiTokens)
      .set({ lastUsedAt: now })
      .where(
        and(eq(apiTokens.id, row.tokenId), or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, now - LAST_USED_GRANULARITY_MS))),
      );
  } catch (err) {
    // Bookkeeping only: a database locked by another process must not refuse the token.
    if (!isDbBusy(err)) throw err;
  }
  return { agent: toAgentDto(row.agent), tokenId: row.tokenId, scopes: parseScopes(row.scopes) };
}

/** One agent's tokens, or everyone's when agentId is null; newest first. */
export async function listApiTokens(db: Db, agentId: number | null): Promise<ApiTokenDto[]> {
  const q = db.select().from(apiTokens);
  const rows = await (agentId === null ? q : q.where(eq(apiTokens.agentId, agentId))).orderBy(
    desc(apiTokens.createdAt),
    desc(apiTokens.id),
  );
  return rows.map(toApiTokenDto);
}

export async function getApiToken(db: Db, id: number): Promise<ApiTokenDto | undefined> {
  const row = (await db.select().from(apiTokens).where(eq(apiTokens.id, id)))[0];
  return row ? toApiTokenDto(row) : undefined;
}

/** Marks a token revoked (once; revoking again keeps the first time). */
export async function revokeApiTokenRow(db: Db, id: number, now = Date.now()): Promise<ApiTokenDto | undefined> {
  await db
    .update(apiTokens)
    .set({ revokedAt: now })
    .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)));
  return await getApiToken(db, id);
}
