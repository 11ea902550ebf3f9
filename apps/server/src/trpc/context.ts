import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { CreateExpressContextOptions } from '@trpc/server/adapters/express';
import type { CreateWSSContextFnOptions } from '@trpc/server/adapters/ws';
import { SESSION_COOKIE, agentForSessionHash, readCookie } from '../auth/session';
import type { ApiRateLimiter } from '../auth/api-rate-limit';
import type { HashGate } from '../auth/hash-gate';
import type { LoginRateLimiter } from '../auth/rate-limit';
import { API_TOKEN_PREFIX, accessForTokenHash, sha256Hex } from '../auth/tokens';
import type { Config } from '../config';
import type { Db } from '../db/client';
import { API_TOKEN_SCOPES, type AgentDto, type ApiTokenScope } from '../domain/agents';
import type { EventLog } from '../events/log';
import type { NumberRegistry } from '../numbers';
import type { CredentialWatch } from '../auth/credential-watch';
import type { LiveConnection } from './live';
import type { PresenceHub } from '../presence/hub';
import type { MediaStore } from '../media/store';
import type { ProviderName } from '@parley/shared';
import type { WebhookWorker } from '../integrations/webhook-worker';
import type { WebhookReplayer } from '../webhooks/replay';

export interface SimulateInboundInput {
  /** E.164 sender. */
  from: string;
  /** Which of our numbers receives it (default: the default number); its provider's webhook path is used. */
  to?: string | undefined;
  text: string;
  /** MMS: attachments as base64, and/or the built-in sample picture. */
  media?: { contentType: string; base64: string; name?: string | undefined }[] | undefined;
  sample?: boolean | undefined;
}

/** Everything procedures need, built once by createServer (no module-level state). */
export interface AppDeps {
  db: Db;
  log: EventLog;
  config: Config;
  logger: Logger;
  /** Wakes the outbox worker after something was queued. */
  outbox: { wake(): void };
  /** Wakes the campaign feeder after a campaign was created or resumed. */
  campaigns: { wake(): void };
  /** Our numbers, each on its provider; the default one starts new conversations. */
  numbers: NumberRegistry;
  /** Counts failed logins per email and per IP (in memory, per instance). */
  loginLimiter: LoginRateLimiter;
  /**
   * Open subscriptions' credentials, re-checked on an interval; call `credentials.revoked()` after
   * anything that ends a session, token or agent so their streams end at once (whileSignedIn).
   */
  credentials: CredentialWatch;
  /** Aborts when the server shuts down: every subscription ends with it. */
  shutdown: AbortSignal;
  /** Bounds concurrent password hashes (sign-in); a full queue answers 429. */
  hashGate: HashGate;
  /** Calls and sends per session / API token (429 with Retry-After beyond). */
  apiLimiter: ApiRateLimiter;
  /** Who is online, viewing and typing (in memory; presence.update / presence.stream). */
  presence: PresenceHub;
  /** MMS: why a provider cannot send one from `from` to `to` (null: it can); checked before queueing. */
  mms?: { refusal(provider: ProviderName, from: string, to: string): string | null };
  /** Where attachments' files are (erasure deletes them). */
  mediaStore?: MediaStore;
  /** The clock (epoch ms) due times are judged by; tests inject one. */
  now?: () => number;
  /** Replays refused webhooks kept in webhook_log through their provider's live handler (webhookLog.replay). */
  webhookReplayer?: WebhookReplayer;
  /** Sandbox only: delivers a signed inbound webhook through the real /webhooks/inbound path; throws if it is not accepted. */
  simulateInbound?: (input: SimulateInboundInput) => Promise<void>;
  /** Outbound webhook delivery (webhookEndpoint.*); absent in transport-less tests. */
  webhooks?: WebhookWorker;
}

/** What a request authenticated with; kept as hashes so a WebSocket can re-check it on every call. */
export type Credential = { kind: 'session'; hash: string } | { kind: 'token'; hash: string };

export interface Context {
  deps: AppDeps;
  /** The signed-in agent, or null (agentProcedure answers UNAUTHORIZED). */
  agent: AgentDto | null;
  credential: Credential | null;
  /** What the credential may do: a session everything its agent may; a token only its scopes. */
  scopes: readonly ApiTokenScope[];
  via: 'http' | 'ws' | 'internal';
  /** The client's address (rate limiting); null when unknown. */
  ip: string | null;
  /** Appends a Set-Cookie header to the response; null over WebSocket (no response to set it on). */
  setCookie: ((value: string) => void) | null;
  /** The WebSocket connection the call came on (null over HTTP and in-process). */
  connection: LiveConnection | null;
  /** `protocol://host` the request came to (invite links without PUBLIC_URL); null when unknown. */
  origin: string | null;
}

