import { isIP } from 'node:net';
import { z } from 'zod';
import { normalizePhone, type NumberDto, type ProviderName } from '@parley/shared';
import { DEFAULT_HELP_TEXT } from './domain/keywords';
import { PASSWORD_COST, TEST_PASSWORD_COST, type PasswordCost } from './auth/password';

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const positiveNumber = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) {
        ctx.addIssue({ code: 'custom', message: `must be a positive number, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

const positiveInteger = (fallback: number) =>
  positiveNumber(fallback).transform((n, ctx) => {
    if (!Number.isInteger(n)) {
      ctx.addIssue({ code: 'custom', message: `must be a whole number, got ${n}` });
      return z.NEVER;
    }
    return n;
  });

/** Express `trust proxy`: true/false, a hop count, or addresses, subnets and loopback/linklocal/uniquelocal. */
export type TrustProxy = boolean | number | string;
const trustProxy = optionalString.transform((v, ctx): TrustProxy => {
  if (v === undefined) return 'loopback';
  if (v === 'true' || v === 'false') return v === 'true';
  if (/^\d+$/.test(v)) return Number(v);
  for (const item of v.split(',').map((i) => i.trim())) {
    const [address = '', prefix] = item.split('/');
    const named = ['loopback', 'linklocal', 'uniquelocal'].includes(item);
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (isIP(address) === 6 ? 128 : 32));
    if (!named && !(isIP(address) !== 0 && prefixOk)) {
      ctx.addIssue({
        code: 'custom',
        message: `"${item}" is not true, false, a hop count, an IP address, a subnet or loopback/linklocal/uniquelocal`,
      });
      return z.NEVER;
    }
  }
  return v;
});

const envSchema = z.object({
  PORT: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return 3000;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) {
        ctx.addIssue({ code: 'custom', message: `must be a port number 0-65535, got "${v}"` });
        return z.NEVER;
      }
      return n;
    }),
  HOST: optionalString,
  DATABASE_URL: optionalString.transform((v, ctx) => {
    const url = v ?? 'file:./data/parley.db';
    if (url === ':memory:' || url === 'file::memory:') return { path: ':memory:' };
    if (/^postgres(ql)?:\/\//.test(url)) {
      try {
        new URL(url);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a URL like postgres://user:password@host:5432/parley' });
        return z.NEVER;
      }
      return { path: '', pgUrl: url };
    }
    if (!url.startsWith('file:')) {
      // The value itself is not echoed: a mistyped URL may carry a password.
      ctx.addIssue({
        code: 'custom',
        message: 'must be a SQLite URL like file:./data/parley.db or a PostgreSQL URL like postgres://user:password@host:5432/parley',
      });
      return z.NEVER;
    }
    return { path: url.slice('file:'.length) };
  }),
  SMS_PROVIDER: optionalString
    .pipe(z.enum(['sandbox', 'vonage', 'plivo', 'sinch'], { message: 'must be sandbox, vonage, plivo or sinch' }).optional())
    .transform((v) => v ?? 'sandbox'),
  DEFAULT_NUMBER: optionalString,
  VONAGE_APPLICATION_ID: optionalString,
  VONAGE_PRIVATE_KEY: optionalString,
  VONAGE_API_KEY: optionalString,
  VONAGE_API_SECRET: optionalString,
  VONAGE_SIGNATURE_SECRET: optionalString,
  VONAGE_NUMBER: optionalString,
  VONAGE_API_HOST: optionalString.pipe(z.url({ message: 'must be a URL like https://api.nexmo.com' }).optional()),
  PLIVO_AUTH_ID: optionalString,
  PLIVO_AUTH_TOKEN: optionalString,
  PLIVO_MAIN_AUTH_TOKEN: optionalString,
  PLIVO_NUMBER: optionalString,
  PLIVO_API_URL: optionalString.pipe(z.url({ message: 'must be a URL like https://api.plivo.com' }).optional()),
  PLIVO_SEND_RATE_PER_SECOND: positiveNumber(0),
  SINCH_SERVICE_PLAN_ID: optionalString,
  SINCH_API_TOKEN: optionalString,
  SINCH_REGION: optionalString
    .pipe(z.enum(['us', 'eu', 'au', 'br', 'ca'], { message: 'must be one of us, eu, au, br, ca' }).optional())
    .transform((v) => v ?? 'us'),
  SINCH_NUMBER: optionalString,
  SINCH_WEBHOOK_SECRET: optionalString,
  SINCH_API_URL: optionalString.pipe(z.url({ message: 'must be a URL like https://us.sms.api.sinch.com' }).optional()),
  SINCH_SEND_RATE_PER_SECOND: positiveNumber(0),
  PUBLIC_URL: optionalString.pipe(z.url({ message: 'must be a URL like https://parley.example.com' }).optional()),
  SEND_RATE_PER_SECOND: positiveNumber(30),
  WEBHOOK_MAX_AGE_SECONDS: positiveNumber(90_000),
  WEBHOOK_MAX_BODY_BYTES: positiveNumber(64 * 1024),
  WEBHOOK_LOG_EXCERPT_BYTES: positiveNumber(2048),
  WEBHOOK_LOG_PER_SOURCE_PER_MINUTE: positiveNumber(60),
  WEBHOOK_LOG_MAX_ROWS: positiveNumber(10_000),
  WEBHOOK_LOG_MAX_BYTES: positiveNumber(64 * 1024 * 1024),
  WEBHOOK_LOG_RETENTION_DAYS: positiveNumber(30),
  AUTO_REPLY_WINDOW_SECONDS: positiveNumber(600),
  HEALTH_MIN_FREE_BYTES: positiveNumber(64 * 1024 * 1024),
  PARLEY_ALLOW_HTTP_WEBHOOKS: optionalString
    .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be 1 or 0' }).optional())
    .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  PLIVO_ALLOW_V2: optionalString
    .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' }).optional())
    .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  ADMIN_EMAIL: optionalString.pipe(z.email({ message: 'must be an email address' }).optional()),
  ADMIN_PASSWORD: optionalString.pipe(z.string().min(8, 'must be at least 8 characters').optional()),
  HELP_TEXT: optionalString,
  SUPPRESSION_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)').optional()),
  WS_MAX_PAYLOAD_BYTES: positiveNumber(1024 * 1024),
  WS_MAX_CONNECTIONS: positiveNumber(1000),
  WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: positiveNumber(10),
  WS_AUTH_TIMEOUT_MS: positiveNumber(5000),
  WS_MAX_BUFFERED_BYTES: positiveNumber(4 * 1024 * 1024),
  WS_SLOW_CONSUMER_MS: positiveNumber(15_000),
  CREDENTIAL_RECHECK_MS: positiveNumber(500),
  EVENTS_RETENTION_DAYS: positiveNumber(7),
  EVENTS_RETENTION_COUNT: positiveNumber(200_000),
  EVENTS_COMPACT_INTERVAL_MS: positiveNumber(60_000),
  SHUTDOWN_GRACE_MS: positiveNumber(5000),
  DB_BUSY_TIMEOUT_MS: positiveNumber(100),
  PG_POOL_SIZE: positiveInteger(10),
  LEADER_LEASE_MS: positiveInteger(10_000),
  DB_BUSY_RETRY_MS: positiveNumber(5000),
  TRUST_PROXY: trustProxy,
  LOGIN_MAX_FAILURES: positiveInteger(5),
  LOGIN_WINDOW_SECONDS: positiveNumber(15 * 60),
  PASSWORD_HASH_CONCURRENCY: positiveInteger(2),
  PASSWORD_HASH_QUEUE: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return 16;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number ≥ 0, got "${v}"` });
        return z.NEVER;
      }
      return n;
    }),
  API_RATE_LIMIT_PER_MINUTE: positiveInteger(600),
  API_SEND_RATE_LIMIT_PER_MINUTE: positiveInteger(30),
  TRPC_MAX_BATCH_SIZE: positiveInteger(20),
  TRPC_MAX_BODY_BYTES: positiveInteger(1024 * 1024),
  TRPC_UPLOAD_MAX_BODY_BYTES: positiveInteger(40 * 1024 * 1024),
  PRESENCE_TTL_SECONDS: positiveNumber(30),
  DUE_SCAN_INTERVAL_SECONDS: positiveNumber(15),
  MEDIA_DIR: optionalString,
  MEDIA_MAX_BYTES: positiveInteger(5 * 1024 * 1024),
  MEDIA_LINK_TTL_SECONDS: positiveInteger(3600),
  MEDIA_SIGNING_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  LOG_LEVEL: optionalString
    .pipe(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional())
    .transform((v) => v ?? 'info'),
});

