import type { Config } from '../config';
import type { Db } from '../db/client';
import {
  deleteExpiredSessions,
  deleteSession,
  findAgentForLogin,
  findSessionAgent,
  insertSession,
  setAgentPasswordHash,
  type AgentDto,
} from '../domain/agents';
import { AppError } from '../errors';
import type { HashGate } from './hash-gate';
import { PASSWORD_COST, dummyPasswordHash, hashPassword, needsRehash, verifyPassword, type PasswordCost } from './password';
import { loginKeys, type LoginRateLimiter } from './rate-limit';
import { randomToken, sha256Hex } from './tokens';

export const SESSION_COOKIE = 'parley_session';
export const SESSION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export interface NewSession {
  /** The cookie's value: shown to the browser once, stored only as its hash. */
  token: string;
  tokenHash: string;
  expiresAt: number;
}

/** Opens a session (and clears out expired ones: logins are rare enough to carry that). */
export async function createSession(db: Db, agentId: number, now = Date.now()): Promise<NewSession> {
  await deleteExpiredSessions(db, now);
  const token = randomToken();
  const tokenHash = sha256Hex(token);
  const expiresAt = now + SESSION_TTL_MS;
  await insertSession(db, { tokenHash, agentId, expiresAt });
  return { token, tokenHash, expiresAt };
}

/** The enabled agent behind a session hash that has not expired, or null. */
export async function agentForSessionHash(db: Db, tokenHash: string): Promise<AgentDto | null> {
  return (await findSessionAgent(db, tokenHash)) ?? null;
}

export async function endSession(db: Db, tokenHash: string): Promise<void> {
  await deleteSession(db, tokenHash);
}

// ── cookies ───────────────────────────────────────────────────────────────────────────────────────

export interface CookieOptions {
  /** Secure flag: set when Parley is served over https. */
  secure: boolean;
  /** Max-Age in seconds; 0 deletes the cookie. */
  maxAgeSeconds: number;
}

/** Cookies are Secure when PUBLIC_URL is https (behind a TLS proxy the app itself sees http). */
export function cookieSecure(config: Pick<Config, 'publicUrl'>): boolean {
  return config.publicUrl?.startsWith('https:') ?? false;
}

/** A Set-Cookie value: HttpOnly, SameSite=Lax, Path=/. */
export function serializeCookie(name: string, value: string, opts: CookieOptions): string {
  const parts = [
    `${name}=${encodeURIComponent(value)}`,
    'Path=/',
    `Max-Age=${Math.max(0, Math.floor(opts.maxAgeSeconds))}`,
    'HttpOnly',
    'SameSite=Lax',
  ];
  if (opts.maxAgeSeconds <= 0) parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  if (opts.secure) parts.push('Secure');
  return parts.join('; ');
}

/** One cookie's value from a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
    const raw = pair
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    try {
      return decodeURIComponent(raw);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

// ── login ─────────────────────────────────────────────────────────────────────────────────────────

/**
 * Checks an email and password under the rate limiter and opens a session. Unknown email and wrong
 * password fail alike (same message, same scrypt cost); attempts count per email and per IP before
 * the hash runs (a right password gives its attempt back). Hashes run through `hashGate` (bounded
 * concurrency). A hash made at a lower cost than `cost` is replaced after a successful check.
 */
export async function loginWithPassword(opts: {
  db: Db;
  limiter: LoginRateLimiter;
  email: string;
  password: string;
  ip: string | null;
  cost?: PasswordCost;
  hashGate?: HashGate;
}): Promise<{ agent: AgentDto; session: NewSession }> {
  const cost = opts.cost ?? PASSWORD_COST;
  const gate = opts.hashGate ?? { run: <T>(fn: () => Promise<T>) => fn() };
  const keys = loginKeys(opts.email, opts.ip);
  await opts.limiter.attempt(keys);
  const found = await findAgentForLogin(opts.db, opts.email);
  let ok: boolean;
  try {
    ok = await gate.run(() => verifyPassword(opts.password, found?.passwordHash ?? dummyPasswordHash(cost)));
  } catch (error) {
    // Never checked (sign-in busy): the attempt does not count.
    await opts.limiter.refund(keys);
    throw error;
  }
  if (!found || !ok) throw new AppError('UNAUTHORIZED', 'Wrong email or password');
  await opts.limiter.refund(keys);
  const [emailKey] = keys;
  if (emailKey) await opts.limiter.reset(emailKey);
  if (found.agent.disabledAt !== null) throw new AppError('FORBIDDEN', 'This account is disabled; ask an admin');
  if (needsRehash(found.passwordHash, cost)) {
    // Upgraded while we know the password; when sign-in is busy it waits for the next login.
    const upgraded = await gate.run(() => hashPassword(opts.password, cost)).catch(() => null);
    if (upgraded) await setAgentPasswordHash(opts.db, found.agent.id, { from: found.passwordHash, to: upgraded });
  }
  return { agent: found.agent, session: await createSession(opts.db, found.agent.id) };
}
