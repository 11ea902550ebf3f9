import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { testConfig } from '../config';
import { inboundPayload, startTestServer, type TestServer } from '../testing/harness';
import { signVonageWebhook } from '../providers/vonage/sign';
import { signPlivoV3 } from '../providers/plivo/signature';
import { signSinchWebhook } from '../providers/sinch/signature';
import { TEST_ADMIN } from '../config';
import { raw } from '../testing/raw';

/**
 * Refused-webhook review and replay (issue 15, item 2), over real HTTP against real servers: refusals
 * under a wrong secret are kept; a server restarted on the same database with the right secret replays
 * them through the providers' own live handlers, once.
 */
const ADMIN = TEST_ADMIN;
const RIGHT = { vonage: 'right-vonage-secret', plivo: 'right-plivo-token', sinch: 'right-sinch-secret' };
const WRONG = { vonage: 'wrong-vonage-secret', plivo: 'wrong-plivo-token', sinch: 'wrong-sinch-secret' };
const VONAGE_NUMBER = '447700900000';
const PLIVO_NUMBER = '14155550100';
const SINCH_NUMBER = '14155550142';

const base = testConfig({ databasePath: ':memory:' });
const dirs: string[] = [];
const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.dispose();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(dir: string, secrets: typeof RIGHT, port = 0): Promise<TestServer> {
  const s = await startTestServer(
    {
      port,
      vonage: { ...base.vonage, signatureSecret: secrets.vonage },
      plivo: { ...base.plivo, authToken: secrets.plivo },
      sinch: { ...base.sinch, webhookSecret: secrets.sinch },
    },
    dir,
    { worker: false },
  );
  servers.push(s);
  // A restart on the same address: the client may still pool a socket to the server that stopped;
  // the first request on it fails ("other side closed") and drops it. Settle that before the test's own requests.
  for (let i = 0; i < 5; i++)
    if (
      await fetch(`${s.url}/healthz`).then(
        () => true,
        () => false,
      )
    )
      break;
  return s;
}

async function stop(s: TestServer): Promise<void> {
  servers.splice(servers.indexOf(s), 1);
  await s.dispose();
}

type Json = { result?: { data: unknown }; error?: { message: string; data: { code: string; httpStatus: number } } };
async function trpc<T>(
  s: TestServer,
  path: string,
  input: unknown,
  cookie: string,
  method: 'GET' | 'POST' = 'GET',
): Promise<{ status: number; data: T; body: Json }> {
  const url = `${s.url}/trpc/${path}`;
  const headers = { 'content-type': 'application/json', cookie };
  const res =
    method === 'GET'
      ? await fetch(input === undefined ? url : `${url}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers })
      : await fetch(url, { method: 'POST', headers, body: JSON.stringify(input) });
  const body = (await res.json()) as Json;
  return { status: res.status, data: body.result?.data as T, body };
}

async function signIn(s: TestServer, who = ADMIN): Promise<string> {
  const res = await fetch(`${s.url}/trpc/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(who),
  });
  expect(res.status).toBe(200);
  return res.headers.get('set-cookie')?.split(';')[0] ?? '';
}

/** Plays Vonage: an inbound signed with the secret Vonage really has. */
async function vonageInbound(s: TestServer, secret: string, over: Record<string, unknown> = {}, iat?: number) {
  const raw = JSON.stringify(inboundPayload({ to: VONAGE_NUMBER, ...over }));
  const authorization = await signVonageWebhook(raw, secret, iat !== undefined ? { iat } : {});
  return fetch(`${s.url}/webhooks/inbound`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: raw });
}

