import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';

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

  it('normalises VONAGE_NUMBER to E.164 and keeps an alphanumeric sender id', () => {
    expect(loadConfig({ VONAGE_NUMBER: '447700900123' }).vonage.number).toBe('+447700900123');
    expect(loadConfig({ VONAGE_NUMBER: 'Parley' }).vonage.number).toBe('Parley');
  });

  it('names every bad variable with a reason', () => {
    const problems = problemsOf({ PORT: 'eighty', SEND_RATE_PER_SECOND: '-1', SMS_PROVIDER: 'twilio', DATABASE_URL: 'postgres://x', LOG_LEVEL: 'loud' });
    expect(problems.join('\n')).toMatch(/PORT: must be a port number/);
    expect(problems.join('\n')).toMatch(/SEND_RATE_PER_SECOND: must be a positive number/);
    expect(problems.join('\n')).toMatch(/SMS_PROVIDER/);
    expect(problems.join('\n')).toMatch(/DATABASE_URL: must be a SQLite URL/);
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
  });
});
