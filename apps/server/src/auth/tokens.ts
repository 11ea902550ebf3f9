import { recordAudit, type AuditActor } from '../domain/audit';
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/client';
import {
  findTokenAccess,
  findTokenAgent,
  getApiToken,
  insertApiToken,
  listApiTokens,
  revokeApiTokenRow,
  type AgentDto,
  type ApiTokenDto,
  type ApiTokenScope,
} from '../domain/agents';
import { AppError } from '../errors';
import { runTx } from '../db/store';

export const API_TOKEN_PREFIX = 'pk_';
/** How much of a token is kept in clear to tell tokens apart: 'pk_' and 6 characters. */
const SHOWN_PREFIX_CHARS = API_TOKEN_PREFIX.length + 6;

/** Hex SHA-256: how session and API tokens are stored (the tokens are random, so no salt is needed). */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** A fresh random secret: 32 bytes as base64url. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

export interface CreatedApiToken extends ApiTokenDto {
  /** The token itself: shown once, never stored. */
  token: string;
}

/** What a new token may do unless its creator says otherwise: use the inbox, not administer it. */
export const DEFAULT_API_TOKEN_SCOPES: readonly ApiTokenScope[] = ['read', 'send'];

export async function createApiToken({
  db,
  agentId,
  name,
  scopes = DEFAULT_API_TOKEN_SCOPES,
  expiresAt = null,
  actor,
}: {
  db: Db;
  agentId: number;
  name: string;
  scopes?: readonly ApiTokenScope[];
  /** Epoch ms; null: never. */
  expiresAt?: number | null;
  /** Who creates it (a procedure call): recorded in the audit log in the same transaction. */
  actor?: AuditActor;
}): Promise<CreatedApiToken> {
  const token = `${API_TOKEN_PREFIX}${randomToken()}`;
  const row = await runTx(db, async (tx) => {
    const inserted = await insertApiToken(db, {
      name: name.trim(),
      tokenHash: sha256Hex(token),
      prefix: token.slice(0, SHOWN_PREFIX_CHARS),
      agentId,
      scopes,
      expiresAt,
    });
    if (actor) {
      await recordAudit(tx, {
        actor,
        action: 'token.created',
        target: { type: 'api_token', id: inserted.id },
        detail: { name: inserted.name, agentId, scopes: [...scopes], expiresAt: inserted.expiresAt },
      });
    }
    return inserted;
  });
  return { ...row, token };
}

/** A token's agent and scopes right now, or null (unknown, revoked, expired, agent disabled). */
export async function accessForTokenHash(db: Db, tokenHash: string): Promise<{ agent: AgentDto; scopes: ApiTokenScope[] } | null> {
  const found = await findTokenAccess(db, tokenHash);
  return found ? { agent: found.agent, scopes: found.scopes } : null;
}

/** The agent an `Authorization: Bearer pk_…` token belongs to, or null (unknown, revoked, agent disabled). */
export async function authenticateApiToken(db: Db, token: string): Promise<AgentDto | null> {
  if (!token.startsWith(API_TOKEN_PREFIX)) return null;
  return await agentForTokenHash(db, sha256Hex(token));
}

export async function agentForTokenHash(db: Db, tokenHash: string): Promise<AgentDto | null> {
  return (await findTokenAgent(db, tokenHash)) ?? null;
}

/** An agent sees their own tokens; an admin sees everyone's. */
export async function listApiTokensFor({ db, agent }: { db: Db; agent: AgentDto }): Promise<ApiTokenDto[]> {
  return await listApiTokens(db, agent.role === 'admin' ? null : agent.id);
}

/** Revokes a token its owner (or an admin) names; another agent's token is NOT_FOUND, not FORBIDDEN. */
export async function revokeApiToken({
  db,
  agent,
  id,
  actor,
}: {
  db: Db;
  agent: AgentDto;
  id: number;
  actor?: AuditActor;
}): Promise<ApiTokenDto> {
  return await runTx(db, async (tx) => {
    const token = await getApiToken(db, id);
    if (!token || (token.agentId !== agent.id && agent.role !== 'admin')) {
      throw new AppError('NOT_FOUND', `API token ${id} not found`);
    }
    const revoked = await revokeApiTokenRow(db, id);
    if (!revoked) throw new AppError('NOT_FOUND', `API token ${id} not found`);
    // Revoking an already revoked token changes nothing and is not recorded again.
    if (actor && token.revokedAt === null) {
      await recordAudit(tx, {
        actor,
        action: 'token.revoked',
        target: { type: 'api_token', id },
        detail: { name: token.name, agentId: token.agentId },
      });
    }
    return revoked;
  });
}