export type ProviderMode = 'sandbox' | ProviderName;

export interface Config {
  port: number;
  host: string | undefined;
  /** SQLite file path, or ':memory:'; '' on PostgreSQL. */
  databasePath: string;
  /** DATABASE_URL when it is postgres://… (then Parley runs on PostgreSQL); undefined on SQLite. */
  databaseUrl?: string | undefined;
  /** PG_POOL_SIZE: connections this instance keeps to PostgreSQL (default 10). */
  pgPoolSize: number;
  /** LEADER_LEASE_MS: PostgreSQL, several instances: how long the background lease lasts unrenewed (a crashed holder's work resumes elsewhere within it). */
  leaderLeaseMs: number;
  /** 'sandbox': every provider simulated; otherwise the provider of the default number, live. */
  provider: ProviderMode;
  /** DEFAULT_NUMBER: new conversations and campaigns start from it (default: the first number of SMS_PROVIDER's provider). */
  defaultNumber: string | undefined;
  vonage: {
    enabled: boolean;
    /** Every number (VONAGE_NUMBER may list several, comma-separated); `number` is the first. */
    numbers: string[];
    applicationId: string | undefined;
    privateKey: string | undefined;
    apiKey: string | undefined;
    apiSecret: string | undefined;
    /** undefined in sandbox mode until the server generates one beside the database. */
    signatureSecret: string | undefined;
    number: string;
    apiHost: string | undefined;
  };
  plivo: {
    enabled: boolean;
    authId: string | undefined;
    /** In sandbox mode without PLIVO_AUTH_TOKEN: undefined until the server generates one beside the database. */
    authToken: string | undefined;
    mainAuthToken: string | undefined;
    numbers: string[];
    apiUrl: string | undefined;
    /** Overrides sendRatePerSecond for Plivo (its default account limit is 5 MPS). */
    sendRatePerSecond: number | undefined;
    /** PLIVO_ALLOW_V2: accept webhooks signed with V2 only (no body signature). Default false. */
    allowV2: boolean;
  };
  sinch: {
    enabled: boolean;
    servicePlanId: string | undefined;
    apiToken: string | undefined;
    region: 'us' | 'eu' | 'au' | 'br' | 'ca';
    /** HMAC secret; without it live Sinch callbacks are unauthenticated (README). Sandbox generates one. */
    webhookSecret: string | undefined;
    numbers: string[];
    apiUrl: string | undefined;
    sendRatePerSecond: number | undefined;
  };
  publicUrl: string | undefined;
  /** MMS attachments (issue 15). */
  media: MediaConfig;
  sendRatePerSecond: number;
  webhookMaxAgeSeconds: number;
  webhookMaxBodyBytes: number;
  /** The refusal log's bounds (webhook_log). */
  webhookLog: {
    excerptBytes: number;
    perSourcePerMinute: number;
    maxRows: number;
    maxBytes: number;
    retentionMs: number;
  };
  /** Automatic replies (HELP, STOP/START confirmations) per conversation and kind at most once per this many ms. */
  autoReplyWindowMs: number;
  /** /healthz answers 503 when the database's file system has less free space than this. */
  healthMinFreeBytes: number;
  /** /healthz rewrites its probe row at most this often (ms). */
  healthProbeIntervalMs: number;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  helpText: string;
  /**
   * Key of the erased numbers' suppression hashes (HMAC-SHA256); unset: one generated at the first
   * start and kept in the database (app_secrets).
   */
  suppressionSecret: string | undefined;
  /** Express `trust proxy` (TRUST_PROXY): whose X-Forwarded-For is believed for the client address. */
  trustProxy: TrustProxy;
  /** Failed sign-ins per email and per client address in a window, then 429. */
  login: { maxFailures: number; windowSeconds: number };
  /** scrypt parameters of new hashes (never lowered by the environment; testConfig uses a cheap one). */
  passwordCost: PasswordCost;
  /** Password hashes running at once, and waiting beyond those (more: 429). */
  passwordHash: { concurrency: number; queue: number };
  /** Per session or API token: calls per minute, and of those, sends (message.send, …) per minute. */
  apiRateLimit: { perMinute: number; sendsPerMinute: number };
  /** tRPC: calls per batch; body bytes per request (the upload limit only for a signed-in campaign upload). */
  trpc: { maxBatchSize: number; maxBodyBytes: number; uploadMaxBodyBytes: number };
  /** PRESENCE_TTL_SECONDS in ms: a presence entry (viewing, typing) lives this long after its last heartbeat. */
  presenceTtlMs: number;
  /** DUE_SCAN_INTERVAL_SECONDS in ms: how often snoozes that fell due are looked for (default 15 s). */
  dueScanIntervalMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Live streams, shutdown and SQLite contention (docs/notes/h3.md). */
  live: LiveConfig;
  /** Outbound webhooks: PARLEY_ALLOW_HTTP_WEBHOOKS allows http:// and loopback targets (tests, local receivers). */
  webhooks: { allowLoopback: boolean };
}

