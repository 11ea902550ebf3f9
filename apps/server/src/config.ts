import { z } from 'zod';
import { normalizePhone } from '@parley/shared';
import { DEFAULT_HELP_TEXT } from './domain/keywords';

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
    if (url === ':memory:' || url === 'file::memory:') return ':memory:';
    if (!url.startsWith('file:')) {
      ctx.addIssue({ code: 'custom', message: `must be a SQLite URL like file:./data/parley.db, got "${url}"` });
      return z.NEVER;
    }
    return url.slice('file:'.length);
  }),
  SMS_PROVIDER: optionalString.pipe(z.enum(['sandbox', 'vonage']).optional()).transform((v) => v ?? 'sandbox'),
  VONAGE_APPLICATION_ID: optionalString,
  VONAGE_PRIVATE_KEY: optionalString,
  VONAGE_API_KEY: optionalString,
  VONAGE_API_SECRET: optionalString,
  VONAGE_SIGNATURE_SECRET: optionalString,
  VONAGE_NUMBER: optionalString,
  VONAGE_API_HOST: optionalString.pipe(z.url({ message: 'must be a URL like https://api.nexmo.com' }).optional()),
  PUBLIC_URL: optionalString.pipe(z.url({ message: 'must be a URL like https://parley.example.com' }).optional()),
  SEND_RATE_PER_SECOND: positiveNumber(30),
  WEBHOOK_MAX_AGE_SECONDS: positiveNumber(90_000),
  WEBHOOK_MAX_BODY_BYTES: positiveNumber(64 * 1024),
  ADMIN_EMAIL: optionalString.pipe(z.email({ message: 'must be an email address' }).optional()),
  ADMIN_PASSWORD: optionalString.pipe(z.string().min(8, 'must be at least 8 characters').optional()),
  HELP_TEXT: optionalString,
  LOG_LEVEL: optionalString
    .pipe(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional())
    .transform((v) => v ?? 'info'),
});

export interface Config {
  port: number;
  host: string | undefined;
  /** SQLite file path, or ':memory:'. */
  databasePath: string;
  provider: 'sandbox' | 'vonage';
  vonage: {
    applicationId: string | undefined;
    privateKey: string | undefined;
    apiKey: string | undefined;
    apiSecret: string | undefined;
    /** undefined in sandbox mode until the server generates one beside the database. */
    signatureSecret: string | undefined;
    number: string;
    apiHost: string | undefined;
  };
  publicUrl: string | undefined;
  sendRatePerSecond: number;
  webhookMaxAgeSeconds: number;
  webhookMaxBodyBytes: number;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  helpText: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
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
  if (e.SMS_PROVIDER === 'vonage') {
    if (!e.VONAGE_SIGNATURE_SECRET)
      problems.push(
        'VONAGE_SIGNATURE_SECRET: required with SMS_PROVIDER=vonage (Dashboard → Settings → signature secret); Parley refuses unsigned webhooks',
      );
    if (!e.VONAGE_APPLICATION_ID) problems.push('VONAGE_APPLICATION_ID: required with SMS_PROVIDER=vonage');
    if (!e.VONAGE_PRIVATE_KEY)
      problems.push('VONAGE_PRIVATE_KEY: required with SMS_PROVIDER=vonage (a path to the .key file, or the PEM itself)');
    if (!e.VONAGE_NUMBER) problems.push('VONAGE_NUMBER: required with SMS_PROVIDER=vonage (the number you send from)');
  }
  let number = '+447700900000';
  if (e.VONAGE_NUMBER) {
    const n = normalizePhone(e.VONAGE_NUMBER);
    if (n.ok) number = n.e164;
    else if (/^[A-Za-z0-9 ]{1,11}$/.test(e.VONAGE_NUMBER) && /[A-Za-z]/.test(e.VONAGE_NUMBER)) number = e.VONAGE_NUMBER;
    else problems.push(`VONAGE_NUMBER: ${n.reason} ("${e.VONAGE_NUMBER}"); use E.164 like +447700900000`);
  }
  if (e.ADMIN_PASSWORD && !e.ADMIN_EMAIL) problems.push('ADMIN_EMAIL: required when ADMIN_PASSWORD is set');
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    port: e.PORT,
    host: e.HOST,
    databasePath: e.DATABASE_URL,
    provider: e.SMS_PROVIDER,
    vonage: {
      applicationId: e.VONAGE_APPLICATION_ID,
      privateKey: e.VONAGE_PRIVATE_KEY,
      apiKey: e.VONAGE_API_KEY,
      apiSecret: e.VONAGE_API_SECRET,
      signatureSecret: e.VONAGE_SIGNATURE_SECRET,
      number,
      apiHost: e.VONAGE_API_HOST,
    },
    publicUrl: e.PUBLIC_URL,
    sendRatePerSecond: e.SEND_RATE_PER_SECOND,
    webhookMaxAgeSeconds: e.WEBHOOK_MAX_AGE_SECONDS,
    webhookMaxBodyBytes: e.WEBHOOK_MAX_BODY_BYTES,
    adminEmail: e.ADMIN_EMAIL,
    adminPassword: e.ADMIN_PASSWORD,
    helpText: e.HELP_TEXT ?? DEFAULT_HELP_TEXT,
    logLevel: e.LOG_LEVEL,
  };
}

/** A config for tests and benches: sandbox, temp paths supplied by the caller, quiet logs. */
export function testConfig(overrides: Partial<Config> & { databasePath: string }): Config {
  const base = loadConfig({
    LOG_LEVEL: 'silent',
    PORT: '0',
    ADMIN_EMAIL: 'admin@parley.test',
    ADMIN_PASSWORD: 'parley-test-password',
  });
  return { ...base, ...overrides, vonage: { ...base.vonage, ...overrides.vonage } };
}