/** Plays Plivo: a V3-signed inbound form to /webhooks/plivo/inbound. */
async function plivoInbound(s: TestServer, token: string, uuid = randomUUID()) {
  const fields: [string, string][] = [
    ['From', '14155550123'],
    ['To', PLIVO_NUMBER],
    ['Text', 'plivo hello'],
    ['Type', 'sms'],
    ['MessageUUID', uuid],
    ['Units', '1'],
  ];
  const nonce = String(Math.floor(Math.random() * 1e12));
  const url = `${s.url}/webhooks/plivo/inbound`;
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-plivo-signature-v3': signPlivoV3({ url, params: fields, nonce, authToken: token }),
      'x-plivo-signature-v3-nonce': nonce,
    },
    body: new URLSearchParams(fields).toString(),
  });
}

/** Plays Sinch: an HMAC-signed mo_text; `raw`/`headers` given: the same request again (a retry, or a captured replay). */
function sinchRequest(secret: string, id = randomUUID()): { raw: string; headers: Record<string, string> } {
  const raw = JSON.stringify({
    type: 'mo_text',
    id,
    from: '14155550199',
    to: SINCH_NUMBER,
    body: 'sinch hello',
    received_at: new Date().toISOString(),
  });
  return { raw, headers: { 'content-type': 'application/json', ...signSinchWebhook({ rawBody: raw, secret }) } };
}
const post = (s: TestServer, path: string, r: { raw: string; headers: Record<string, string> }) =>
  fetch(`${s.url}${path}`, { method: 'POST', headers: r.headers, body: r.raw });

const inboundCount = async (s: TestServer): Promise<number> =>
  ((await raw(s.db).get("select count(*) as n from messages where direction = 'in'")) as { n: number }).n;

async function gauge(s: TestServer): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('parley_webhook_refusals_needing_review '));
  return Number(line?.split(' ')[1]);
}

type Item = {
  id: number;
  provider: string | null;
  outcome: string;
  reason: string | null;
  needsReview: boolean;
  replayOutcome: string | null;
  signatureOk: boolean;
  path: string;
  receivedAt: string;
};
type Replayed = { id: number; outcome: string; status: number | null; reason: string | null }[];

function newDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'parley-replay-'));
  dirs.push(d);
  return d;
}