export interface MediaConfig {
  /** MEDIA_DIR: where attachments are kept; undefined: a `media` folder beside the database (a temp folder for :memory:). */
  dir: string | undefined;
  /** MEDIA_MAX_BYTES: larger attachments are refused (downloads stop reading beyond it). */
  maxBytes: number;
  /** MEDIA_LINK_TTL_SECONDS: how long a signed link given to a provider for an outbound MMS works. */
  linkTtlSeconds: number;
  /** MEDIA_SIGNING_SECRET: the HMAC key of those links; undefined: generated once and kept beside the database. */
  signingSecret: string | undefined;
  /** Download attempts of an inbound attachment before it is refused, and the first retry delay (doubling). */
  fetchMaxAttempts: number;
  fetchRetryBaseMs: number;
  /** One download's time limit. */
  fetchTimeoutMs: number;
}

export interface LiveConfig {
  /** Largest WebSocket message accepted (ws closes the connection with 1009 beyond). */
  wsMaxPayloadBytes: number;
  /** Open WebSocket connections at once; further upgrades are answered 503. */
  wsMaxConnections: number;
  /** Subscriptions one connection may hold open; more are refused TOO_MANY_REQUESTS. */
  wsMaxSubscriptionsPerConnection: number;
  /** A connection without a valid credential is closed after this long. */
  wsAuthTimeoutMs: number;
  /** A connection whose unsent data exceeds this is disconnected (slow consumer). */
  wsMaxBufferedBytes: number;
  /** How long a stream waits for a slow consumer's socket to drain before disconnecting it. */
  wsSlowConsumerMs: number;
  /** How often open subscriptions re-check their credential (logout, expiry, revocation end them). */
  credentialRecheckMs: number;
  /** Events older than this many days are compacted. */
  eventsRetentionDays: number;
  /** At most this many of the newest events are kept. */
  eventsRetentionCount: number;
  eventsCompactIntervalMs: number;
  /** After SIGTERM, open streams and connections get this long before they are closed. */
  shutdownGraceMs: number;
  /** SQLite's (synchronous) busy_timeout: kept short so a held lock never freezes the process. */
  dbBusyTimeoutMs: number;
  /** How long a write that met a locked database is retried (asynchronously) before answering 503. */
  dbBusyRetryMs: number;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Reads the environment into a typed Config; throws ConfigError naming every bad or missing variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const sandbox = e.SMS_PROVIDER === 'sandbox';
  const required = (name: string, value: string | undefined, why: string) => {
    if (!value) problems.push(`${name}: ${why}`);
  };

