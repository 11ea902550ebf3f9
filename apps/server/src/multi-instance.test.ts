/**
 * Several Parley instances on one PostgreSQL: three real processes (`node --import tsx src/main.ts`,
 * as `pnpm start` runs it), started together on an empty database, behind no balancer: the test
 * spreads the traffic itself. Always on PostgreSQL (in the default run too).
 *
 * - Signed webhooks round-robin over A, B, C: a live subscriber on A hears every event once, in id
 *   order, and resumes on C from its last id with exactly what it missed.
 * - Presence updated through A and C shows on a presence stream of B; a sign-out through A ends it.
 * - A 300-recipient campaign at 100/s with the instance doing the sending killed (-9) midway: nobody
 *   texted twice, the rate never above 100 in any second (the mock's arrival times), the campaign
 *   finishes on a survivor, nothing left in the outbox.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink } from '@trpc/client';
import { WebSocket as WsWebSocket } from 'ws';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { CampaignCreatedDto, CampaignDto, ParleyEvent, PresenceEntry } from '@parley/shared';
import { createApiToken } from './auth/tokens';
import { openPgStoreDb } from './db/pg/client';
import type { Db } from './db/client';
import { agents } from './db/tables';
import { signVonageWebhook } from './providers/vonage/sign';
import type { AppRouter } from './trpc/root';
import { inboundPayload } from './testing/harness';
import { startMockVonage, type MockVonage } from './testing/mock-vonage';
import { allRecipients, killParley, startParleyProcess, trpcCall, type ParleyProcess } from './testing/parley-process';
import { beforeAllPg, createTestPgDatabase, type TestPgDatabase } from './testing/pg';
import { raw } from './testing/raw';

const APP_ID = 'c0ffee00-0000-4000-8000-0000000c1a57';
const SECRET = 'multi-instance-signature-secret';
const ADMIN = { email: 'admin@parley.test', password: 'multi-instance-password' };
const RATE = 100;

type Instance = ParleyProcess;

let database: TestPgDatabase;
const mediaDir = mkdtempSync(join(tmpdir(), 'parley-multi-media-'));
let mock: MockVonage;
let db: Db;
let token: string;
const instances: Instance[] = [];

const startParley = (name: string): Promise<Instance> =>
  startParleyProcess(name, {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    DATABASE_URL: database.url,
    PG_POOL_SIZE: '5',
    LEADER_LEASE_MS: '3000',
    SMS_PROVIDER: 'vonage',
    VONAGE_APPLICATION_ID: APP_ID,
    VONAGE_PRIVATE_KEY: mock.keyPair.privateKeyPem,
    VONAGE_SIGNATURE_SECRET: SECRET,
    VONAGE_NUMBER: '+447700900000',
    VONAGE_API_HOST: mock.url,
    SEND_RATE_PER_SECOND: String(RATE),
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    MEDIA_DIR: mediaDir,
  });

beforeAllPg(async () => {
  database = await createTestPgDatabase();
  mock = await startMockVonage({ applicationId: APP_ID });
  // All three at once on an empty database: they migrate and bootstrap the admin in turns.
  instances.push(...(await Promise.all(['A', 'B', 'C'].map(startParley))));
  db = await openPgStoreDb(database.url, { poolSize: 2 });
  const [admin] = await db.select().from(agents);
  ({ token } = await createApiToken({ db, agentId: admin?.id ?? 0, name: 'multi', scopes: ['read', 'send', 'admin'] }));
}, 120_000);

afterAll(async () => {
  for (const p of instances) await killParley(p);
  await db?.$store.close();
  await mock?.close();
  await database?.dispose();
  rmSync(mediaDir, { recursive: true, force: true });
});

function clientOf(p: Instance) {
  const wsClient = createWSClient({
    url: `${p.url.replace('http', 'ws')}/trpc`,
    WebSocket: WsWebSocket as unknown as typeof WebSocket,
    connectionParams: { token },
    retryDelayMs: () => 50,
  });
  const trpc = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink({ client: wsClient }),
        false: httpBatchLink({ url: `${p.url}/trpc`, headers: { authorization: `Bearer ${token}` } }),
      }),
    ],
  });
  return { trpc, wsClient };
}

async function follow(p: Instance, lastEventId: string | null, seen: ParleyEvent[]) {
  const { trpc, wsClient } = clientOf(p);
  let sub: { unsubscribe(): void } | undefined;
  await new Promise<void>((resolve, reject) => {
    sub = trpc.event.stream.subscribe(
      { lastEventId },
      { onStarted: () => resolve(), onData: (tracked) => seen.push(tracked.data), onError: reject },
    );
  });
  return {
    async stop() {
      sub?.unsubscribe();
      await wsClient.close();
    },
  };
}

async function inbound(p: Instance, i: number): Promise<void> {
  const body = JSON.stringify(inboundPayload({ from: `4477009${String(30_000 + (i % 40)).padStart(5, '0')}`, text: `round robin ${i}` }));
  const res = await fetch(`${p.url}/webhooks/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: await signVonageWebhook(body, SECRET) },
    body,
  });
  expect(res.status).toBe(200);
}

/** Signed inbounds i in [from, to), round-robin over the instances, ten at a time. */
async function roundRobin(from: number, to: number): Promise<void> {
  for (let i = from; i < to; i += 10) {
    await Promise.all(Array.from({ length: Math.min(10, to - i) }, (_, k) => inbound(instances[(i + k) % 3] as Instance, i + k)));
  }
}

