import { TRPCError } from '@trpc/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { insertAgent, type AgentDto } from '../../domain/agents';
import { testAppDeps } from '../../testing/app-deps';
import { openTestDb, type TempDb } from '../../testing/temp-db';
import { createContextInner, type AppDeps } from '../context';
import { createCaller } from '../root';

let t: TempDb;
let deps: AppDeps;
let alice: AgentDto;
let admin: AgentDto;
beforeEach(async () => {
  t = await openTestDb('parley-contact-router-');
  deps = testAppDeps(t);
  alice = await insertAgent(t.db, { email: 'alice@x.test', name: 'Alice', passwordHash: 'x', role: 'agent' });
  admin = await insertAgent(t.db, { email: 'root@x.test', name: 'Root', passwordHash: 'x', role: 'admin' });
});
afterEach(async () => await t.dispose());

const as = (agent: AgentDto | null) => createCaller(createContextInner({ deps, agent }));
async function trpcError(p: Promise<unknown>): Promise<TRPCError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof TRPCError)) throw new Error(`expected a TRPCError, got ${String(e)}`);
  return e;
}

describe('contact router', () => {
  it('agents list, search and rename; only admins opt out/in and export', async () => {
    const m = await as(alice).message.send({ to: '+447700900001', text: 'hi' });
    const { contactId } = await as(alice).conversation.get({ id: m.conversationId });

    expect((await as(alice).contact.list()).items.map((c) => [c.id, c.conversationCount])).toEqual([[contactId, 1]]);
    expect((await as(alice).contact.update({ id: contactId, name: ' Ann ' })).name).toBe('Ann');
    expect((await as(alice).contact.list({ search: 'ann' })).items).toHaveLength(1);
    expect((await as(alice).conversation.get({ id: m.conversationId })).contactName).toBe('Ann');

    const forbidden = await trpcError(as(alice).contact.setOptOut({ id: contactId, optedOut: true }));
    expect([forbidden.code, forbidden.message]).toEqual(['FORBIDDEN', 'Only an admin can do this']);
    expect((await trpcError(as(alice).contact.exportOptOuts())).code).toBe('FORBIDDEN');

    const out = await as(admin).contact.setOptOut({ id: contactId, optedOut: true });
    expect([out.optOutSource, out.optedOutAt !== null]).toEqual(['agent', true]);
    expect((await as(alice).contact.list({ optedOut: true })).items.map((c) => c.id)).toEqual([contactId]);
    const exported = await as(admin).contact.exportOptOuts();
    expect(exported.count).toBe(1);
    expect(exported.csv).toMatch(/^phone,name,opted_out_at,source\r\n\+447700900001,Ann,\d{4}-\d\d-\d\dT[\d:.]+Z,agent\r\n$/);
    expect((await as(admin).contact.setOptOut({ id: contactId, optedOut: false })).optedOutAt).toBeNull();
    expect((await trpcError(as(alice).contact.update({ id: 999, name: 'x' }))).code).toBe('NOT_FOUND');
  });
});