  // Live mode: a provider is on when SMS_PROVIDER names it or its account id is given; then all its
  // variables are required. Sandbox mode: every provider is simulated, each with a fictional number.
  const vonageOn = sandbox || e.SMS_PROVIDER === 'vonage' || e.VONAGE_APPLICATION_ID !== undefined;
  const plivoOn = sandbox || e.SMS_PROVIDER === 'plivo' || e.PLIVO_AUTH_ID !== undefined;
  const sinchOn = sandbox || e.SMS_PROVIDER === 'sinch' || e.SINCH_SERVICE_PLAN_ID !== undefined;
  if (!sandbox && vonageOn) {
    const why = 'required for Vonage';
    required(
      'VONAGE_SIGNATURE_SECRET',
      e.VONAGE_SIGNATURE_SECRET,
      `${why} (Dashboard → Settings → signature secret); Parley refuses unsigned webhooks`,
    );
    required('VONAGE_APPLICATION_ID', e.VONAGE_APPLICATION_ID, why);
    required('VONAGE_PRIVATE_KEY', e.VONAGE_PRIVATE_KEY, `${why} (a path to the .key file, or the PEM itself)`);
    required('VONAGE_NUMBER', e.VONAGE_NUMBER, `${why} (the number you send from)`);
  }
  if (!sandbox && plivoOn) {
    const why = 'required for Plivo';
    required('PLIVO_AUTH_ID', e.PLIVO_AUTH_ID, `${why} (Plivo console → Account → Auth ID)`);
    required('PLIVO_AUTH_TOKEN', e.PLIVO_AUTH_TOKEN, `${why}: it authenticates sends and verifies Plivo's webhook signatures`);
    required('PLIVO_NUMBER', e.PLIVO_NUMBER, `${why} (your Plivo number)`);
    required('PUBLIC_URL', e.PUBLIC_URL, `${why}: Plivo signs the exact URL it calls, and status callbacks are addressed to it`);
  }
  if (!sandbox && sinchOn) {
    const why = 'required for Sinch';
    required('SINCH_SERVICE_PLAN_ID', e.SINCH_SERVICE_PLAN_ID, `${why} (Sinch dashboard → SMS → APIs)`);
    required('SINCH_API_TOKEN', e.SINCH_API_TOKEN, why);
    required('SINCH_NUMBER', e.SINCH_NUMBER, `${why} (your Sinch number)`);
  }

