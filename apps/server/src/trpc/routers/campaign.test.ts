import { TRPCError } from '@trpc/server';
import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from 'vitest';
import { insertAgent, type AgentDto } from '../../domain/agents';
import { feedCampaign } from '../../domain/campaign-feed';
import { updateSettings } from '../../domain/settings';
import { testAppDeps } from '../../testing/app-deps';
import { openTestDb, type TempDb } from '../../testing/temp-db';
import { createContextInner, type AppDeps } from '../context';
import { createCaller } from '../root';

let t: TempDb;
let deps: AppDeps;
let alice: AgentDto;
let bob: AgentDto;
let wakeFeeder: Mock<() => void>;
let wakeOutbox: Mock<() => void>;
beforeEach(async () => {
  t = await openTestDb('parley-campaign-router-');
  // Not a quiet-hours test: it must not depend on the hour it runs at (quiet hours are tested in domain/quiet-hours*).
  await updateSettings({ log: t.log, agentId: null, patch: { quietHours: null } });
  wakeOutbox = vi.fn<() => void>();
  wakeFeeder = vi.fn<() => void>();
  deps = { ...testAppDeps(t, wakeOutbox), campaigns: { wake: wakeFeeder } };
  // Campaigns are run by admins (create, preview, pause, resume, cancel); agents see them.
  alice = await insertAgent(t.db, { email: 'alice@x.test', name: 'Alice', passwordHash: 'x', role: 'admin' });
  bob = await insertAgent(t.db, { email: 'bob@x.test', name: 'Bob', passwordHash: 'x', role: 'agent' });
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

describe('campaign router', () => {
  it('only an admin creates, previews, pauses, resumes or cancels; an agent lists and reads', async () => {
    const created = await as(alice).campaign.create({ name: 'Launch', text: 'Hi', recipients: ['+447700900001'] });
    const b = as(bob);
    const refused = [
      b.campaign.create({ name: 'Mine', text: 'Hi', recipients: ['+447700900002'] }),
      b.campaign.preview({ text: 'Hi', recipients: ['+447700900002'] }),
      b.campaign.pause({ id: created.id }),
      b.campaign.resume({ id: created.id }),
      b.campaign.cancel({ id: created.id }),
    ];
    for (const p of refused) expect((await trpcError(p)).code).toBe('FORBIDDEN');
    expect((await b.campaign.list()).items.map((c) => c.id)).toEqual([created.id]);
    expect((await b.campaign.get({ id: created.id })).status).toBe('running');
  });

  it('create wakes the feeder and answers the campaign with its problems; list, get, recipients', async () => {
    const c = as(alice);
    const created = await c.campaign.create({
      name: ' Launch ',
      text: 'Hi {name}',
      recipients: 'phone,name\n+447700900001,Ann\nnope,Bo\n',
    });
    expect(created).toMatchObject({ name: 'Launch', status: 'running', ourNumber: '+447700900000', createdByAgentId: alice.id });
    expect(created.problems).toEqual([{ line: 3, input: 'nope', state: 'invalid', reason: 'Not a phone number' }]);
    expect(wakeFeeder).toHaveBeenCalledTimes(1);
    const second = await c.campaign.create({ name: 'Second', text: 'Yo', recipients: ['+447700900002'] });

    expect((await c.campaign.list()).items.map((x) => x.id)).toEqual([second.id, created.id]);
    const page = await c.campaign.list({ limit: 1 });
    expect(page.items.map((x) => x.id)).toEqual([second.id]);
    expect((await c.campaign.list({ limit: 1, cursor: page.nextCursor })).items.map((x) => x.id)).toEqual([created.id]);
    expect((await c.campaign.get({ id: created.id })).counts).toMatchObject({ total: 2, invalid: 1, pending: 1 });

    await feedCampaign({ log: t.log, id: created.id, max: 10 });
    const recipients = await c.campaign.recipients({ id: created.id });
    expect(recipients.items.map((r) => [r.line, r.state, r.name, r.conversationId !== null])).toEqual([
      [2, 'queued', 'Ann', true],
      [3, 'invalid', 'Bo', false],
    ]);
    expect((await c.campaign.recipients({ id: created.id, state: 'invalid' })).items).toHaveLength(1);
  });

  it('preview writes nothing; pause, resume (waking outbox and feeder), cancel', async () => {
    const c = as(alice);
    const preview = await c.campaign.preview({ text: 'Hello', recipients: ['+447700900001', '+447700900001', 'x'] });
    expect(preview).toMatchObject({ sendable: 1, totalSegments: 1, counts: { total: 3, invalid: 1, duplicate: 1, skipped: 0 } });
    expect((await c.campaign.list()).items).toEqual([]);

    const { id } = await c.campaign.create({ name: 'P', text: 'Hello', recipients: ['+447700900001'] });
    expect((await c.campaign.pause({ id })).status).toBe('paused');
    expect((await c.campaign.list({ status: 'paused' })).items.map((x) => x.id)).toEqual([id]);
    wakeFeeder.mockClear();
    expect((await c.campaign.resume({ id })).status).toBe('running');
    expect(wakeFeeder).toHaveBeenCalledTimes(1);
    expect(wakeOutbox).toHaveBeenCalledTimes(1);
    expect((await c.campaign.cancel({ id })).status).toBe('cancelled');
  });

  it('errors: readable messages with the right codes', async () => {
    const c = as(alice);
    const noColumn = await trpcError(c.campaign.create({ name: 'X', text: 'Hi', recipients: 'email,name\na@b.c,Ann' }));
    expect([noColumn.code, noColumn.message]).toEqual([
      'BAD_REQUEST',
      'The CSV has no phone column: its header has "email", "name". Name the column phone, number, mobile, msisdn or to',
    ]);
    expect(
      (await trpcError(c.campaign.create({ name: 'X', text: 'Hi', recipients: ['+447700900001'], from: '+447700900123' }))).message,
    ).toMatch(/is not one of Parley's numbers/);
    const unnamed = await trpcError(c.campaign.create({ name: ' ', text: 'Hi', recipients: ['+447700900001'] }));
    expect([unnamed.code, unnamed.cause?.name, unnamed.message]).toEqual([
      'BAD_REQUEST',
      'ZodError',
      expect.stringContaining('Give the campaign a name'),
    ]);
    const missing = await trpcError(c.campaign.get({ id: 42 }));
    expect([missing.code, missing.message]).toEqual(['NOT_FOUND', 'Campaign 42 not found']);
    const { id } = await c.campaign.create({ name: 'C', text: 'Hi', recipients: ['+447700900001'] });
    await c.campaign.cancel({ id });
    const e = await trpcError(c.campaign.pause({ id }));
    expect([e.code, e.message]).toEqual(['PRECONDITION_FAILED', `Campaign ${id} is cancelled; only a running campaign can be paused`]);
    expect((await trpcError(as(null).campaign.list())).code).toBe('UNAUTHORIZED');
  });
});

describe('stats router', () => {
  it('summary with and without input', async () => {
    const c = as(alice);
    await c.message.send({ to: '+447700900001', text: 'hi' });
    const s = await c.stats.summary();
    expect(s).toMatchObject({ bucket: 'day', inbound: 0, outbound: 1, pending: 1, deliveryRate: null });
    const since = new Date(Date.now() - 3_600_000).toISOString();
    expect((await c.stats.summary({ since })).bucket).toBe('hour');
    expect((await trpcError(c.stats.summary({ since: 'yesterday' }))).code).toBe('BAD_REQUEST');
    expect((await trpcError(as(null).stats.summary())).code).toBe('UNAUTHORIZED');
  });
});
