import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addBusinessDays, type ConsentEntryDto, type ConversationDto } from '@parley/shared';
import { auditLog, consentLedger } from '../db/tables';
import { inboundPayload, startTestServer, type TestServer } from '../testing/harness';
import { trpcCall, type TrpcReply } from '../testing/trpc-http';
import { TEST_ADMIN } from '../config';
import { raw } from '../testing/raw';

/**
 * Opt-out language, the possible-opt-out flag and the consent ledger, over real HTTP against a real
 * server: every consent change writes one ledger row, with how it happened.
 */
const ADMIN = TEST_ADMIN;

let s: TestServer;
let admin: string;
let agent: string;
let agentId: number;
let adminId: number;
const dir = mkdtempSync(join(tmpdir(), 'parley-compliance-'));

const call = (path: string, input: unknown, cookie: string, method: 'GET' | 'POST' = 'POST'): Promise<TrpcReply> =>
  trpcCall(s.url, path, input, cookie, method);
async function data<T>(reply: Promise<TrpcReply>): Promise<T> {
  const r = await reply;
  if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(r.body.error)}`);
  return r.body.result?.data as T;
}

beforeAll(async () => {
  s = await startTestServer({}, dir, { worker: false });
  const login = await call('auth.login', ADMIN, '');
  admin = login.cookie ?? '';
  adminId = (await data<{ id: number }>(call('auth.me', undefined, admin, 'GET'))).id;
  const invite = await data<{ inviteUrl: string }>(call('agent.invite', { email: 'ann@parley.test', name: 'Ann', role: 'agent' }, admin));
  const token = new URL(invite.inviteUrl).hash.replace('#token=', '');
  const accepted = await call('auth.acceptInvite', { token, password: 'ann-password-1' }, '');
  agent = accepted.cookie ?? '';
  agentId = (await data<{ id: number }>(call('auth.me', undefined, agent, 'GET'))).id;
});
afterAll(async () => {
  await s.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function inbound(phone: string, text: string): Promise<void> {
  const r = await s.postWebhook('/webhooks/inbound', inboundPayload({ from: phone.slice(1), text }));
  expect(r.status).toBe(200);
}
const conversationOf = async (phone: string) =>
  (await data<{ items: ConversationDto[] }>(call('conversation.list', { filter: 'all', search: phone }, agent, 'GET'))).items.find(
    (c) => c.contactPhone === phone,
  );
const flagged = async () =>
  (await data<{ items: ConversationDto[] }>(call('conversation.list', { filter: 'possible-opt-out' }, agent, 'GET'))).items;
const history = (contactId: number) => data<ConsentEntryDto[]>(call('contact.consentHistory', { id: contactId }, agent, 'GET'));
const audits = async (action: string) => (await s.db.select().from(auditLog)).filter((a) => a.action === action);
const lastMessageId = async (conversationId: number) =>
  (await data<{ items: { id: number }[] }>(call('conversation.messages', { conversationId }, agent, 'GET'))).items[0]?.id;

describe('possible opt-out', () => {
  it('a free-text opt-out flags the conversation (list filter, DTO, event); a near miss does not; dismiss and confirm in one call each', async () => {
    const phone = '+447700900501';
    await inbound(phone, 'stop by tomorrow?');
    expect(await flagged()).toEqual([]);
    const before = await s.events.lastId();
    await inbound(phone, 'Please stop texting me');
    const conv = await conversationOf(phone);
    if (!conv) throw new Error('no conversation');
    const flagMessageId = await lastMessageId(conv.id);
    expect(conv.possibleOptOutAt).not.toBeNull();
    expect(conv.possibleOptOutMessageId).toBe(flagMessageId);
    // Overdue after 10 business days.
    expect(conv.possibleOptOutDueAt).toBe(new Date(addBusinessDays(Date.parse(conv.possibleOptOutAt ?? ''), 10)).toISOString());
    expect(Date.parse(conv.possibleOptOutDueAt ?? '') - Date.parse(conv.possibleOptOutAt ?? '')).toBeGreaterThanOrEqual(14 * 86_400_000);
    expect(conv.contactOptedOut).toBe(false);
    expect((await flagged()).map((c) => c.id)).toEqual([conv.id]);
    // Live: the event stream carries the flag.
    const live = (await s.events.readAfter(before)).filter((e) => e.type === 'conversation.updated');
    expect(live.some((e) => e.type === 'conversation.updated' && e.payload.conversation.possibleOptOutAt !== null)).toBe(true);

    // Dismiss: cleared, on the record, nothing opted out; a second resolve is a conflict.
    const dismissed = await data<ConversationDto>(call('conversation.resolveOptOutFlag', { id: conv.id, optOut: false }, agent));
    expect([dismissed.possibleOptOutAt, dismissed.contactOptedOut]).toEqual([null, false]);
    expect(await flagged()).toEqual([]);
    expect((await audits('conversation.opt_out_dismissed')).at(-1)).toMatchObject({ agentId, targetId: String(conv.id) });
    const again = await call('conversation.resolveOptOutFlag', { id: conv.id, optOut: false }, agent);
    expect([again.status, again.body.error?.message]).toEqual([409, expect.stringMatching(/no possible opt-out/)]);
    expect(await history(conv.contactId)).toEqual([]);

    // Flag again, confirm: opted out by the agent (ledger: agent, who; audit: contact.opted_out).
    await inbound(phone, "don't text me again");
    expect((await flagged()).map((c) => c.id)).toEqual([conv.id]);
    const confirmed = await data<ConversationDto>(call('conversation.resolveOptOutFlag', { id: conv.id, optOut: true }, agent));
    expect([confirmed.possibleOptOutAt, confirmed.contactOptedOut]).toEqual([null, true]);
    expect(await history(conv.contactId)).toEqual([{ at: expect.any(String), state: 'opted_out', source: 'agent', agentId }]);
    expect((await audits('contact.opted_out')).at(-1)).toMatchObject({
      agentId,
      via: 'session',
      targetType: 'contact',
      targetId: String(conv.contactId),
    });
    const refused = await call('message.send', { conversationId: conv.id, text: 'sorry to see you go' }, agent);
    expect([refused.status, refused.body.error?.data.appCode]).toEqual([412, 'OPTED_OUT']);
    // An opted-out contact's texts raise no new flag.
    await inbound(phone, 'remove me from this list');
    expect(await flagged()).toEqual([]);
  });

  it('a STOP settles an open flag; bad input is a 400', async () => {
    const phone = '+447700900502';
    await inbound(phone, 'remove me from this list');
    const conv = await conversationOf(phone);
    expect(conv?.possibleOptOutAt).not.toBeNull();
    await inbound(phone, 'STOP');
    const after = await conversationOf(phone);
    expect([after?.possibleOptOutAt, after?.contactOptedOut]).toEqual([null, true]);
    const bad = await call('conversation.resolveOptOutFlag', { id: conv?.id, optOut: 'yes' }, agent);
    expect(bad.status).toBe(400);
    const missing = await call('conversation.resolveOptOutFlag', { id: 99_999, optOut: true }, agent);
    expect(missing.status).toBe(404);
  });
});

describe('the consent ledger', () => {
  it('keyword STOP/START rows carry the message id; agent and API-token rows carry who; nothing is overwritten', async () => {
    const phone = '+447700900503';
    await inbound(phone, 'Opt-Out');
    const conv = await conversationOf(phone);
    if (!conv) throw new Error('no conversation');
    const stopId = (
      await data<{ items: { id: number; text: string }[] }>(call('conversation.messages', { conversationId: conv.id }, agent, 'GET'))
    ).items.find((m) => m.text === 'Opt-Out')?.id;
    await inbound(phone, 'unstop');
    const startId = (
      await data<{ items: { id: number; text: string }[] }>(call('conversation.messages', { conversationId: conv.id }, agent, 'GET'))
    ).items.find((m) => m.text === 'unstop')?.id;
    // An agent cannot opt out by hand; an admin can (audited), and a token with the admin scope is source api.
    expect((await call('contact.setOptOut', { id: conv.contactId, optedOut: true }, agent)).status).toBe(403);
    await data(call('contact.setOptOut', { id: conv.contactId, optedOut: true }, admin));
    await data(call('contact.setOptOut', { id: conv.contactId, optedOut: true }, admin)); // already: no row
    const token = await data<{ token: string }>(call('apiToken.create', { name: 'crm', scopes: ['read', 'send', 'admin'] }, admin));
    const viaToken = await fetch(`${s.url}/trpc/contact.setOptOut`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token.token}` },
      body: JSON.stringify({ id: conv.contactId, optedOut: false }),
    });
    expect(viaToken.status).toBe(200);

    expect(await history(conv.contactId)).toEqual([
      { at: expect.any(String), state: 'opted_out', source: 'keyword', messageId: stopId },
      { at: expect.any(String), state: 'opted_in', source: 'keyword', messageId: startId },
      { at: expect.any(String), state: 'opted_out', source: 'agent', agentId: adminId },
      { at: expect.any(String), state: 'opted_in', source: 'api', agentId: adminId },
    ]);
    const rows = (await s.db.select().from(consentLedger)).filter((r) => r.contactId === conv.contactId);
    expect(rows.map((r) => r.id)).toEqual([...rows.map((r) => r.id)].sort((a, b) => a - b));
    expect((await audits('contact.opted_in')).at(-1)).toMatchObject({ agentId: adminId, via: 'token', targetId: String(conv.contactId) });

    // CSV: admins only, audited.
    expect((await call('contact.exportConsent', { id: conv.contactId }, agent, 'GET')).status).toBe(403);
    const csv = await data<{ csv: string; count: number; filename: string }>(
      call('contact.exportConsent', { id: conv.contactId }, admin, 'GET'),
    );
    expect(csv.count).toBe(4);
    const lines = csv.csv.trim().split('\r\n');
    expect(lines[0]).toBe('at,state,source,message_id,agent_id');
    expect(lines.slice(1).map((l) => l.split(',').slice(1))).toEqual([
      ['opted_out', 'keyword', String(stopId), ''],
      ['opted_in', 'keyword', String(startId), ''],
      ['opted_out', 'agent', '', String(adminId)],
      ['opted_in', 'api', '', String(adminId)],
    ]);
    expect((await audits('consent.exported')).at(-1)).toMatchObject({ agentId: adminId, targetId: String(conv.contactId) });
    expect((await call('contact.consentHistory', { id: 99_999 }, agent, 'GET')).status).toBe(404);
  });

  it('HELP answers with the workspace setting when set, else the configured text', async () => {
    const phone = '+447700900504';
    await inbound(phone, 'HELP');
    const conv = await conversationOf(phone);
    if (!conv) throw new Error('no conversation');
    const texts = async () =>
      (
        await data<{ items: { text: string; direction: string }[] }>(
          call('conversation.messages', { conversationId: conv.id }, agent, 'GET'),
        )
      ).items
        .filter((m) => m.direction === 'out')
        .map((m) => m.text);
    expect(await texts()).toEqual([s.config.helpText]);
    expect(s.config.helpText).toMatch(/Msg & data rates may apply/);
    await data(
      call('settings.update', { helpText: 'Acme Support: call 0800 123. Msg & data rates may apply. Reply STOP to stop.' }, admin),
    );
    await raw(s.db).run("update messages set created_at = created_at - 3600000 where direction = 'out'");
    await inbound(phone, 'info');
    expect((await texts())[0]).toBe('Acme Support: call 0800 123. Msg & data rates may apply. Reply STOP to stop.');
  });
});