/** The context without a transport: tests and createCaller build it directly. */
export function createContextInner(opts: {
  deps: AppDeps;
  agent?: AgentDto | null;
  credential?: Credential | null;
  scopes?: readonly ApiTokenScope[];
  via?: Context['via'];
  ip?: string | null;
  setCookie?: ((value: string) => void) | null;
  connection?: LiveConnection | null;
  origin?: string | null;
}): Context {
  return {
    deps: opts.deps,
    agent: opts.agent ?? null,
    credential: opts.credential ?? null,
    scopes: opts.scopes ?? API_TOKEN_SCOPES,
    via: opts.via ?? 'internal',
    ip: opts.ip ?? null,
    setCookie: opts.setCookie ?? null,
    connection: opts.connection ?? null,
    origin: opts.origin ?? null,
  };
}

/** The agent a credential stands for right now (null: unknown, expired, revoked or disabled). */
export async function resolveCredential(db: Db, credential: Credential | null): Promise<AgentDto | null> {
  return (await resolveAccess(db, credential))?.agent ?? null;
}

/** The agent and scopes a credential stands for right now (a session: every scope), or null. */
export async function resolveAccess(
  db: Db,
  credential: Credential | null,
): Promise<{ agent: AgentDto; scopes: readonly ApiTokenScope[] } | null> {
  if (!credential) return null;
  if (credential.kind === 'token') return await accessForTokenHash(db, credential.hash);
  const agent = await agentForSessionHash(db, credential.hash);
  return agent ? { agent, scopes: API_TOKEN_SCOPES } : null;
}

/** `Authorization: Bearer pk_…` wins over the session cookie; a bad token is not rescued by a cookie. */
export function credentialFrom(opts: {
  authorization?: string | undefined;
  token?: unknown;
  cookie?: string | undefined;
}): Credential | null {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(opts.authorization ?? '')?.[1];
  const token = bearer ?? (typeof opts.token === 'string' && opts.token !== '' ? opts.token : undefined);
  if (token !== undefined) {
    // A string that cannot be a token still gets a credential (that matches nothing): 401, not the cookie.
    return { kind: 'token', hash: token.startsWith(API_TOKEN_PREFIX) ? sha256Hex(token) : '' };
  }
  const session = readCookie(opts.cookie, SESSION_COOKIE);
  return session ? { kind: 'session', hash: sha256Hex(session) } : null;
}

export async function createHttpContext(deps: AppDeps, { req, res }: Pick<CreateExpressContextOptions, 'req' | 'res'>): Promise<Context> {
  const credential = credentialFrom({ authorization: req.headers.authorization, cookie: req.headers.cookie });
  const access = await resolveAccess(deps.db, credential);
  return createContextInner({
    deps,
    agent: access?.agent ?? null,
    credential,
    scopes: access?.scopes ?? [],
    via: 'http',
    ip: req.ip ?? req.socket.remoteAddress ?? null,
    setCookie: (value) => res.append('Set-Cookie', value),
    origin: req.headers.host ? `${req.protocol}://${req.headers.host}` : null,
  });
}

/**
 * Once per WebSocket connection. The browser sends its cookie with the upgrade (same origin only:
 * a cookie on a cross-site upgrade is ignored, against cross-site WebSocket hijacking); scripts pass
 * `connectionParams: { token }`. agentProcedure re-checks the credential on every call.
 */
export async function createWsContext(
  deps: AppDeps,
  { req, info }: Pick<CreateWSSContextFnOptions, 'req' | 'info'>,
  connection: LiveConnection | null = null,
): Promise<Context> {
  const credential = credentialFrom({
    authorization: req.headers.authorization,
    token: info.connectionParams?.token,
    cookie: sameOrigin(req, deps.config.publicUrl) ? req.headers.cookie : undefined,
  });
  const access = await resolveAccess(deps.db, credential);
  return createContextInner({
    deps,
    agent: access?.agent ?? null,
    credential,
    scopes: access?.scopes ?? [],
    via: 'ws',
    ip: req.socket.remoteAddress ?? null,
    setCookie: null,
    connection,
  });
}

/** No Origin (not a browser), or an Origin whose host is the request's Host or PUBLIC_URL's. */
export function sameOrigin(req: IncomingMessage, publicUrl: string | undefined): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  if (host === req.headers.host) return true;
  if (!publicUrl) return false;
  try {
    return host === new URL(publicUrl).host;
  } catch {
    return false;
  }
}
