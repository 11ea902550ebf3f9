/**
 * Quiet hours end to end over real HTTP (sandbox provider, injected clock): a campaign sent when it
 * is 23:00 in New York holds its +1 212 recipients and sends its +44 ones; a scheduled send waits
 * the same way, a scheduled reply to a contact who just wrote does not; a restart (a new server on
 * the same database) keeps the holds and sends them when the window opens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CampaignCreatedDto, CampaignDto, CampaignRecipientDto, MessageDto } from '@parley/shared';
import { createApiToken } from '../auth/tokens';
import { auditLog } from '../db/tables';
import { insertAgent } from './agents';
import { inboundPayload, startTestServer, type TestServer } from '../testing/harness';
import { trpcCall } from '../testing/trpc-http';
import { TEST_ADMIN } from '../config';

const ADMIN = TEST_ADMIN;
const NY = ['+12125550101', '+12125550102', '+12125550103'];
const UK = ['+447700900101', '+447700900102', '+447700900103'];
/**
 * 23:00 in New York is 03:00–05:00 in London (their DST weeks differ), outside the default
 * 08:00–21:00 there too; this window opens at 02:00, so London is open and New York is not.
 */
const WINDOW = { start: '02:00', end: '22:00' };

let servers: TestServer[] = [];
let dir = '';
afterEach(async () => {
  for (const s of servers.splice(0)) await s.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

/** The next instant after real now that is 23:00 in New York (within a day: inbound texts stored at real time stay "recent"). */
function next2300NewYork(): number {
  const now = DateTime.now().setZone('America/New_York');
  let at = now.set({ hour: 23, minute: 0, second: 0, millisecond: 0 });
  if (at <= now) at = at.plus({ days: 1 });
  return at.toMillis();
}

async function start(clock: {
  now: number;
}): Promise<{ s: TestServer; call: (path: string, input?: unknown, method?: 'GET' | 'POST') => Promise<unknown>; cookie: string }> {
  const s = await startTestServer({ dueScanIntervalMs: 50 }, dir, { now: () => clock.now });
  servers.push(s);
  const login = await trpcCall(s.url, 'auth.login', ADMIN, '');
  const cookie = login.cookie ?? '';
  const call = async (path: string, input?: unknown, method: 'GET' | 'POST' = 'POST') => {
    const r = await trpcCall(s.url, path, input, cookie, method);
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.body.error?.message ?? ''}`);
    return r.body.result?.data;
  };
  return { s, call, cookie };
}

async function recipients(
  call: (p: string, i?: unknown, m?: 'GET' | 'POST') => Promise<unknown>,
  id: number,
): Promise<Map<string, CampaignRecipientDto>> {
  const page = (await call('campaign.recipients', { id, limit: 100 }, 'GET')) as { items: CampaignRecipientDto[] };
  return new Map(page.items.map((r) => [r.phone ?? r.input, r]));
}

async function messageOf(call: (p: string, i?: unknown, m?: 'GET' | 'POST') => Promise<unknown>, m: MessageDto): Promise<MessageDto> {
  const page = (await call('conversation.messages', { conversationId: m.conversationId }, 'GET')) as { items: MessageDto[] };
  const found = page.items.find((x) => x.id === m.id);
  if (!found) throw new Error(`message ${m.id} not in its thread`);
  return found;
}

const WAIT = { timeout: 20_000, interval: 100 };

describe('quiet hours', () => {
  it('holds New York at 23:00 their time, sends London, and sends the held ones when the window opens — across a restart', async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-quiet-'));
    const clock = { now: next2300NewYork() };
    const opens = DateTime.fromMillis(clock.now, { zone: 'America/New_York' }).plus({ days: 1 }).set({ hour: 2, minute: 0 }).toMillis();
    let p = await start(clock);
    await p.call('settings.update', { quietHours: WINDOW });

    // A New York contact who wrote just now: a scheduled reply to them is conversational.
    const wrote = await p.s.postWebhook('/webhooks/inbound', inboundPayload({ from: '12125550177', text: 'Are you open tomorrow?' }));
    expect(wrote.status).toBe(200);
    const convs = (await p.call('conversation.list', { search: '2125550177' }, 'GET')) as { items: { id: number }[] };
    const conversationId = convs.items[0]?.id;
    expect(conversationId).toBeDefined();
    const soon = new Date(clock.now + 60_000).toISOString();
    const reply = (await p.call('message.send', { conversationId, text: 'Yes, from 9.', sendAt: soon })) as MessageDto;
    const cold = (await p.call('message.send', {
      to: '+12125550188',
      text: 'Our spring sale starts tomorrow',
      sendAt: soon,
    })) as MessageDto;

    const created = (await p.call('campaign.create', {
      name: 'Night',
      text: 'Hello {name}',
      recipients: [...NY, ...UK],
    })) as CampaignCreatedDto;
    expect(created.quietHours).toBe(true);

    // London goes out; New York waits, with the reason in the report; the campaign is not stalled.
    await vi.waitFor(async () => {
      const r = await recipients(p.call, created.id);
      for (const n of UK) expect(['submitted', 'delivered']).toContain(r.get(n)?.state);
      for (const n of NY) {
        expect(r.get(n)).toMatchObject({
          state: 'held',
          reason: 'Held for quiet hours until 02:00 (their time)',
          heldUntil: new Date(opens).toISOString(),
          messageId: null,
        });
      }
    }, WAIT);
    const mid = (await p.call('campaign.get', { id: created.id }, 'GET')) as CampaignDto;
    expect(mid).toMatchObject({ status: 'running', counts: { held: 3 } });

    // The scheduled sends fall due: the reply goes, the cold text to New York waits.
    clock.now += 2 * 60_000;
    await vi.waitFor(async () => expect(['submitted', 'delivered']).toContain((await messageOf(p.call, reply)).status), WAIT);
    await vi.waitFor(async () => {
      expect(await messageOf(p.call, cold)).toMatchObject({ status: 'scheduled', heldUntil: new Date(opens).toISOString() });
    }, WAIT);

    // Restart on the same database: the holds are in it, not in memory.
    await p.s.close();
    servers = [];
    p = await start(clock);
    await new Promise((r) => setTimeout(r, 300));
    const still = await recipients(p.call, created.id);
    for (const n of NY) expect(still.get(n)?.state).toBe('held');
    expect((await messageOf(p.call, cold)).status).toBe('scheduled');

    // Their window opens: everything held goes, and the campaign finishes.
    clock.now = opens + 60_000;
    await vi.waitFor(async () => {
      const r = await recipients(p.call, created.id);
      for (const n of [...NY, ...UK]) expect(['submitted', 'delivered']).toContain(r.get(n)?.state);
    }, WAIT);
    await vi.waitFor(async () => expect(['submitted', 'delivered']).toContain((await messageOf(p.call, cold)).status), WAIT);
    await vi.waitFor(
      async () => expect(((await p.call('campaign.get', { id: created.id }, 'GET')) as CampaignDto).status).toBe('done'),
      WAIT,
    );
  }, 90_000);

  it('an admin may switch them off for one campaign (audited); an agent may not', async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-quiet-'));
    const clock = { now: next2300NewYork() };
    const p = await start(clock);
    const created = (await p.call('campaign.create', {
      name: 'Urgent',
      text: 'Service outage tonight',
      recipients: NY,
      quietHours: false,
    })) as CampaignCreatedDto;
    expect(created.quietHours).toBe(false);
    await vi.waitFor(async () => {
      const r = await recipients(p.call, created.id);
      for (const n of NY) expect(['submitted', 'delivered']).toContain(r.get(n)?.state);
    }, WAIT);
    const entries = await p.s.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.targetId, String(created.id)));
    expect(entries.map((e) => e.action).sort()).toEqual(['campaign.created', 'campaign.quiet_hours_overridden']);
    expect(entries.every((e) => e.via === 'session' && e.agentId !== null)).toBe(true);

    const agent = await insertAgent(p.s.db, { email: 'agent@parley.test', name: 'Agent', passwordHash: 'x', role: 'agent' });
    const { token } = await createApiToken({ db: p.s.db, agentId: agent.id, name: 'agent', scopes: ['read', 'send'] });
    const res = await fetch(`${p.s.url}/trpc/campaign.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: 'Sneaky', text: 'Hi', recipients: NY, quietHours: false }),
    });
    expect(res.status).toBe(403);
    expect(await p.s.db.select().from(auditLog).where(eq(auditLog.action, 'campaign.quiet_hours_overridden'))).toHaveLength(1);
  }, 60_000);
});
