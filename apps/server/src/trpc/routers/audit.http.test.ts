/** The audit log over real HTTP: every admin action leaves one entry, admins read and export it, nobody can change it. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntryDto } from '@parley/shared';
import { TEST_PASSWORD_COST, hashPassword } from '../../auth/password';
import { insertAgent } from '../../domain/agents';
import { updateSettings } from '../../domain/settings';
import { startTestServer, type TestServer } from '../../testing/harness';
import { trpcCall, type TrpcReply } from '../../testing/trpc-http';
import { appRouter } from '../root';
import { TEST_ADMIN } from '../../config';

const ADMIN = TEST_ADMIN;
const AGENT = { email: 'agent@parley.test', password: 'agent-password-123' };

let s: TestServer;
let admin = '';
let agent = '';
beforeEach(async () => {
  s = await startTestServer();
  // Not a quiet-hours test: sends must not depend on the hour the suite runs at.
  await updateSettings({ log: s.events, agentId: null, patch: { quietHours: null } });
  await insertAgent(s.db, {
    email: AGENT.email,
    name: 'Agent',
    passwordHash: await hashPassword(AGENT.password, TEST_PASSWORD_COST),
    role: 'agent',
  });
  admin = (await trpcCall(s.url, 'auth.login', ADMIN, '')).cookie ?? '';
  agent = (await trpcCall(s.url, 'auth.login', AGENT, '')).cookie ?? '';
});
afterEach(() => s.dispose());

async function ok<T>(reply: Promise<TrpcReply>): Promise<T> {
  const r = await reply;
  expect(r.status, r.body.error?.message).toBe(200);
  return r.body.result?.data as T;
}
const post = <T>(path: string, input: unknown, cookie = admin) => ok<T>(trpcCall(s.url, path, input, cookie));
const get = <T>(path: string, input: unknown, cookie = admin) => ok<T>(trpcCall(s.url, path, input, cookie, 'GET'));

async function allEntries(action?: string): Promise<AuditEntryDto[]> {
  const out: AuditEntryDto[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: AuditEntryDto[]; nextCursor: string | null } = await get('audit.list', { cursor, action, limit: 3 });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

describe('audit log', () => {
  it('records every admin action with who, what and the facts — inside the action — and lists them newest first', async () => {
    const invited = await post<{ agent: { id: number } }>('agent.invite', { email: 'new@parley.test', name: 'New', role: 'agent' });
    const id = invited.agent.id;
    await post('agent.update', { id, role: 'admin' });
    await post('agent.update', { id, name: 'Renamed' }); // a rename alone is not audited
    await post('agent.setDisabled', { id, disabled: true });
    await post('agent.setDisabled', { id, disabled: false });
    const token = await post<{ id: number; token: string }>('apiToken.create', { name: 'ops', scopes: ['read'] });
    await post('apiToken.revoke', { id: token.id });
    await post('settings.update', {
      retentionDays: 90,
      helpText: 'Acme support: 0800 000. Msg & data rates may apply. Reply STOP to stop.',
    });
    // 300 recipients at the sandbox's 30/s: still running through pause, resume and cancel.
    const recipients = Array.from({ length: 300 }, (_, i) => `+4477009${String(20_000 + i)}`);
    const campaign = await post<{ id: number }>('campaign.create', { name: 'Spring', text: 'Hi', recipients });
    await post('campaign.pause', { id: campaign.id });
    await post('campaign.pause', { id: campaign.id }); // no change: no entry
    await post('campaign.resume', { id: campaign.id });
    await post('campaign.cancel', { id: campaign.id });

    const entries = await allEntries();
    expect(entries.map((e) => e.action)).toEqual([
      'campaign.cancelled',
      'campaign.resumed',
      'campaign.paused',
      'campaign.created',
      'settings.updated',
      'token.revoked',
      'token.created',
      'agent.enabled',
      'agent.disabled',
      'agent.role_changed',
      'agent.invited',
    ]);
    const ids = entries.map((e) => e.id);
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
    for (const e of entries) expect(e).toMatchObject({ agentName: 'Admin', via: 'session' });
    const by = (action: string) => entries.find((e) => e.action === action);
    expect(by('agent.invited')).toMatchObject({
      targetType: 'agent',
      targetId: String(id),
      detail: { email: 'new@parley.test', role: 'agent' },
    });
    expect(by('agent.role_changed')?.detail).toEqual({ from: 'agent', to: 'admin' });
    expect(by('token.created')).toMatchObject({
      targetType: 'api_token',
      targetId: String(token.id),
      detail: { name: 'ops', scopes: ['read'] },
    });
    // Settings: which fields changed; the HELP text is named, not copied.
    expect(by('settings.updated')?.detail).toEqual({ fields: ['retentionDays', 'helpText'], values: { retentionDays: 90 } });
    expect(by('campaign.created')).toMatchObject({
      targetType: 'campaign',
      targetId: String(campaign.id),
      detail: { name: 'Spring', recipients: 300 },
    });
    // The token itself is never written anywhere in the log.
    expect(JSON.stringify(entries)).not.toContain(token.token);

    // Filtered by action; a refused action leaves nothing.
    expect((await allEntries('campaign.paused')).map((e) => e.action)).toEqual(['campaign.paused']);
    const refused = await trpcCall(s.url, 'agent.setDisabled', { id: 1, disabled: true }, admin); // disabling yourself
    expect(refused.status).toBe(400);
    expect(await allEntries('agent.disabled')).toHaveLength(1);
  });

  it('a token call is recorded as via token', async () => {
    const { token } = await post<{ token: string }>('apiToken.create', { name: 'admin script', scopes: ['read', 'send', 'admin'] });
    const res = await fetch(`${s.url}/trpc/settings.update`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ quietHours: { start: '09:00', end: '20:00' } }),
    });
    expect(res.status).toBe(200);
    expect((await allEntries('settings.updated'))[0]).toMatchObject({
      via: 'token',
      agentName: 'Admin',
      detail: { fields: ['quietHours'], values: { quietHours: { start: '09:00', end: '20:00' } } },
    });
  });

  it('exports CSV (itself recorded), refuses agents, and offers no way to change an entry', async () => {
    await post('settings.update', { retentionDays: 30 });
    const file = await post<{ filename: string; csv: string; count: number }>('audit.export', {});
    expect(file.count).toBe(1);
    const lines = file.csv.trim().split('\n');
    expect(lines[0]).toBe('id,at,agent_id,agent_name,via,action,target_type,target_id,detail');
    expect(lines[1]).toContain(',settings.updated,');
    expect(file.filename).toMatch(/^parley-audit-all-\d{4}-\d{2}-\d{2}\.csv$/);
    expect((await allEntries())[0]).toMatchObject({ action: 'audit.exported', detail: { action: null, rows: 1 } });

    for (const [path, method] of [
      ['audit.list', 'GET'],
      ['audit.export', 'POST'],
    ] as const) {
      const r = await trpcCall(s.url, path, {}, agent, method);
      expect(r.status).toBe(403);
    }
    expect((await trpcCall(s.url, 'audit.list', {}, '', 'GET')).status).toBe(401);

    // The router has only the two read paths; anything else is 404.
    const procedures = Object.keys(appRouter._def.procedures).filter((p) => p.startsWith('audit.'));
    expect(procedures.sort()).toEqual(['audit.export', 'audit.list']);
    for (const path of ['audit.update', 'audit.delete', 'audit.remove', 'audit.clear']) {
      expect((await trpcCall(s.url, path, { id: 1 }, admin)).status).toBe(404);
    }
  });
});
