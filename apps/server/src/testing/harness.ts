import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testConfig, type Config, type ConfigOverrides } from '../config';
import { createServer, type ParleyServer, type ServerOptions } from '../server';
import { signVonageWebhook } from '../providers/vonage/sign';
import { SqliteStore } from '../db/sqlite-store';
import { TEST_DB } from './temp-db';
import { createMigratedTestPgDatabase, type TestPgDatabase } from './pg';

const pgDatabases = new Map<string, Promise<TestPgDatabase>>();

function pgDatabaseOf(dir: string): Promise<TestPgDatabase> {
  let database = pgDatabases.get(dir);
  if (!database) {
    database = createMigratedTestPgDatabase();
    pgDatabases.set(dir, database);
  }
  return database;
}

/** Drops the PostgreSQL database of a test directory (a test that passed its own `dir` calls it when done with it). */
export async function dropPgDatabaseOf(dir: string): Promise<void> {
  const database = pgDatabases.get(dir);
  if (!database) return;
  pgDatabases.delete(dir);
  await (await database).dispose();
}

export interface TestServer extends ParleyServer {
  dir: string;
  /** POST a body to a webhook path, signed with the server's secret unless `authorization` is given (null: none). */
  postWebhook(
    path: '/webhooks/inbound' | '/webhooks/status',
    body: unknown,
    opts?: { authorization?: string | null; contentType?: string; raw?: string },
  ): Promise<Response>;
  dispose(): Promise<void>;
}

/** A real Parley on port 0 with a temp database directory; `dispose()` closes it and removes the files. */
export async function startTestServer(overrides: ConfigOverrides = {}, dir?: string, options: ServerOptions = {}): Promise<TestServer> {
  const ownDir = dir ?? mkdtempSync(join(tmpdir(), 'parley-test-'));
  // PostgreSQL (TEST_DB): one database per directory, so a test restarting a server on `dir` finds its data again.
  const database = TEST_DB === 'pg' ? await pgDatabaseOf(ownDir) : undefined;
  const server = await createServer(
    testConfig({
      databasePath: join(ownDir, 'parley.db'),
      // PARLEY_TEST_LOG_LEVEL=error shows what a failing test's server logged.
      ...(process.env.PARLEY_TEST_LOG_LEVEL ? { logLevel: process.env.PARLEY_TEST_LOG_LEVEL as Config['logLevel'] } : {}),
      ...(database ? { databaseUrl: database.url, media: { dir: join(ownDir, 'media') } } : {}),
      ...overrides,
    }),
    options,
  );
  // The background jobs' first passes (recovery, due scans) run right after the start: let them commit.
  if (server.db.$store instanceof SqliteStore) await server.db.$store.quiesce();
  return {
    ...server,
    dir: ownDir,
    async postWebhook(path, body, opts = {}) {
      const raw = opts.raw ?? JSON.stringify(body);
      const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/json' };
      const authorization = opts.authorization === undefined ? await signVonageWebhook(raw, server.signatureSecret) : opts.authorization;
      if (authorization !== null) headers.authorization = authorization;
      return fetch(`${server.url}${path}`, { method: 'POST', headers, body: raw });
    },
    async dispose() {
      await server.close();
      if (!dir) {
        rmSync(ownDir, { recursive: true, force: true });
        await dropPgDatabaseOf(ownDir);
      }
    },
  };
}

let seq = 0;
/** A Vonage inbound payload (the shape of test/fixtures/vonage/examples/inbound-sms.json) with a fresh uuid. */
export function inboundPayload(over: Record<string, unknown> = {}): Record<string, unknown> {
  seq += 1;
  return {
    channel: 'sms',
    message_uuid: `00000000-0000-4000-8000-${String(Date.now() % 1e6).padStart(6, '0')}${String(seq).padStart(6, '0')}`,
    to: '447700900000',
    from: '447700900001',
    timestamp: new Date().toISOString(),
    message_type: 'text',
    text: 'Hello From Vonage!',
    sms: { num_messages: '1', keyword: 'HELLO' },
    usage: { currency: 'EUR', price: '0.0333' },
    origin: { network_code: '12345' },
    ...over,
  };
}

/** A Vonage status payload (test/fixtures/vonage/examples/status-*.json shape). */
export function statusPayload(over: Record<string, unknown> & { message_uuid: string; status: string }): Record<string, unknown> {
  return {
    to: '447700900001',
    from: '447700900000',
    timestamp: new Date().toISOString(),
    channel: 'sms',
    ...over,
  };
}
