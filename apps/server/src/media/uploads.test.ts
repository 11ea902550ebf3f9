/**
 * Uploads are bounded: a credential's uploads count against its calls per minute, an agent holds at
 * most PENDING_UPLOADS_MAX unsent uploads (also when they arrive side by side), and an upload never
 * attached is removed, row and file, a day after it was made (a restart catches up at once).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_ADMIN, type ConfigOverrides } from '../config';
import { media } from '../db/tables';
import { PENDING_UPLOADS_MAX, removeStaleUploads, UPLOAD_TTL_MS } from '../domain/uploads';
import { startTestServer, type TestServer } from '../testing/harness';
import type { ServerOptions } from '../server';
import { samplePicture } from './sample';

const PNG = samplePicture(20, 20);
let servers: TestServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of servers) await s.dispose();
  servers = [];
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(over: ConfigOverrides = {}, dir?: string, options: ServerOptions = {}): Promise<TestServer> {
  const s = await startTestServer(over, dir, options);
  servers.push(s);
  return s;
}

async function signIn(s: TestServer): Promise<string> {
  const login = await fetch(`${s.url}/trpc/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(TEST_ADMIN),
  });
  expect(login.status).toBe(200);
  return login.headers.get('set-cookie')?.split(';')[0] ?? '';
}

function upload(s: TestServer, cookie: string): Promise<Response> {
  const fd = new FormData();
  fd.append('file', new Blob([PNG], { type: 'image/png' }), 'photo.png');
  return fetch(`${s.url}/media`, { method: 'POST', headers: { cookie }, body: fd });
}

describe('POST /media limits', () => {
  it(`holds an agent to ${PENDING_UPLOADS_MAX} unsent uploads, also when they arrive side by side`, async () => {
    const s = await start({ apiRateLimit: { perMinute: 1000, sendsPerMinute: 1000 } });
    const cookie = await signIn(s);
    const answers = await Promise.all(Array.from({ length: PENDING_UPLOADS_MAX + 10 }, () => upload(s, cookie)));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((x) => x === 201)).toHaveLength(PENDING_UPLOADS_MAX);
    expect(statuses.filter((x) => x === 429)).toHaveLength(10);
    const refused = answers.find((r) => r.status === 429);
    expect(await refused?.json()).toMatchObject({
      code: 'TOO_MANY_UPLOADS',
      error: expect.stringMatching(/uploaded but not sent/) as string,
    });
    // Every refused upload's file was removed again: only the accepted ones are in the store.
    const rows = await s.db.select().from(media);
    expect(rows).toHaveLength(PENDING_UPLOADS_MAX);
    for (const row of rows) expect(existsSync(s.media.store.pathOf(row.storageKey ?? '') ?? '')).toBe(true);
  });

  it("counts uploads against the credential's calls per minute (429 with Retry-After, before the body is read)", async () => {
    const s = await start({ apiRateLimit: { perMinute: 3, sendsPerMinute: 100 } });
    const cookie = await signIn(s);
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await upload(s, cookie));
    expect(answers.map((r) => r.status)).toEqual([201, 201, 201, 429, 429]);
    expect(answers[3]?.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await answers[3]?.json()).toMatchObject({
      code: 'RATE_LIMITED',
      error: expect.stringMatching(/^Rate limit: 3 calls per minute/) as string,
    });
  });

  it('removes an upload never attached a day after it was made, row and file (a restart catches up at once)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-uploads-'));
    dirs.push(dir);
    const first = await start({}, dir);
    const cookie = await signIn(first);
    const res = await upload(first, cookie);
    expect(res.status).toBe(201);
    const row = (await first.db.select().from(media))[0];
    const file = first.media.store.pathOf(row?.storageKey ?? '') ?? '';
    expect(file).not.toBe('');
    expect(existsSync(file)).toBe(true);
    await first.dispose();
    servers = [];

    // An hour short of a day: kept.
    const early = await start({}, dir, { now: () => Date.now() + UPLOAD_TTL_MS - 3_600_000 });
    expect(await removeStaleUploads(early.db, Date.now() + UPLOAD_TTL_MS - 3_600_000)).toEqual([]);
    expect(await early.db.select().from(media)).toHaveLength(1);
    await early.dispose();
    servers = [];

    const later = await start({}, dir, { now: () => Date.now() + UPLOAD_TTL_MS + 60_000 });
    await expect.poll(async () => (await later.db.select().from(media)).length).toBe(0);
    await expect.poll(() => existsSync(file)).toBe(false);
  });
});