const idsOf = async (afterId: number) =>
  (await raw(db).all<{ id: number }>('select id from events where id > ? order by id', afterId)).map((r) => r.id);

const call = <T>(p: Instance, path: string, input: unknown, method: 'GET' | 'POST') =>
  trpcCall<T>(p.url, { authorization: `Bearer ${token}` }, path, input, method);

describe('three Parley instances on one PostgreSQL', () => {
  it('a subscriber on A hears every event written through B and C once, in id order, and resumes on C from its last id', async () => {
    const [a, , c] = instances as [Instance, Instance, Instance];
    const start = (await raw(db).get<{ n: number | null }>('select max(id) as n from events'))?.n ?? 0;
    const seen: ParleyEvent[] = [];
    const onA = await follow(a, null, seen);
    await roundRobin(0, 60);
    const written = await idsOf(start);
    expect(written.length).toBeGreaterThanOrEqual(120); // message.created + conversation.* per inbound
    await vi.waitFor(() => expect(seen.length).toBeGreaterThanOrEqual(written.length), { timeout: 10_000, interval: 50 });
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.map((e) => e.id)).toEqual(written);
    expect(seen.filter((e) => e.type === 'message.created')).toHaveLength(60);
    await onA.stop();

    // Away for a while; back on another instance from the last id seen on A.
    const last = seen.at(-1)?.id ?? start;
    await roundRobin(60, 90);
    const again: ParleyEvent[] = [];
    const onC = await follow(c, String(last), again);
    await roundRobin(90, 120);
    const all = await idsOf(last);
    await vi.waitFor(() => expect(again.length).toBeGreaterThanOrEqual(all.length), { timeout: 10_000, interval: 50 });
    await new Promise((r) => setTimeout(r, 300));
    expect(again.map((e) => e.id)).toEqual(all);
    await onC.stop();
  }, 60_000);

  it('presence is shared: what an agent does through one instance shows on a stream of another, and signing out there ends it', async () => {
    const [a, b, c] = instances as [Instance, Instance, Instance];
    const { trpc, wsClient } = clientOf(b);
    const lists: PresenceEntry[][] = [];
    const sub = trpc.presence.stream.subscribe(undefined, { onData: (list) => lists.push(list) });
    try {
      await vi.waitFor(() => expect(lists.length).toBeGreaterThan(0), { timeout: 5_000, interval: 20 });
      const conversationId = (await raw(db).get<{ id: number }>('select id from conversations order by id limit 1'))?.id ?? null;
      await call(a, 'presence.update', { conversationId, typing: false }, 'POST');
      await vi.waitFor(() => expect(lists.at(-1)).toEqual([expect.objectContaining({ conversationId, typing: false })]), {
        timeout: 5_000,
        interval: 20,
      });
      // The same agent, another tab on another instance: the latest wins everywhere.
      await call(c, 'presence.update', { conversationId, typing: true }, 'POST');
      await vi.waitFor(() => expect(lists.at(-1)).toEqual([expect.objectContaining({ typing: true })]), { timeout: 5_000, interval: 20 });
      await call(a, 'auth.logout', undefined, 'POST');
      await vi.waitFor(() => expect(lists.at(-1)).toEqual([]), { timeout: 5_000, interval: 20 });
    } finally {
      sub.unsubscribe();
      await wsClient.close();
    }
  }, 30_000);

  it('a 300-recipient campaign at 100/s survives kill -9 of the sending instance: nobody texted twice, the rate holds, it finishes', async () => {
    const before = mock.requests.length;
    mock.respond((req) => ({ status: 202, body: { message_uuid: req.messageUuid }, delayMs: 20 }));
    const numbers = Array.from({ length: 300 }, (_, i) => `+4477009${String(40_000 + i)}`);
    const [a] = instances as [Instance];
    await call(a, 'settings.update', { quietHours: null }, 'POST');
    const created = await call<CampaignCreatedDto>(a, 'campaign.create', { name: 'Spread', text: 'Hello', recipients: numbers }, 'POST');
    expect(created.counts.pending).toBe(300);
    await vi.waitFor(() => expect(mock.requests.length - before).toBeGreaterThan(100), { timeout: 20_000, interval: 5 });

    // The instance sending is the one whose outbox runs (the others stand by).
    const states = await Promise.all(
      instances.map(async (p) => ((await (await fetch(`${p.url}/healthz`)).json()) as { outbox: { state: string } }).outbox.state),
    );
    expect([...states].sort()).toEqual(['running', 'standby', 'standby']);
    const leader = instances[states.indexOf('running')] as Instance;
    await killParley(leader);
    const survivor = instances.find((p) => p !== leader) as Instance;

    let final: CampaignDto | undefined;
    await vi.waitFor(
      async () => {
        final = await call<CampaignDto>(survivor, 'campaign.get', { id: created.id }, 'GET');
        expect(final.status).toBe('done');
      },
      { timeout: 40_000, interval: 200 },
    );

    const requests = mock.requests.slice(before);
    const sent = requests.map((r) => `+${(r.body as { to: string }).to}`);
    expect(sent.length).toBe(new Set(sent).size); // nobody twice
    // Never above the rate across the instances. Parley holds its writes to 100 in any 1000 ms; the
    // mock stamps arrivals on a thread of this (busy, two-core) process, up to some tens of ms late,
    // so arrivals are judged over windows 50 ms shorter.
    const at = requests.map((r) => r.receivedAt.getTime()).sort((x, y) => x - y);
    let most = 0;
    for (let i = 0, j = 0; i < at.length; i++) {
      while ((at[i] ?? 0) - (at[j] ?? 0) >= 950) j++;
      most = Math.max(most, i - j + 1);
    }
    expect(most).toBeLessThanOrEqual(RATE);

    const recipients = await allRecipients(survivor.url, { authorization: `Bearer ${token}` }, created.id);
    const seenPhones = new Set(sent);
    for (const r of recipients) {
      // Sent once (the mock saw it, Parley recorded it), or interrupted: in flight at the kill, never resent.
      if (r.state === 'interrupted') continue;
      expect({ phone: r.phone, state: r.state, seen: seenPhones.has(r.phone ?? '') }).toEqual({
        phone: r.phone,
        state: 'submitted',
        seen: true,
      });
    }
    const interrupted = recipients.filter((r) => r.state === 'interrupted').length;
    // Only sends in flight at the kill (the worker's concurrency at 100/s: max(8, 100 / 10) = 10).
    expect(interrupted).toBeLessThanOrEqual(10);
    expect(final?.counts).toMatchObject({ total: 300, pending: 0, queued: 0, submitted: 300 - interrupted, interrupted });
    // Nothing stuck: no row left in the outbox, none 'sending'.
    expect(await raw(db).all('select message_id, state from outbox')).toEqual([]);
    expect(mock.specViolations()).toEqual([]);
  }, 90_000);
});
