import { describe, expect, it } from 'vitest';
import { ConfigError, configuredNumbers, loadConfig, sendRateOf } from './config';

const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('loadConfig', () => {
  it('gives the embedded defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000,
      databasePath: './data/parley.db',
      provider: 'sandbox',
      sendRatePerSecond: 30,
      webhookMaxAgeSeconds: 90_000,
      logLevel: 'info',
    });
    expect(c.vonage.number).toBe('+447700900000');
  });

  it('bounds the refusal log, rations auto-replies and leaves Plivo V2-only off unless told (defaults and overrides)', () => {
    const d = loadConfig({});
    expect(d.webhookLog).toEqual({
      excerptBytes: 2048,
      perSourcePerMinute: 60,
      maxRows: 10_000,
      maxBytes: 64 * 1024 * 1024,
      retentionMs: 30 * 86_400_000,
    });
    expect([d.autoReplyWindowMs, d.healthMinFreeBytes, d.plivo.allowV2]).toEqual([600_000, 64 * 1024 * 1024, false]);
    const c = loadConfig({
      WEBHOOK_LOG_EXCERPT_BYTES: '512',
      WEBHOOK_LOG_PER_SOURCE_PER_MINUTE: '5',
      WEBHOOK_LOG_MAX_ROWS: '100',
      WEBHOOK_LOG_MAX_BYTES: '1000000',
      WEBHOOK_LOG_RETENTION_DAYS: '7',
      AUTO_REPLY_WINDOW_SECONDS: '60',
      HEALTH_MIN_FREE_BYTES: '1',
      PLIVO_ALLOW_V2: 'true',
    });
    expect(c.webhookLog).toEqual({
      excerptBytes: 512,
      perSourcePerMinute: 5,
      maxRows: 100,
      maxBytes: 1_000_000,
      retentionMs: 7 * 86_400_000,
    });
    expect([c.autoReplyWindowMs, c.healthMinFreeBytes, c.plivo.allowV2]).toEqual([60_000, 1, true]);
    expect(problemsOf({ PLIVO_ALLOW_V2: 'maybe', WEBHOOK_LOG_MAX_ROWS: '-1' }).map((p) => p.split(':')[0])).toEqual([
      'WEBHOOK_LOG_MAX_ROWS',
      'PLIVO_ALLOW_V2',
    ]);
  });

  it('normalises VONAGE_NUMBER to E.164 and keeps an alphanumeric sender id', () => {
    expect(loadConfig({ VONAGE_NUMBER: '447700900123' }).vonage.number).toBe('+447700900123');
    expect(loadConfig({ VONAGE_NUMBER: 'Parley' }).vonage.number).toBe('Parley');
  });

  it('names every bad variable with a reason', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      SEND_RATE_PER_SECOND: '-1',
      SMS_PROVIDER: 'twilio',
      DATABASE_URL: 'mysql://root:hunter2@db/parley',
      LOG_LEVEL: 'loud',
    });
    expect(problems.join('\n')).toMatch(/PORT: must be a port number/);
    expect(problems.join('\n')).toMatch(/SEND_RATE_PER_SECOND: must be a positive number/);
    expect(problems.join('\n')).toMatch(/SMS_PROVIDER/);
    expect(problems.join('\n')).toMatch(/DATABASE_URL: must be a SQLite URL like file:.* or a PostgreSQL URL/);
    expect(problems.join('\n')).not.toContain('hunter2');
    expect(problems.join('\n')).toMatch(/LOG_LEVEL/);
  });

  it('refuses SMS_PROVIDER=vonage without a signature secret, application, key and number', () => {
    const problems = problemsOf({ SMS_PROVIDER: 'vonage' });
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'VONAGE_SIGNATURE_SECRET',
      'VONAGE_APPLICATION_ID',
      'VONAGE_PRIVATE_KEY',
      'VONAGE_NUMBER',
    ]);
  });

  it('accepts :memory: and file: URLs', () => {
    expect(loadConfig({ DATABASE_URL: ':memory:' }).databasePath).toBe(':memory:');
    expect(loadConfig({ DATABASE_URL: 'file:/tmp/p.db' }).databasePath).toBe('/tmp/p.db');
    expect(loadConfig({ DATABASE_URL: 'file:/tmp/p.db' }).databaseUrl).toBeUndefined();
    const onPg = loadConfig({ DATABASE_URL: 'postgres://parley:secret@127.0.0.1:5432/parley' });
    expect(onPg.databaseUrl).toBe('postgres://parley:secret@127.0.0.1:5432/parley');
    expect(onPg.databasePath).toBe('');
    expect(loadConfig({ DATABASE_URL: 'postgresql://h/parley' }).databaseUrl).toBe('postgresql://h/parley');
  });

  it('sandbox mode simulates every provider, each with a fictional number, Vonage the default', () => {
    const c = loadConfig({});
    expect(configuredNumbers(c)).toEqual([
      { number: '+447700900000', provider: 'vonage', sandbox: true, isDefault: true },
      { number: '+14155550100', provider: 'plivo', sandbox: true, isDefault: false },
      { number: '+14155550142', provider: 'sinch', sandbox: true, isDefault: false },
    ]);
  });

  it('takes several numbers per provider and a DEFAULT_NUMBER that must be one of them', () => {
    const c = loadConfig({ PLIVO_NUMBER: '14155550100, +1 415 555 0101', DEFAULT_NUMBER: '+14155550101' });
    const numbers = configuredNumbers(c);
    expect(numbers[0]).toEqual({ number: '+14155550101', provider: 'plivo', sandbox: true, isDefault: true });
    expect(
      numbers
        .filter((n) => n.provider === 'plivo')
        .map((n) => n.number)
        .sort(),
    ).toEqual(['+14155550100', '+14155550101']);
    expect(problemsOf({ DEFAULT_NUMBER: '+15550000000' }).join('\n')).toMatch(
      /DEFAULT_NUMBER: \+15550000000 is not one of the configured numbers/,
    );
    expect(problemsOf({ PLIVO_NUMBER: '+447700900000' }).join('\n')).toMatch(/\+447700900000 is configured for more than one provider/);
  });

  it('live Plivo or Sinch alone needs only their own variables, and names each missing one', () => {
    expect(problemsOf({ SMS_PROVIDER: 'plivo' }).map((p) => p.split(':')[0])).toEqual([
      'PLIVO_AUTH_ID',
      'PLIVO_AUTH_TOKEN',
      'PLIVO_NUMBER',
      'PUBLIC_URL',
    ]);
    expect(problemsOf({ SMS_PROVIDER: 'sinch' }).map((p) => p.split(':')[0])).toEqual([
      'SINCH_SERVICE_PLAN_ID',
      'SINCH_API_TOKEN',
      'SINCH_NUMBER',
    ]);
    expect(problemsOf({ SMS_PROVIDER: 'sinch', SINCH_REGION: 'mars' }).join('\n')).toMatch(
      /SINCH_REGION: must be one of us, eu, au, br, ca/,
    );
    const c = loadConfig({
      SMS_PROVIDER: 'sinch',
      SINCH_SERVICE_PLAN_ID: 'plan',
      SINCH_API_TOKEN: 'token',
      SINCH_NUMBER: '+14155550142',
      PLIVO_AUTH_ID: 'MA123',
      PLIVO_AUTH_TOKEN: 'secret',
      PLIVO_NUMBER: '+14155550100',
      PUBLIC_URL: 'https://parley.example.com',
      SEND_RATE_PER_SECOND: '20',
      PLIVO_SEND_RATE_PER_SECOND: '5',
    });
    expect(configuredNumbers(c)).toEqual([
      { number: '+14155550142', provider: 'sinch', sandbox: false, isDefault: true },
      { number: '+14155550100', provider: 'plivo', sandbox: false, isDefault: false },
    ]);
    expect(c.vonage.enabled).toBe(false);
    expect([sendRateOf(c, 'plivo'), sendRateOf(c, 'sinch')]).toEqual([5, 20]);
  });
});