describe('refused webhooks: review and replay', () => {
  it('20 Vonage inbounds refused under a wrong secret (and a Plivo and a Sinch one) are stored once by a replay after a restart with the right secrets', async () => {
    const dir = newDir();
    const a = await start(dir, WRONG);
    // Vonage, Plivo and Sinch sign with the secrets they really have; this server holds wrong ones.
    for (let i = 0; i < 20; i++) expect((await vonageInbound(a, RIGHT.vonage, { text: `lost ${i}` })).status).toBe(401);
    expect((await plivoInbound(a, RIGHT.plivo)).status).toBe(401);
    expect((await post(a, '/webhooks/sinch/inbound', sinchRequest(RIGHT.sinch))).status).toBe(401);
    expect(await inboundCount(a)).toBe(0);
    expect(await gauge(a)).toBe(22);
    const port = a.port;
    await stop(a);

    // Restart on the same database (and address: Plivo signs the URL it called) with the right secrets.
    const b = await start(dir, RIGHT, port);
    const admin = await signIn(b);
    expect(await gauge(b)).toBe(22);
    const summary = await trpc<{ needsReview: number; outcomes: { outcome: string; count: number }[] }>(
      b,
      'webhookLog.summary',
      undefined,
      admin,
    );
    expect(summary.data.needsReview).toBe(22);
    expect(summary.data.outcomes).toEqual([{ outcome: 'bad_signature', count: 22 }]);

    // The list: newest first, filterable by provider and outcome, a page at a time.
    const page = await trpc<{ items: Item[]; nextCursor: number | null }>(
      b,
      'webhookLog.list',
      { outcome: 'bad_signature', needsReview: true },
      admin,
    );
    expect(page.status).toBe(200);
    expect(page.data.items).toHaveLength(22);
    expect(page.data.items.map((i) => i.provider)).toEqual(['sinch', 'plivo', ...Array<string>(20).fill('vonage')]);
    expect(page.data.items.every((i) => i.needsReview && !i.signatureOk && i.replayOutcome === null)).toBe(true);
    expect(page.data.items[0]?.reason).toMatch(/signature does not match/);
    const vonageOnly = await trpc<{ items: Item[] }>(b, 'webhookLog.list', { provider: 'vonage' }, admin);
    expect(vonageOnly.data.items).toHaveLength(20);
    expect(vonageOnly.data.items.every((i) => i.path === '/inbound' && i.reason?.includes('signature does not verify'))).toBe(true);

    // Replay all matching (the ids of the filter), in one call.
    const ids = await trpc<{ ids: number[] }>(b, 'webhookLog.matchingIds', { needsReview: true }, admin);
    expect(ids.data.ids).toHaveLength(22);
    const first = await trpc<Replayed>(b, 'webhookLog.replay', { ids: ids.data.ids }, admin, 'POST');
    expect(first.status).toBe(200);
    expect(first.data.map((r) => r.outcome)).toEqual(Array<string>(22).fill('stored'));
    expect(await inboundCount(b)).toBe(22);
    const texts = ((await raw(b.db).all("select text from messages where direction = 'in' order by id")) as { text: string }[]).map(
      (r) => r.text,
    );
    expect(texts).toEqual(expect.arrayContaining(['lost 0', 'lost 19', 'plivo hello', 'sinch hello']));

    // Settled: the gauge and the banner's count go down; the list shows each replay's outcome.
    expect(await gauge(b)).toBe(0);
    expect((await trpc<{ needsReview: number }>(b, 'webhookLog.summary', undefined, admin)).data.needsReview).toBe(0);
    const after = await trpc<{ items: Item[] }>(b, 'webhookLog.list', {}, admin);
    expect(after.data.items.every((i) => !i.needsReview && i.replayOutcome === 'stored')).toBe(true);
    expect((await trpc<{ items: Item[] }>(b, 'webhookLog.list', { needsReview: true }, admin)).data.items).toHaveLength(0);

    // Again: nothing more is stored.
    const again = await trpc<Replayed>(b, 'webhookLog.replay', { ids: ids.data.ids }, admin, 'POST');
    expect(again.data.map((r) => r.outcome)).toEqual(Array<string>(22).fill('duplicate'));
    expect(await inboundCount(b)).toBe(22);
    expect(await gauge(b)).toBe(0);

    // Audited: one entry per call, with the count and the ids.
    const audit = (await raw(b.db).all(
      "select agent_id, via, detail from audit_log where action = 'webhook_log.replayed' order by id",
    )) as { agent_id: number; via: string; detail: string }[];
    expect(audit).toHaveLength(2);
    expect(audit[0]?.via).toBe('session');
    expect(JSON.parse(audit[0]?.detail ?? '{}')).toMatchObject({ count: 22, ids: ids.data.ids, outcomes: { stored: 22 } });
  });

  it('a replay under a still-wrong secret stays refused (and still needs review); the raw view never carries a signature', async () => {
    const s = await start(newDir(), WRONG);
    expect((await vonageInbound(s, RIGHT.vonage, { text: 'still lost' })).status).toBe(401);
    const admin = await signIn(s);
    const [row] = (await trpc<{ items: Item[] }>(s, 'webhookLog.list', {}, admin)).data.items;
    if (!row) throw new Error('no row');
    const replayed = await trpc<Replayed>(s, 'webhookLog.replay', { ids: [row.id, 999_999] }, admin, 'POST');
    expect(replayed.data).toEqual([
      { id: row.id, outcome: 'bad_signature', status: 401, reason: expect.stringMatching(/signature does not verify/) },
      { id: 999_999, outcome: 'not_found', status: null, reason: expect.any(String) },
    ]);
    expect(await inboundCount(s)).toBe(0);
    expect(await gauge(s)).toBe(1);

    const raw = await trpc<{
      headers: Record<string, string>;
      rawBody: string;
      bodyComplete: boolean;
      replayOutcome: string;
      needsReview: boolean;
    }>(s, 'webhookLog.get', { id: row.id }, admin);
    expect(raw.data.rawBody).toContain('still lost');
    expect(raw.data.bodyComplete).toBe(true);
    expect(raw.data.replayOutcome).toBe('bad_signature');
    expect(raw.data.needsReview).toBe(true);
    expect(raw.data.headers.authorization).toMatch(/^\[redacted: \d+ chars\]$/);
    expect(JSON.stringify(raw.body)).not.toContain('Bearer');
    expect(JSON.stringify(raw.body)).not.toContain('signatureHeaders');

    // Dismissed: no longer needs review.
    const dismissed = await trpc<{ dismissed: number }>(s, 'webhookLog.dismiss', { ids: [row.id] }, admin, 'POST');
    expect(dismissed.data.dismissed).toBe(1);
    expect(await gauge(s)).toBe(0);
  });

  it('the signature age is judged as of the original receipt: an old refusal replays, a token too old at receipt stays refused', async () => {
    const dir = newDir();
    const a = await start(dir, WRONG);
    const nowS = Math.floor(Date.now() / 1000);
    expect((await vonageInbound(a, RIGHT.vonage, { text: 'fresh at receipt' })).status).toBe(401);
    // Already too old when it arrived (WEBHOOK_MAX_AGE_SECONDS before its receipt, and more).
    expect((await vonageInbound(a, RIGHT.vonage, { text: 'stale at receipt' }, nowS - base.webhookMaxAgeSeconds - 600)).status).toBe(401);
    const port = a.port;
    await stop(a);
    const b = await start(dir, RIGHT, port);
    const rows = (await raw(b.db).all('select id, raw_body from webhook_log order by id')) as { id: number; raw_body: string }[];
    expect(rows).toHaveLength(2);
    const [fresh, stale] = rows;
    if (!fresh || !stale) throw new Error('rows missing');
    // The first is reviewed two days after it came: its receipt moved back, and it re-signed as Vonage
    // did then (iat then), with the exact body.
    const shift = 2 * 24 * 3600;
    await raw(b.db).run('update webhook_log set received_at = received_at - ? where id = ?', shift * 1000, fresh.id);
    const authorization = await signVonageWebhook(fresh.raw_body, RIGHT.vonage, { iat: nowS - shift });
    await raw(b.db).run('update webhook_log set signature_headers = ? where id = ?', JSON.stringify({ authorization }), fresh.id);
    // Posted live now, that token is refused as too old…
    const live = await fetch(`${b.url}/webhooks/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: fresh.raw_body,
    });
    expect(live.status).toBe(401);
    expect(((await live.json()) as { error: string }).error).toMatch(/too old/);

    const admin = await signIn(b);
    const replayed = await trpc<Replayed>(b, 'webhookLog.replay', { ids: [fresh.id, stale.id] }, admin, 'POST');
    expect(replayed.data.map((r) => [r.outcome, r.reason])).toEqual([
      ['stored', null],
      ['bad_signature', 'iat is too old'],
    ]);
    expect(await inboundCount(b)).toBe(1);
  });

  it('nonces are judged as of receipt: a refusal whose request a retry later stored replays as duplicate; a captured replay stays refused', async () => {
    const dir = newDir();
    const a = await start(dir, WRONG);
    const retried = sinchRequest(RIGHT.sinch);
    expect((await post(a, '/webhooks/sinch/inbound', retried)).status).toBe(401);
    const port = a.port;
    await stop(a);
    const b = await start(dir, RIGHT, port);
    // Sinch retries the very same request (same nonce) once the secret is fixed: stored live.
    expect((await post(b, '/webhooks/sinch/inbound', retried)).status).toBe(200);
    expect(await inboundCount(b)).toBe(1);
    // Someone posts a captured, already-accepted request again: refused live (nonce used) and kept.
    const captured = sinchRequest(RIGHT.sinch);
    expect((await post(b, '/webhooks/sinch/inbound', captured)).status).toBe(200);
    const again = await post(b, '/webhooks/sinch/inbound', captured);
    expect(again.status).toBe(401);
    expect(((await again.json()) as { error: string }).error).toMatch(/nonce already used/);

    const admin = await signIn(b);
    const items = (await trpc<{ items: Item[] }>(b, 'webhookLog.list', { provider: 'sinch', needsReview: true }, admin)).data.items;
    expect(items).toHaveLength(2);
    const replayed = await trpc<Replayed>(b, 'webhookLog.replay', { ids: items.map((i) => i.id) }, admin, 'POST');
    // Newest first: the captured replay (its nonce was used before it arrived) stays refused; the refusal a retry settled is a duplicate.
    expect(replayed.data.map((r) => [r.outcome, r.reason])).toEqual([
      ['bad_signature', 'replayed callback (nonce already used)'],
      ['duplicate', null],
    ]);
    expect(await inboundCount(b)).toBe(2);
    expect(await gauge(b)).toBe(1);
  });

  it('a refusal of which only an excerpt was kept is not replayed (nothing half-stored)', async () => {
    const dir = newDir();
    const a = await start(dir, WRONG);
    expect((await vonageInbound(a, RIGHT.vonage, { text: 'x'.repeat(3000) })).status).toBe(401);
    const port = a.port;
    await stop(a);
    const b = await start(dir, RIGHT, port);
    const admin = await signIn(b);
    const [row] = (await trpc<{ items: Item[] }>(b, 'webhookLog.list', {}, admin)).data.items;
    if (!row) throw new Error('no row');
    expect((await trpc<{ bodyComplete: boolean }>(b, 'webhookLog.get', { id: row.id }, admin)).data.bodyComplete).toBe(false);
    const replayed = await trpc<Replayed>(b, 'webhookLog.replay', { ids: [row.id] }, admin, 'POST');
    expect(replayed.data).toEqual([{ id: row.id, outcome: 'not_replayable', status: null, reason: expect.stringMatching(/excerpt/) }]);
    expect(await inboundCount(b)).toBe(0);
    expect(await gauge(b)).toBe(1);
  });

  it('is for admins only: an agent and a signed-out caller are refused', async () => {
    const s = await start(newDir(), WRONG);
    expect((await vonageInbound(s, RIGHT.vonage)).status).toBe(401);
    const admin = await signIn(s);
    const inv = await trpc<{ inviteUrl: string }>(
      s,
      'agent.invite',
      { email: 'agent@parley.test', name: 'Agent', role: 'agent' },
      admin,
      'POST',
    );
    const token = new URL(inv.data.inviteUrl).hash.replace(/^#token=/, '');
    const accepted = await fetch(`${s.url}/trpc/auth.acceptInvite`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, password: 'correct horse battery' }),
    });
    expect(accepted.status).toBe(200);
    const agent = accepted.headers.get('set-cookie')?.split(';')[0] ?? '';
    expect(agent).not.toBe('');
    const id = (await trpc<{ items: Item[] }>(s, 'webhookLog.list', {}, admin)).data.items[0]?.id ?? 0;
    for (const cookie of [agent, '']) {
      const want = cookie === '' ? 401 : 403;
      expect((await trpc(s, 'webhookLog.list', {}, cookie)).status).toBe(want);
      expect((await trpc(s, 'webhookLog.get', { id }, cookie)).status).toBe(want);
      expect((await trpc(s, 'webhookLog.summary', undefined, cookie)).status).toBe(want);
      expect((await trpc(s, 'webhookLog.replay', { ids: [id] }, cookie, 'POST')).status).toBe(want);
      expect((await trpc(s, 'webhookLog.dismiss', { ids: [id] }, cookie, 'POST')).status).toBe(want);
    }
    // Nothing was replayed or dismissed by them.
    const row = (await raw(s.db).get('select replayed_at, dismissed_at from webhook_log where id = ?', id)) as {
      replayed_at: number | null;
      dismissed_at: number | null;
    };
    expect(row).toEqual({ replayed_at: null, dismissed_at: null });
  });
});