  const numbersOf = (name: string, value: string | undefined, fallback: string, on: boolean): string[] => {
    if (!on) return [];
    if (value === undefined) return [fallback];
    const out: string[] = [];
    for (const raw of value
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '')) {
      const n = normalizePhone(raw);
      if (n.ok) out.push(n.e164);
      else if (/^[A-Za-z0-9 ]{1,11}$/.test(raw) && /[A-Za-z]/.test(raw)) out.push(raw);
      else problems.push(`${name}: ${n.reason} ("${raw}"); use E.164 like ${fallback}`);
    }
    return out;
  };
  const vonageNumbers = numbersOf('VONAGE_NUMBER', e.VONAGE_NUMBER, '+447700900000', vonageOn);
  const plivoNumbers = numbersOf('PLIVO_NUMBER', e.PLIVO_NUMBER, '+14155550100', plivoOn);
  const sinchNumbers = numbersOf('SINCH_NUMBER', e.SINCH_NUMBER, '+14155550142', sinchOn);
  const all = [...vonageNumbers, ...plivoNumbers, ...sinchNumbers];
  const seen = new Set<string>();
  for (const n of all) {
    if (seen.has(n)) problems.push(`${n} is configured for more than one provider; each number belongs to one`);
    seen.add(n);
  }
  let defaultNumber: string | undefined;
  if (e.DEFAULT_NUMBER) {
    const n = normalizePhone(e.DEFAULT_NUMBER);
    defaultNumber = n.ok ? n.e164 : e.DEFAULT_NUMBER;
    if (!seen.has(defaultNumber))
      problems.push(`DEFAULT_NUMBER: ${e.DEFAULT_NUMBER} is not one of the configured numbers (${all.join(', ')})`);
  }
  if (e.ADMIN_PASSWORD && !e.ADMIN_EMAIL) problems.push('ADMIN_EMAIL: required when ADMIN_PASSWORD is set');
  if (problems.length > 0) throw new ConfigError(problems);
  const rate = (v: number) => (v > 0 ? v : undefined);

  return {
    port: e.PORT,
    host: e.HOST,
    databasePath: e.DATABASE_URL.path,
    databaseUrl: e.DATABASE_URL.pgUrl,
    pgPoolSize: e.PG_POOL_SIZE,
    leaderLeaseMs: e.LEADER_LEASE_MS,
    provider: e.SMS_PROVIDER,
    defaultNumber,
    vonage: {
      enabled: vonageOn,
      numbers: vonageNumbers,
      applicationId: e.VONAGE_APPLICATION_ID,
      privateKey: e.VONAGE_PRIVATE_KEY,
      apiKey: e.VONAGE_API_KEY,
      apiSecret: e.VONAGE_API_SECRET,
      signatureSecret: e.VONAGE_SIGNATURE_SECRET,
      number: vonageNumbers[0] ?? '+447700900000',
      apiHost: e.VONAGE_API_HOST,
    },
    plivo: {
      enabled: plivoOn,
      authId: e.PLIVO_AUTH_ID,
      authToken: e.PLIVO_AUTH_TOKEN,
      mainAuthToken: e.PLIVO_MAIN_AUTH_TOKEN,
      numbers: plivoNumbers,
      apiUrl: e.PLIVO_API_URL,
      sendRatePerSecond: rate(e.PLIVO_SEND_RATE_PER_SECOND),
      allowV2: e.PLIVO_ALLOW_V2,
    },
    sinch: {
      enabled: sinchOn,
      servicePlanId: e.SINCH_SERVICE_PLAN_ID,
      apiToken: e.SINCH_API_TOKEN,
      region: e.SINCH_REGION,
      webhookSecret: e.SINCH_WEBHOOK_SECRET,
      numbers: sinchNumbers,
      apiUrl: e.SINCH_API_URL,
      sendRatePerSecond: rate(e.SINCH_SEND_RATE_PER_SECOND),
    },
    publicUrl: e.PUBLIC_URL,
    media: {
      dir: e.MEDIA_DIR,
      maxBytes: e.MEDIA_MAX_BYTES,
      linkTtlSeconds: e.MEDIA_LINK_TTL_SECONDS,
      signingSecret: e.MEDIA_SIGNING_SECRET,
      fetchMaxAttempts: 8,
      fetchRetryBaseMs: 5_000,
      fetchTimeoutMs: 30_000,
    },
    sendRatePerSecond: e.SEND_RATE_PER_SECOND,
    webhookMaxAgeSeconds: e.WEBHOOK_MAX_AGE_SECONDS,
    webhookMaxBodyBytes: e.WEBHOOK_MAX_BODY_BYTES,
    webhookLog: {
      excerptBytes: Math.floor(e.WEBHOOK_LOG_EXCERPT_BYTES),
      perSourcePerMinute: e.WEBHOOK_LOG_PER_SOURCE_PER_MINUTE,
      maxRows: Math.floor(e.WEBHOOK_LOG_MAX_ROWS),
      maxBytes: e.WEBHOOK_LOG_MAX_BYTES,
      retentionMs: e.WEBHOOK_LOG_RETENTION_DAYS * 24 * 60 * 60 * 1000,
    },
    autoReplyWindowMs: e.AUTO_REPLY_WINDOW_SECONDS * 1000,
    healthMinFreeBytes: e.HEALTH_MIN_FREE_BYTES,
    healthProbeIntervalMs: 5000,
    adminEmail: e.ADMIN_EMAIL,
    adminPassword: e.ADMIN_PASSWORD,
    helpText: e.HELP_TEXT ?? DEFAULT_HELP_TEXT,
    suppressionSecret: e.SUPPRESSION_SECRET,
    trustProxy: e.TRUST_PROXY,
    login: { maxFailures: e.LOGIN_MAX_FAILURES, windowSeconds: e.LOGIN_WINDOW_SECONDS },
    passwordCost: PASSWORD_COST,
    passwordHash: { concurrency: e.PASSWORD_HASH_CONCURRENCY, queue: e.PASSWORD_HASH_QUEUE },
    apiRateLimit: { perMinute: e.API_RATE_LIMIT_PER_MINUTE, sendsPerMinute: e.API_SEND_RATE_LIMIT_PER_MINUTE },
    trpc: {
      maxBatchSize: e.TRPC_MAX_BATCH_SIZE,
      maxBodyBytes: e.TRPC_MAX_BODY_BYTES,
      uploadMaxBodyBytes: e.TRPC_UPLOAD_MAX_BODY_BYTES,
    },
    presenceTtlMs: Math.round(e.PRESENCE_TTL_SECONDS * 1000),
    dueScanIntervalMs: Math.round(e.DUE_SCAN_INTERVAL_SECONDS * 1000),
    logLevel: e.LOG_LEVEL,
    live: {
      wsMaxPayloadBytes: e.WS_MAX_PAYLOAD_BYTES,
      wsMaxConnections: e.WS_MAX_CONNECTIONS,
      wsMaxSubscriptionsPerConnection: e.WS_MAX_SUBSCRIPTIONS_PER_CONNECTION,
      wsAuthTimeoutMs: e.WS_AUTH_TIMEOUT_MS,
      wsMaxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
      wsSlowConsumerMs: e.WS_SLOW_CONSUMER_MS,
      credentialRecheckMs: e.CREDENTIAL_RECHECK_MS,
      eventsRetentionDays: e.EVENTS_RETENTION_DAYS,
      eventsRetentionCount: e.EVENTS_RETENTION_COUNT,
      eventsCompactIntervalMs: e.EVENTS_COMPACT_INTERVAL_MS,
      shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
      dbBusyTimeoutMs: e.DB_BUSY_TIMEOUT_MS,
      dbBusyRetryMs: e.DB_BUSY_RETRY_MS,
    },
    webhooks: { allowLoopback: e.PARLEY_ALLOW_HTTP_WEBHOOKS },
  };
}

