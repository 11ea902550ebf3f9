import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SettingsDto } from '@parley/shared';
import { startTestServer, type TestServer } from '../testing/harness';
import { trpcCall, type TrpcReply } from '../testing/trpc-http';
import { TEST_ADMIN } from '../config';
import { raw } from '../testing/raw';

/** settings.get / settings.update over real HTTP: defaults, admin only, validated, stored, an event. */
const ADMIN = TEST_ADMIN;

let s: TestServer | undefined;
const dir = mkdtempSync(join(tmpdir(), 'parley-settings-'));
afterEach(async () => {
  await s?.dispose();
  s = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function call(path: string, input: unknown, cookie: string, method: 'GET' | 'POST' = 'POST'): Promise<TrpcReply> {
  if (!s) throw new Error('no server');
  return trpcCall(s.url, path, input, cookie, method);
}

async function signIn(email: string, password: string): Promise<string> {
  const r = await call('auth.login', { email, password }, '');
  expect(r.status).toBe(200);
  if (!r.cookie) throw new Error('no cookie');
  return r.cookie;
}

describe('workspace settings', () => {
  it('start at the defaults, change only for admins, validate, persist across a restart and are an event', async () => {
    s = await startTestServer({}, dir);
    const admin = await signIn(ADMIN.email, ADMIN.password);
    const invite = await call('agent.invite', { email: 'ann@parley.test', name: 'Ann', role: 'agent' }, admin);
    const token = new URL((invite.body.result?.data as { inviteUrl: string }).inviteUrl).hash.replace('#token=', '');
    const accepted = await call('auth.acceptInvite', { token, password: 'ann-password-1' }, '');
    expect(accepted.status).toBe(200);
    const ann = accepted.cookie ?? '';

    const initial = await call('settings.get', undefined, ann, 'GET');
    expect(initial.body.result?.data).toMatchObject({
      autoAssign: 'off',
      quietHours: { start: '08:00', end: '21:00' },
      retentionDays: null,
      helpText: null,
      updatedAt: null,
    });

    // An agent may read, not change.
    const forbidden = await call('settings.update', { autoAssign: 'round-robin' }, ann);
    expect(forbidden.status).toBe(403);

    const bad = await call('settings.update', { quietHours: { start: '8am', end: '21:00' } }, admin);
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toMatch(/24-hour time/);
    const empty = await call('settings.update', {}, admin);
    expect(empty.status).toBe(400);

    const before = await s.events.lastId();
    const changed = await call('settings.update', { autoAssign: 'round-robin', maxOpenPerAgent: 5, retentionDays: 90 }, admin);
    expect(changed.status).toBe(200);
    const dto = changed.body.result?.data as SettingsDto;
    expect(dto).toMatchObject({
      autoAssign: 'round-robin',
      maxOpenPerAgent: 5,
      retentionDays: 90,
      quietHours: { start: '08:00', end: '21:00' },
    });
    expect(dto.updatedBy).toBe(1);
    const events = (await raw(s.db).all('select type, payload from events where id > ?', before)) as { type: string; payload: string }[];
    expect(events.map((e) => e.type)).toEqual(['settings.updated']);
    expect((JSON.parse(events[0]?.payload ?? '{}') as { settings: SettingsDto }).settings.maxOpenPerAgent).toBe(5);

    // A second change keeps the first one's fields.
    await call('settings.update', { quietHours: null }, admin);
    await s.dispose();
    s = await startTestServer({}, dir);
    const reread = await call('settings.get', undefined, await signIn(ADMIN.email, ADMIN.password), 'GET');
    expect(reread.body.result?.data).toMatchObject({ autoAssign: 'round-robin', maxOpenPerAgent: 5, retentionDays: 90, quietHours: null });
  });
});
