import { createServer as createHttpServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import type { WebhookDeliveryDto, WebhookEndpointDto } from '@parley/shared';
import { inboundPayload, startTestServer, type TestServer } from '../testing/harness';
import { trpcCall, type TrpcReply } from '../testing/trpc-http';
import type { ServerOptions } from '../server';
import { checkTarget, parseTarget, refusalOf, type Post, type Resolve } from './target-guard';
import { TEST_ADMIN } from '../config';
import { raw } from '../testing/raw';
import { TEST_DB } from '../testing/temp-db';

/** Outbound webhooks end to end: a real Parley, receivers on loopback, every delivery verified. */
const ADMIN = TEST_ADMIN;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Received {
  id: string;
  eventId: number | null;
  type: string;
  body: string;
  headers: IncomingHttpHeaders;
}

/** A receiver on 127.0.0.1 that verifies each request with the standardwebhooks verifier. */
async function startReceiver(opts: { port?: number; answer?: (r: Received) => number | 'hang' | 'drop' } = {}) {
  const received: Received[] = [];
  const invalid: string[] = [];
  const state = { secret: '' };
  const hanging = new Set<ServerResponse>();
  const server: Server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        new Webhook(state.secret).verify(body, req.headers as Record<string, string>);
      } catch (err) {
        invalid.push(String(err));
        res.writeHead(400).end('bad signature');
        return;
      }
      const parsed = JSON.parse(body) as { id?: number; type: string };
      const r: Received = {
        id: String(req.headers['webhook-id']),
        eventId: parsed.id ?? null,
        type: parsed.type,
        body,
        headers: req.headers,
      };
      received.push(r);
      const answer = opts.answer?.(r) ?? 200;
      if (answer === 'hang') hanging.add(res);
      else if (answer === 'drop') req.socket.destroy();
      else res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer === 200 ? 'ok thanks' : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const close = () =>
    new Promise<void>((resolve) => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  cleanups.push(close);
  /** Answers 200 to every request held so far. */
  const release = () => {
    for (const res of hanging) res.writeHead(200).end('late ok');
    hanging.clear();
  };
  return { url: `http://127.0.0.1:${port}/hook`, port, received, invalid, state, close, release, hanging };
}

async function start(options: ServerOptions = {}, dir?: string): Promise<{ s: TestServer; admin: string }> {
  const s = await startTestServer({ webhooks: { allowLoopback: true } }, dir, options);
  cleanups.push(() => s.dispose());
  const login = await trpcCall(s.url, 'auth.login', ADMIN, '');
  return { s, admin: login.cookie ?? '' };
}

const call = (s: TestServer, path: string, input: unknown, cookie: string, method: 'GET' | 'POST' = 'POST'): Promise<TrpcReply> =>
  trpcCall(s.url, path, input, cookie, method);

async function createEndpoint(s: TestServer, admin: string, url: string, events = ['message.created']) {
  const r = await call(s, 'webhookEndpoint.create', { url, events, description: 'CRM' }, admin);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.result?.data as { endpoint: WebhookEndpointDto; secret: string };
}

async function inbound(s: TestServer, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await s.postWebhook(
      '/webhooks/inbound',
      inboundPayload({ from: `4477009${String(10000 + i).slice(-5)}`, text: `hello ${i}` }),
    );
    expect(res.status).toBe(200);
  }
}

/** The ids of the message.created events, in order. */
const messageEventIds = async (s: TestServer) =>
  ((await raw(s.db).all("select id from events where type = 'message.created' order by id")) as { id: number }[]).map((r) => r.id);

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Each id at most as a run of redeliveries of the same webhook-id, runs in increasing order. */
function expectInOrderOnce(received: Received[], expected: number[]) {
  const runs: number[] = [];
  for (const r of received) {
    expect(r.id).toBe(String(r.eventId));
    if (runs[runs.length - 1] !== r.eventId) runs.push(r.eventId ?? -1);
  }
  expect(runs).toEqual(expected);
}