/** Our numbers, each on its provider; the default (DEFAULT_NUMBER, else SMS_PROVIDER's first) first. */
export function configuredNumbers(config: Config): NumberDto[] {
  const sandbox = config.provider === 'sandbox';
  const list: NumberDto[] = [];
  const add = (provider: ProviderName, numbers: string[], on: boolean) => {
    if (on) for (const number of numbers) list.push({ number, provider, sandbox, isDefault: false });
  };
  const vonage = config.vonage.numbers.includes(config.vonage.number)
    ? config.vonage.numbers
    : [config.vonage.number, ...config.vonage.numbers];
  add('vonage', vonage, config.vonage.enabled);
  add('plivo', config.plivo.numbers, config.plivo.enabled);
  add('sinch', config.sinch.numbers, config.sinch.enabled);
  const preferred = list.find((n) => n.number === config.defaultNumber) ?? list.find((n) => n.provider === config.provider) ?? list[0];
  if (preferred) preferred.isDefault = true;
  return [...list].sort((a, b) => Number(b.isDefault) - Number(a.isDefault));
}

/** Messages per second each provider's outbox worker sends. */
export function sendRateOf(config: Config, provider: ProviderName): number {
  if (provider === 'plivo') return config.plivo.sendRatePerSecond ?? config.sendRatePerSecond;
  if (provider === 'sinch') return config.sinch.sendRatePerSecond ?? config.sendRatePerSecond;
  return config.sendRatePerSecond;
}

