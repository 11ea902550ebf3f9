import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { inboundPayload, startTestServer, type TestServer } from '../testing/harness';
import { backupDatabase } from './backup';

const serverDir = fileURLToPath(new URL('../..', import.meta.url));
let servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers) await s.dispose();
  servers = [];
});

function messageUuids(path: string): Set<string> {
  const db = new Database(path, { readonly: true });
  try {
    return new Set((db.prepare('select provider_message_uuid as id from messages').all() as { id: string }[]).map((r) => r.id));
  } finally {
    db.close();
  }
}

describe('online backup (pnpm backup)', () => {
  it('copies a running server under webhook load: everything acknowledged before it began, a whole database, restorable', async () => {
    const parley = await startTestServer();
    servers.push(parley);
    const before = Array.from({ length: 40 }, () => inboundPayload());
    for (const p of before) expect((await parley.postWebhook('/webhooks/inbound', p)).status).toBe(200);
    // Webhooks keep arriving while the copy is made.
    const during = Array.from({ length: 60 }, () => inboundPayload());
    const load = Promise.all(during.map((p) => parley.postWebhook('/webhooks/inbound', p)));
    const dest = join(parley.dir, 'backup.db');
    const result = backupDatabase(join(parley.dir, 'parley.db'), dest);
    for (const res of await load) expect(res.status).toBe(200);

    const copied = messageUuids(dest);
    for (const p of before) expect(copied.has(p.message_uuid as string)).toBe(true);
    expect(result.counts.messages).toBe(copied.size);
    expect(result.counts.messages).toBeGreaterThanOrEqual(before.length);
    expect(readdirSync(parley.dir).filter((f) => f.includes('.partial'))).toEqual([]);

    // The copy starts as a Parley of its own, with the conversations in it.
    const restoredDir = join(parley.dir, 'restored');
    const restored = await startTestServer({ databasePath: dest }, restoredDir);
    servers.push(restored);
    const row = restored.db.$client.prepare('select count(*) as n from messages').get() as { n: number };
    expect(row.n).toBe(copied.size);
  });

  it('never overwrites, and says what is wrong', async () => {
    const parley = await startTestServer();
    servers.push(parley);
    const source = join(parley.dir, 'parley.db');
    const dest = join(parley.dir, 'copy.db');
    backupDatabase(source, dest);
    expect(() => backupDatabase(source, dest)).toThrow(/exists already/);
    expect(() => backupDatabase(join(parley.dir, 'missing.db'), join(parley.dir, 'x.db'))).toThrow(/no database at/);
    expect(() => backupDatabase(':memory:', join(parley.dir, 'y.db'))).toThrow(/in memory/);
  });

  it('runs from the command line against DATABASE_URL, resolving the file where it was run', async () => {
    const parley = await startTestServer();
    servers.push(parley);
    expect((await parley.postWebhook('/webhooks/inbound', inboundPayload())).status).toBe(200);
    const run = (args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/ops/backup-cli.ts', ...args], {
        cwd: serverDir,
        env: { PATH: process.env.PATH ?? '', DATABASE_URL: `file:${join(parley.dir, 'parley.db')}`, INIT_CWD: parley.dir },
        encoding: 'utf8',
      });
    const ok = run(['nightly.db']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/1 messages, \d+ events; integrity ok/);
    expect(existsSync(join(parley.dir, 'nightly.db'))).toBe(true);
    const again = run(['nightly.db']);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/exists already/);
    const usage = run([]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/usage: pnpm backup <file>/);
  });
});
