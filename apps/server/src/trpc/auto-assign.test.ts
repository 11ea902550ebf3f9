import { afterEach, describe, expect, it } from 'vitest';
import type { ConversationDto } from '@parley/shared';
import { inboundPayload, startTestServer, type TestServer } from '../testing/harness';
import { trpcCall, type TrpcReply } from '../testing/trpc-http';
import { TEST_ADMIN } from '../config';
import { raw } from '../testing/raw';

/** Round-robin auto-assignment over real HTTP: online agents in turn, offline and capped ones skipped, an event. */
const ADMIN = TEST_ADMIN;

let s: TestServer | undefined;
afterEach(async () => {
  await s?.dispose();
  s = undefined;
});

function call(path: string, input: unknown, cookie: string, method: 'GET' | 'POST' = 'POST'): Promise<TrpcReply> {
  if (!s) throw new Error('no server');
  return trpcCall(s.url, path, input, cookie, method);
}

async function agent(admin: string, email: string, name: string): Promise<{ id: number; cookie: string }> {
  const invite = await call('agent.invite', { email, name, role: 'agent' }, admin);
  expect(invite.status).toBe(200);
  const token = new URL((invite.body.result?.data as { inviteUrl: string }).inviteUrl).hash.replace('#token=', '');
  const accepted = await call('auth.acceptInvite', { token, password: `${name}-password-1` }, '');
  expect(accepted.status).toBe(200);
  const me = await call('auth.me', undefined, accepted.cookie ?? '', 'GET');
  return { id: (me.body.result?.data as { id: number }).id, cookie: accepted.cookie ?? '' };
}

const online = async (cookie: string) =>
  expect((await call('presence.update', { conversationId: null, typing: false }, cookie)).status).toBe(200);

async function newConversation(from: string): Promise<ConversationDto> {
  const res = await s?.postWebhook('/webhooks/inbound', inboundPayload({ from }));
  expect(res?.status).toBe(200);
  if (!s) throw new Error('no server');
  const row = (await raw(s.db).get("select payload from events where type = 'conversation.updated' order by id desc limit 1")) as {
    payload: string;
  };
  return (JSON.parse(row.payload) as { conversation: ConversationDto }).conversation;
}

describe('round-robin auto-assignment', () => {
  it('is off by default, then gives new conversations to online agents in turn, skipping offline and capped ones', async () => {
    s = await startTestServer();
    const admin = (await call('auth.login', ADMIN, '')).cookie ?? '';
    const ann = await agent(admin, 'ann@parley.test', 'Ann');
    const bob = await agent(admin, 'bob@parley.test', 'Bob');
    const cat = await agent(admin, 'cat@parley.test', 'Cat'); // never online
    expect(cat.id).toBeGreaterThan(bob.id);
    await online(ann.cookie);
    await online(bob.cookie);

    // Off (the default): unassigned.
    expect((await newConversation('447700900101')).assignedAgentId).toBeNull();

    expect((await call('settings.update', { autoAssign: 'round-robin', maxOpenPerAgent: 2 }, admin)).status).toBe(200);
    // The event of the first inbound already carries the assignment (visible live).
    const first = await newConversation('447700900102');
    const second = await newConversation('447700900103');
    expect([first.assignedAgentId, second.assignedAgentId].sort()).toEqual([ann.id, bob.id].sort());
    expect(first.assignedAgentId).not.toBe(second.assignedAgentId);
    // A second text in an assigned conversation changes nothing; Cat (offline) never gets one.
    const third = await newConversation('447700900104');
    const fourth = await newConversation('447700900105');
    expect([third.assignedAgentId, fourth.assignedAgentId].sort()).toEqual([ann.id, bob.id].sort());
    // Both hold two open conversations now (the cap): the next one stays unassigned.
    expect((await newConversation('447700900106')).assignedAgentId).toBeNull();

    // Ann closes one of hers: she is below the cap again and gets the next.
    const annOwn = [first, second, third, fourth].find((c) => c.assignedAgentId === ann.id);
    expect((await call('conversation.setStatus', { id: annOwn?.id, status: 'closed' }, admin)).status).toBe(200);
    expect((await newConversation('447700900107')).assignedAgentId).toBe(ann.id);

    // Ann signs out (offline): nobody below the cap is online, so unassigned.
    expect((await call('auth.logout', {}, ann.cookie)).status).toBe(200);
    expect((await newConversation('447700900108')).assignedAgentId).toBeNull();
  });
});