/**
 * A config for tests and benches: sandbox, temp paths supplied by the caller, quiet logs, and a cheap
 * password cost (TEST_PASSWORD_COST; a test that needs the real one passes `passwordCost`).
 */
export type ConfigOverrides = Partial<Omit<Config, 'live' | 'webhookLog' | 'media' | 'vonage' | 'plivo' | 'sinch'>> & {
  vonage?: Partial<Config['vonage']>;
  plivo?: Partial<Config['plivo']>;
  sinch?: Partial<Config['sinch']>;
  live?: Partial<LiveConfig>;
  media?: Partial<MediaConfig>;
  webhookLog?: Partial<Config['webhookLog']>;
};

/** The first admin every testConfig() server creates (tests sign in as it). */
export const TEST_ADMIN: { readonly email: string; readonly password: string } = {
  email: 'admin@parley.test',
  password: 'parley-test-password',
};

export function testConfig(overrides: ConfigOverrides & { databasePath: string }): Config {
  const base = loadConfig({
    LOG_LEVEL: 'silent',
    PORT: '0',
    ADMIN_EMAIL: TEST_ADMIN.email,
    ADMIN_PASSWORD: TEST_ADMIN.password,
  });
  return {
    ...base,
    passwordCost: TEST_PASSWORD_COST,
    ...overrides,
    vonage: { ...base.vonage, ...overrides.vonage },
    plivo: { ...base.plivo, ...overrides.plivo },
    sinch: { ...base.sinch, ...overrides.sinch },
    // Tests close servers with clients still connected: a short grace keeps them quick.
    live: { ...base.live, shutdownGraceMs: 300, ...overrides.live },
    webhookLog: { ...base.webhookLog, ...overrides.webhookLog },
    media: { ...base.media, ...overrides.media },
  };
}