describe('outbound webhooks', () => {
  it('deliver every wanted event signed and in order; a receiver killed mid-stream gets the rest once it is back', async () => {
    const { s, admin } = await start({ webhooks: { retryDelaysMs: [100, 200, 400, 800, 1600, 3200, 6400] } });
    let receiver = await startReceiver();
    const { endpoint, secret } = await createEndpoint(s, admin, receiver.url);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    receiver.state.secret = secret;
    const port = receiver.port;

    await inbound(s, 5);
    await until(() => receiver.received.length >= 5, 10_000, 'the first five');
    // Killed: the next deliveries fail (connection refused) and are retried with backoff.
    const before = [...receiver.received];
    await receiver.close();
    await inbound(s, 5);
    await until(
      async () => ((await raw(s.db).get("select count(*) as n from webhook_deliveries where status = 'failed'")) as { n: number }).n >= 1,
      10_000,
      'a failed attempt',
    );
    receiver = await startReceiver({ port });
    receiver.state.secret = secret;
    await inbound(s, 2);
    const all = await messageEventIds(s);
    expect(all).toHaveLength(12);
    await until(() => new Set(receiver.received.map((r) => r.id)).size === 7, 20_000, 'the rest after the restart');

    const everything = [...before, ...receiver.received];
    expect(receiver.invalid).toEqual([]);
    expectInOrderOnce(everything, all);
    // Every delivery names its event and carries the standard headers and payload.
    const first = JSON.parse(everything[0]?.body ?? '{}') as { type: string; data: { message: { text: string } }; timestamp: string };
    expect(first.type).toBe('message.created');
    expect(first.data.message.text).toBe('hello 0');
    expect(everything[0]?.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+$/);

    // The page's view: the latest deliveries with status, code, the answer's first bytes, latency.
    const d = await call(s, 'webhookEndpoint.deliveries', { id: endpoint.id }, admin, 'GET');
    const items = (d.body.result?.data as { items: WebhookDeliveryDto[] }).items;
    expect(items[0]).toMatchObject({
      status: 'succeeded',
      responseStatus: 200,
      responseExcerpt: 'ok thanks',
      eventType: 'message.created',
    });
    expect(items.some((i) => i.status === 'failed' && i.responseStatus === null && i.attempt === 1)).toBe(true);
    const list = await call(s, 'webhookEndpoint.list', undefined, admin, 'GET');
    expect((list.body.result?.data as WebhookEndpointDto[])[0]).toMatchObject({ lastEventId: all[11], failures: 0, enabled: true });
  });

  it('resume from the durable cursor after Parley restarts, and sign with both secrets during a rotation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-webhooks-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const receiver = await startReceiver();
    let { s, admin } = await start({}, dir);
    const { endpoint, secret } = await createEndpoint(s, admin, receiver.url);
    receiver.state.secret = secret;
    await inbound(s, 3);
    await until(() => receiver.received.length === 3, 10_000, 'three');
    await s.dispose();
    cleanups.pop();

    ({ s, admin } = await start({}, dir));
    await inbound(s, 3);
    await until(() => receiver.received.length >= 6, 10_000, 'six');
    expectInOrderOnce(receiver.received, await messageEventIds(s));

    const rotated = await call(s, 'webhookEndpoint.rotateSecret', { id: endpoint.id }, admin);
    const fresh = (rotated.body.result?.data as { secret: string }).secret;
    expect(fresh).not.toBe(secret);
    await inbound(s, 1);
    await until(() => receiver.received.length >= 7, 10_000, 'the seventh');
    const last = receiver.received[receiver.received.length - 1];
    expect(String(last?.headers['webhook-signature']).split(' ')).toHaveLength(2);
    // Either secret verifies it during the overlap.
    for (const key of [secret, fresh])
      expect(() => new Webhook(key).verify(last?.body ?? '', last?.headers as Record<string, string>)).not.toThrow();

    // No secret is ever read back, nor kept in the clear (in the database, or the log).
    const list = await call(s, 'webhookEndpoint.list', undefined, admin, 'GET');
    expect(JSON.stringify(list.body)).not.toContain(secret.slice(6, 20));
    const stored =
      JSON.stringify(await raw(s.db).all('select * from webhook_endpoints')) +
      (TEST_DB === 'sqlite'
        ? readFileSync(join(dir, 'parley.db')).toString('latin1') + readFileSync(join(dir, 'parley.db-wal')).toString('latin1')
        : '');
    expect(stored).not.toContain(fresh.slice(6, 30));
    expect(stored).not.toContain(secret.slice(6, 30));
  });

  it('replay from an event id re-sends exactly the wanted events from it on', async () => {
    const { s, admin } = await start();
    const receiver = await startReceiver();
    const { endpoint, secret } = await createEndpoint(s, admin, receiver.url);
    receiver.state.secret = secret;
    await inbound(s, 6);
    const ids = await messageEventIds(s);
    await until(() => receiver.received.length === 6, 10_000, 'six');
    const from = ids[3] as number;
    const r = await call(s, 'webhookEndpoint.replay', { id: endpoint.id, fromEventId: from }, admin);
    expect(r.status).toBe(200);
    await until(() => receiver.received.length === 9, 10_000, 'the replay');
    await new Promise((res) => setTimeout(res, 300));
    expect(receiver.received.slice(6).map((x) => x.eventId)).toEqual(ids.slice(3));
    expect(receiver.received).toHaveLength(9);
    const audit = (await raw(s.db).all("select detail from audit_log where action = 'webhook_endpoint.replayed'")) as {
      detail: string;
    }[];
    expect(audit.map((a) => JSON.parse(a.detail))).toEqual([{ fromEventId: from }]);
    const bad = await call(s, 'webhookEndpoint.replay', { id: endpoint.id, fromEventId: 10_000 }, admin);
    expect(bad.status).toBe(400);
  });

  it('disable an endpoint that answers 500 forever after 8 attempts, without delaying another endpoint', async () => {
    const { s, admin } = await start({ webhooks: { retryDelaysMs: [0, 0, 0, 0, 0, 0, 0] } });
    const failing = await startReceiver({ answer: () => 500 });
    const healthy = await startReceiver();
    const a = await createEndpoint(s, admin, failing.url);
    failing.state.secret = a.secret;
    const b = await createEndpoint(s, admin, healthy.url);
    healthy.state.secret = b.secret;
    await inbound(s, 10);
    await until(() => healthy.received.length === 10, 10_000, 'the healthy endpoint');
    expectInOrderOnce(healthy.received, await messageEventIds(s));
    await until(
      async () =>
        ((await raw(s.db).get('select enabled from webhook_endpoints where id = ?', a.endpoint.id)) as { enabled: number }).enabled === 0,
      10_000,
      'the failing endpoint to be disabled',
    );
    // Exactly the documented attempts, all of the first event (same webhook-id), then nothing more.
    await new Promise((res) => setTimeout(res, 300));
    expect(failing.received).toHaveLength(8);
    expect(new Set(failing.received.map((r) => r.id)).size).toBe(1);
    const list = (await call(s, 'webhookEndpoint.list', undefined, admin, 'GET')).body.result?.data as WebhookEndpointDto[];
    const disabled = list.find((e) => e.id === a.endpoint.id);
    expect(disabled?.enabled).toBe(false);
    expect(disabled?.disabledReason).toMatch(/after 8 failed attempts.*HTTP 500/);
    const audit = await raw(s.db).all("select agent_id, via, target_id from audit_log where action = 'webhook_endpoint.disabled'");
    expect(audit).toEqual([{ agent_id: null, via: 'system', target_id: String(a.endpoint.id) }]);

    // Enabled again it resumes with the event that kept failing, which now lands.
    const ok = await startReceiver();
    ok.state.secret = a.secret;
    await call(s, 'webhookEndpoint.update', { id: a.endpoint.id, url: ok.url, enabled: true }, admin);
    await until(() => ok.received.length === 10, 10_000, 'all ten after re-enabling');
    expectInOrderOnce(ok.received, await messageEventIds(s));
  });

  it('a receiver that never answers holds up only itself', async () => {
    const { s, admin } = await start({ webhooks: { timeoutMs: 60_000 } });
    const stuck = await startReceiver({ answer: () => 'hang' });
    const healthy = await startReceiver();
    const a = await createEndpoint(s, admin, stuck.url);
    stuck.state.secret = a.secret;
    const b = await createEndpoint(s, admin, healthy.url);
    healthy.state.secret = b.secret;
    const t0 = Date.now();
    await inbound(s, 10);
    await until(() => healthy.received.length === 10, 20_000, 'the healthy endpoint');
    // Webhooks were answered and the healthy receiver got everything while the first request still hangs.
    expect(stuck.received).toHaveLength(1);
    expect(Date.now() - t0).toBeLessThan(60_000);
    const health = await fetch(`${s.url}/healthz`);
    expect(health.status).toBe(200);
  });

  it("an admin's change while a request is in flight lets it finish: no needless redelivery", async () => {
    const { s, admin } = await start();
    let hold = true;
    const receiver = await startReceiver({ answer: () => (hold ? 'hang' : 200) });
    const { endpoint, secret } = await createEndpoint(s, admin, receiver.url);
    receiver.state.secret = secret;
    await inbound(s, 3);
    await until(() => receiver.hanging.size === 1, 10_000, 'the first request to be held');
    const r = await call(s, 'webhookEndpoint.update', { id: endpoint.id, events: ['message.created', 'contact.updated'] }, admin);
    expect(r.status).toBe(200);
    hold = false;
    receiver.release();
    await until(() => receiver.received.length >= 3, 10_000, 'the three');
    await new Promise((res) => setTimeout(res, 300));
    expectInOrderOnce(receiver.received, await messageEventIds(s));
    expect(receiver.received).toHaveLength(3);
  });

  it('send a test event on demand, and keep endpoints to admins', async () => {
    const { s, admin } = await start();
    const receiver = await startReceiver();
    const { endpoint, secret } = await createEndpoint(s, admin, receiver.url);
    receiver.state.secret = secret;
    const t = await call(s, 'webhookEndpoint.sendTest', { id: endpoint.id }, admin);
    expect(t.body.result?.data).toMatchObject({ status: 'succeeded', responseStatus: 200, eventType: 'webhook.test', eventId: null });
    expect(receiver.received[0]?.type).toBe('webhook.test');
    expect(receiver.received[0]?.id).toMatch(/^test_/);

    const invite = await call(s, 'agent.invite', { email: 'ann@parley.test', name: 'Ann', role: 'agent' }, admin);
    const token = new URL((invite.body.result?.data as { inviteUrl: string }).inviteUrl).hash.replace('#token=', '');
    const ann = (await call(s, 'auth.acceptInvite', { token, password: 'ann-password-1' }, '')).cookie ?? '';
    expect((await call(s, 'webhookEndpoint.list', undefined, ann, 'GET')).status).toBe(403);
    expect((await call(s, 'webhookEndpoint.create', { url: receiver.url, events: ['message.created'] }, ann)).status).toBe(403);

    const del = await call(s, 'webhookEndpoint.delete', { id: endpoint.id }, admin);
    expect(del.status).toBe(200);
    const actions = (
      (await raw(s.db).all("select action from audit_log where action like 'webhook_endpoint.%' order by id")) as { action: string }[]
    ).map((r) => r.action);
    expect(actions).toEqual(['webhook_endpoint.created', 'webhook_endpoint.deleted']);
  });
});

describe('no server-side request forgery', () => {
  const names: Record<string, string[]> = {
    'private.test': ['10.1.2.3'],
    'linklocal.test': ['169.254.169.254'],
    'cgnat.test': ['100.64.0.9'],
    'mapped.test': ['::ffff:192.168.0.1'],
    'multicast.test': ['224.0.0.1'],
    'ula.test': ['fd00::1'],
    'loop.test': ['127.0.0.1'],
    'mixed.test': ['93.184.216.34', '10.0.0.1'],
    'public.test': ['93.184.216.34'],
  };
  const stubResolve: Resolve = async (host) => {
    const list = names[host];
    if (!list) throw new Error('ENOTFOUND');
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

  it('classifies addresses with ipaddr.js', () => {
    const guard = { allowLoopback: false };
    for (const a of [
      '10.0.0.1',
      '172.16.5.5',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '127.0.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      'fe80::1',
      'fd12::1',
      'ff02::1',
      '::ffff:10.0.0.1',
      '::ffff:127.0.0.1',
      '::7f00:1',
      '64:ff9b::a00:1',
      '2002:a00:1::1',
    ]) {
      expect(refusalOf(a, guard), a).not.toBeNull();
    }
    for (const a of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946']) expect(refusalOf(a, guard), a).toBeNull();
    expect(refusalOf('127.0.0.1', { allowLoopback: true })).toBeNull();
  });

  it('refuses bad schemes and internal names at validation time', async () => {
    const guard = { allowLoopback: false, resolve: stubResolve };
    expect(() => parseTarget('http://public.test/x', guard)).toThrow(/https/);
    expect(() => parseTarget('ftp://public.test/x', guard)).toThrow(/https/);
    expect(() => parseTarget('https://user:pw@public.test/x', guard)).toThrow(/password/);
    for (const host of [
      'private.test',
      'linklocal.test',
      'cgnat.test',
      'mapped.test',
      'multicast.test',
      'ula.test',
      'loop.test',
      'mixed.test',
      'nowhere.test',
    ]) {
      await expect(checkTarget(parseTarget(`https://${host}/hook`, guard), guard), host).rejects.toThrow(
        /not a public address|does not resolve/,
      );
    }
    await expect(checkTarget(parseTarget('https://[::ffff:7f00:1]/x', guard), guard)).rejects.toThrow(/not a public/);
    await expect(checkTarget(parseTarget('https://0x7f.1/x', guard), guard)).rejects.toThrow(/loopback/);
    await expect(checkTarget(parseTarget('https://public.test/x', guard), guard)).resolves.toEqual({ address: '93.184.216.34', family: 4 });
    // http:// only to loopback, even with the flag.
    const allowed = { allowLoopback: true, resolve: stubResolve };
    await expect(checkTarget(parseTarget('http://public.test/x', allowed), allowed)).rejects.toThrow(/only to loopback/);
    await expect(checkTarget(parseTarget('http://loop.test/x', allowed), allowed)).resolves.toMatchObject({ address: '127.0.0.1' });
  });

  it('webhookEndpoint.create refuses them with a reason, and a name that rebinds is refused before connecting', async () => {
    let resolutions = 0;
    const rebinding: Resolve = async (host) => {
      if (host === 'rebind.test') return [{ address: resolutions++ === 0 ? '93.184.216.34' : '10.0.0.7', family: 4 }];
      return stubResolve(host);
    };
    const connects: string[] = [];
    const post: Post = async (req) => {
      connects.push(req.pinned.address);
      return { status: 200, excerpt: '' };
    };
    const s = await startTestServer({}, undefined, { webhooks: { resolve: rebinding, post, retryDelaysMs: [0] } });
    cleanups.push(() => s.dispose());
    const admin = (await trpcCall(s.url, 'auth.login', ADMIN, '')).cookie ?? '';
    for (const url of [
      'https://private.test/x',
      'https://linklocal.test/',
      'https://mapped.test/',
      'http://127.0.0.1:9/x',
      'https://127.0.0.1/x',
      'https://[::1]/x',
      'https://nowhere.test/',
    ]) {
      const r = await call(s, 'webhookEndpoint.create', { url, events: ['message.created'] }, admin);
      expect(r.status, url).toBe(400);
      expect(r.body.error?.message, url).toMatch(/^url: /);
    }
    const created = await createEndpoint(s, admin, 'https://rebind.test/hook');
    await inbound(s, 1);
    await until(
      async () =>
        ((await raw(s.db).get('select enabled from webhook_endpoints where id = ?', created.endpoint.id)) as { enabled: number })
          .enabled === 0,
      10_000,
      'the endpoint to be disabled',
    );
    const errors = ((await raw(s.db).all('select error from webhook_deliveries')) as { error: string }[]).map((r) => r.error);
    expect(errors).toHaveLength(2);
    for (const e of errors) expect(e).toMatch(/^refused: rebind\.test resolves to 10\.0\.0\.7/);
    expect(connects).toEqual([]);
    // The same exchange connects to the checked, public address (pinned) when the name stays put.
    const ok = await call(s, 'webhookEndpoint.create', { url: 'https://public.test/hook', events: ['message.created'] }, admin);
    const id = (ok.body.result?.data as { endpoint: { id: number } }).endpoint.id;
    await call(s, 'webhookEndpoint.sendTest', { id }, admin);
    expect(connects).toEqual(['93.184.216.34']);
  });
});
