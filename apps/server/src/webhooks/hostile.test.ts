/**
 * Hostile webhook traffic against a real server (issue 18: 2, 5, 6, 10): the refusal log stays bounded
 * and holds no credentials, /healthz tells a database that cannot be written, nothing addressed to a
 * number that is not ours creates or sends anything, automatic replies are rationed, Plivo's V2
 * headers cannot be replayed with a forged body, and a Sinch callback that failed can be retried.
 */
import { createHash, randomUUID } from 'node:crypto';
import { statSync, existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { inboundPayload, startTestServer, type TestServer } from '../testing/harness';
import { keptSecret } from '../secrets';
import type { OutboundSms, SmsProvider } from '../providers/types';
import { testConfig, type Config } from '../config';
import { signPlivoV2, signPlivoV3 } from '../providers/plivo/signature';
import { signSinchWebhook } from '../providers/sinch/signature';
import { raw } from '../testing/raw';
import { itSqlite, TEST_DB } from '../testing/temp-db';

let s: TestServer | undefined;
/** The server the running test started. */
const srv = (): TestServer => {
  if (!s) throw new Error('no server started');
  return s;
};
afterEach(async () => {
  await s?.dispose();
  s = undefined;
});

type Row = {
  id: number;
  path: string;
  signature_ok: number;
  headers: string;
  signature_headers: string | null;
  raw_body: string;
  body_sha256: string | null;
  body_bytes: number | null;
  outcome: string;
  received_at: number;
};
const logRows = async (t: TestServer) => (await raw(t.db).all('select * from webhook_log order by id')) as Row[];
const countOf = async (t: TestServer, table: string) => ((await raw(t.db).get(`select count(*) as n from ${table}`)) as { n: number }).n;
const fileBytes = (path: string) => (existsSync(path) ? statSync(path).size : 0);

/** A provider that records every send (none may happen for forged traffic). */
function recordingProvider(name: string): SmsProvider & { sent: OutboundSms[] } {
  const sent: OutboundSms[] = [];
  return {
    name,
    sent,
    send: async (msg) => {
      sent.push(msg);
      return { providerMessageId: randomUUID() };
    },
  };
}

const limits = (over: Partial<Config['webhookLog']>): Config['webhookLog'] => ({
  excerptBytes: 2048,
  perSourcePerMinute: 100_000,
  maxRows: 10_000,
  maxBytes: 64 * 1024 * 1024,
  retentionMs: 30 * 24 * 3600 * 1000,
  ...over,
});

const unsigned = (t: TestServer, body: string, headers: Record<string, string> = {}) =>
  fetch(`${t.url}/webhooks/inbound`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('the refusal log is bounded', () => {
  it('300 unsigned 60 KB posts: every one refused, the table held under its cap, each kept as a 2 KB excerpt + SHA-256', async () => {
    s = await startTestServer({ webhookLog: limits({ maxRows: 50 }) });
    const dbPath = s.config.databasePath;
    const big = JSON.stringify({ junk: 'x'.repeat(60_000) });
    const sqlite = TEST_DB === 'sqlite';
    if (sqlite) s.db.$client.pragma('wal_checkpoint(TRUNCATE)');
    const before = sqlite ? fileBytes(dbPath) + fileBytes(`${dbPath}-wal`) : 0;
    for (let i = 0; i < 300; i += 20) {
      const answers = await Promise.all(Array.from({ length: 20 }, () => unsigned(s as TestServer, big)));
      for (const a of answers) expect(a.status).toBe(503);
    }
    const rows = await logRows(s);
    expect(rows.length).toBeLessThanOrEqual(50);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.signature_ok).toBe(0);
      expect(Buffer.byteLength(r.raw_body)).toBeLessThanOrEqual(2048);
      expect(r.body_bytes).toBe(Buffer.byteLength(big));
      expect(r.body_sha256).toBe(createHash('sha256').update(big).digest('hex'));
    }
    // Kept whole, 300 × 60 KB would be ~18 MB; bounded, the database grows by well under 2 MB
    // (measured after a checkpoint: the WAL itself is bounded by SQLite's autocheckpoint, ~4 MB).
    // (PostgreSQL: the table's own size, indexes and TOAST included.)
    if (sqlite) s.db.$client.pragma('wal_checkpoint(TRUNCATE)');
    const grown = sqlite
      ? fileBytes(dbPath) + fileBytes(`${dbPath}-wal`) - before
      : ((await raw(s.db).get<{ n: number }>("select pg_total_relation_size('webhook_log') as n"))?.n ?? 0);
    expect(grown).toBeLessThan(2 * 1024 * 1024);
    // A genuine signed inbound still gets through.
    expect((await s.postWebhook('/webhooks/inbound', inboundPayload())).status).toBe(200);
  }, 60_000);

  it('refusals are stored at most N a minute per source: beyond it answered the same, counted, not stored', async () => {
    s = await startTestServer({ webhookLog: limits({ perSourcePerMinute: 5 }) });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => srv().postWebhook('/webhooks/inbound', inboundPayload(), { authorization: 'Bearer forged' })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(401));
    expect(await logRows(s)).toHaveLength(5);
    const health = (await (await fetch(`${s.url}/healthz`)).json()) as { webhookLog: { dropped: number; stored: number } };
    expect(health.webhookLog).toMatchObject({ dropped: 15, stored: 5 });
  });

  it('a byte cap holds the table under it (oldest unauthenticated rows go first; signed rows are kept whole)', async () => {
    s = await startTestServer({ webhookLog: limits({ maxBytes: 100_000 }) });
    // Signed but unparseable: authenticated, so kept whole for review and replay.
    const signedBad = '{"not json'.padEnd(8_000, 'y');
    const signed = await s.postWebhook('/webhooks/inbound', null, { raw: signedBad });
    expect(signed.status).toBe(400);
    for (let i = 0; i < 100; i++) expect((await unsigned(s, JSON.stringify({ pad: 'z'.repeat(9_000), i }))).status).toBe(503);
    const rows = await logRows(s);
    const total = rows.reduce((n, r) => n + Buffer.byteLength(r.raw_body) + Buffer.byteLength(r.headers), 0);
    expect(total).toBeLessThanOrEqual(100_000);
    const kept = rows.find((r) => r.signature_ok === 1);
    expect(kept?.raw_body).toBe(signedBad);
    expect(kept?.outcome).toBe('invalid_json');
  });

  it('an oversized body is refused 413 and kept as its headers only (never read, so no hash or length)', async () => {
    s = await startTestServer();
    const res = await unsigned(s, JSON.stringify({ pad: 'q'.repeat(200_000) }));
    expect(res.status).toBe(413);
    const [row] = await logRows(s);
    expect(row).toMatchObject({ outcome: 'too_large', raw_body: '', body_sha256: null, body_bytes: null, signature_ok: 0 });
  });

  it('rows past the retention are deleted', async () => {
    s = await startTestServer({ webhookLog: limits({ retentionMs: 24 * 3600 * 1000 }) });
    const old = Date.now() - 2 * 24 * 3600 * 1000;
    await raw(s.db).run(
      "with recursive n(i) as (select 1 union all select i + 1 from n where i < 1200) insert into webhook_log (path, received_at, signature_ok, headers, raw_body, http_status, outcome) select '/webhooks/inbound', ?, false, '{}', 'old', 401, 'bad_signature' from n",
      old,
    );
    // The first refusal after start prunes (and every minute after); batches of a few hundred, each on its own turn of the loop.
    expect((await unsigned(s, '{}')).status).toBe(503);
    await expect.poll(async () => (await logRows(srv())).length, { timeout: 5000 }).toBe(1);
    expect((await logRows(s))[0]?.raw_body).toBe('{}');
  });

  it('never stores credentials: Cookie is kept as its length only; signature headers are shown as their length, their value kept aside for replay', async () => {
    s = await startTestServer();
    // Authenticated (signature verified, body unparseable): kept whole, but without the bearer token.
    const auth = await s.postWebhook('/webhooks/inbound', null, { raw: '{oops' });
    expect(auth.status).toBe(400);
    // Unauthenticated, with a cookie and a Plivo-style signature header.
    const res = await unsigned(s, '{}', {
      cookie: 'parley_session=secret-session-value',
      'x-plivo-signature-v3': 'c2lnbmF0dXJl',
      'x-plivo-signature-v3-nonce': '12345',
    });
    expect(res.status).toBe(503);
    const [first, second] = await logRows(s);
    const h1 = JSON.parse(first?.headers ?? '{}') as Record<string, string>;
    expect(first?.signature_ok).toBe(1);
    expect(first?.raw_body).toBe('{oops');
    expect(h1.authorization).toMatch(/^\[redacted: \d+ chars\]$/);
    const h2 = JSON.parse(second?.headers ?? '{}') as Record<string, string>;
    expect(h2.cookie).toBe(`[redacted: ${'parley_session=secret-session-value'.length} chars]`);
    expect(h2['x-plivo-signature-v3']).toBe('[redacted: 12 chars]');
    expect(h2['x-plivo-signature-v3-nonce']).toBe('12345');
    const all = JSON.stringify(await logRows(s));
    expect(all).not.toContain('secret-session-value');
    // The per-request signatures (Vonage's JWT over this body, Plivo's HMAC) are kept in their own column,
    // which only a replay reads (never the review API): the headers column, which is shown, has none.
    expect(JSON.stringify((await logRows(s)).map((r) => r.headers))).not.toContain('Bearer ');
    const kept1 = JSON.parse(String(first?.signature_headers)) as Record<string, string>;
    expect(Object.keys(kept1)).toEqual(['authorization']);
    expect(kept1.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    const kept2 = JSON.parse(String(second?.signature_headers)) as Record<string, string>;
    expect(kept2).toEqual({ 'x-plivo-signature-v3': 'c2lnbmF0dXJl' });
  });
});

describe('/healthz tells a database that cannot be written', () => {
  itSqlite('answers 503 with a reason when writes fail (the connection turned read-only), 200 again once they work', async () => {
    s = await startTestServer({ healthProbeIntervalMs: 0 });
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    s.db.$client.pragma('query_only = ON');
    // The read-only check alone said "ok" here while every webhook got a 500.
    expect((await s.postWebhook('/webhooks/inbound', inboundPayload())).status).toBe(500);
    const res = await fetch(`${s.url}/healthz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { reason: string }).reason).toMatch(/database cannot be written/);
    s.db.$client.pragma('query_only = OFF');
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
  });

  itSqlite('answers 503 at once while another process holds the database locked for writing', async () => {
    s = await startTestServer({ healthProbeIntervalMs: 0 });
    const other = new Database(s.config.databasePath);
    try {
      other.exec('begin immediate');
      const started = performance.now();
      const res = await fetch(`${s.url}/healthz`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { reason: string }).reason).toMatch(/database cannot be written: database is locked/);
      // The connection's own busy timeout (seconds) is not waited out by the probe.
      expect(performance.now() - started).toBeLessThan(2000);
      other.exec('rollback');
      expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    } finally {
      other.close();
    }
  });

  it('answers 503 when the disk holding the database has less free space than HEALTH_MIN_FREE_BYTES', async () => {
    s = await startTestServer({ healthProbeIntervalMs: 0, healthMinFreeBytes: Number.MAX_SAFE_INTEGER });
    const res = await fetch(`${s.url}/healthz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { reason: string; diskFreeBytes: number };
    expect(body.reason).toMatch(/low disk space/);
    expect(body.diskFreeBytes).toBeGreaterThan(0);
  });

  it('probes at most once per interval: a burst of /healthz rewrites the probe row once', async () => {
    s = await startTestServer({ healthProbeIntervalMs: 60_000 });
    await fetch(`${s.url}/healthz`);
    const at = ((await raw(s.db).get('select checked_at from health_probe')) as { checked_at: number }).checked_at;
    await Promise.all(Array.from({ length: 20 }, () => fetch(`${srv().url}/healthz`)));
    expect(((await raw(s.db).get('select checked_at from health_probe')) as { checked_at: number }).checked_at).toBe(at);
  });
});

describe('an inbound to a number that is not ours', () => {
  it('Vonage, signed, to "MYBANK" with HELP: 200 not_our_number, kept in webhook_log, no conversation, no reply, no provider request', async () => {
    const provider = recordingProvider('vonage');
    s = await startTestServer({}, undefined, { providers: { vonage: provider } });
    const res = await s.postWebhook('/webhooks/inbound', inboundPayload({ to: 'MYBANK', text: 'HELP' }));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { outcome: string }).outcome).toBe('not_our_number');
    expect([
      await countOf(s, 'conversations'),
      await countOf(s, 'messages'),
      await countOf(s, 'outbox'),
      await countOf(s, 'contacts'),
    ]).toEqual([0, 0, 0, 0]);
    const [row] = await logRows(s);
    expect(row).toMatchObject({ outcome: 'not_our_number', signature_ok: 1 });
    expect(row?.raw_body).toContain('"MYBANK"');
    await new Promise((r) => setTimeout(r, 300));
    expect(provider.sent).toEqual([]);
  });

  it('Sinch unsigned mode: a forged mo_text to a number that is not ours creates nothing and sends nothing', async () => {
    const provider = recordingProvider('sinch');
    s = await startTestServer({}, undefined, { providers: { sinch: provider } });
    // A Vonage number of ours is not a Sinch number of ours either.
    for (const to of ['MYBANK', '447700900000']) {
      const body = JSON.stringify({
        type: 'mo_text',
        id: randomUUID(),
        from: '447700900123',
        to,
        body: 'HELP',
        received_at: new Date().toISOString(),
      });
      const res = await fetch(`${s.url}/webhooks/sinch/inbound`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...signSinchWebhook({ rawBody: body, secret: keptSecret(s.config, 'sinch-webhook-secret') }),
        },
        body,
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { outcome: string }).outcome).toBe('not_our_number');
    }
    expect(await countOf(s, 'messages')).toBe(0);
    expect(provider.sent).toEqual([]);
  });
});

describe('automatic replies are rationed', () => {
  it('5 HELPs in a row from one contact: 5 messages stored, one HELP answer queued and sent', async () => {
    const provider = recordingProvider('vonage');
    s = await startTestServer({}, undefined, { providers: { vonage: provider } });
    for (let i = 0; i < 5; i++) expect((await s.postWebhook('/webhooks/inbound', inboundPayload({ text: 'HELP' }))).status).toBe(200);
    expect(await countOf(s, "messages where direction = 'in'")).toBe(5);
    expect(await countOf(s, "messages where direction = 'out'")).toBe(1);
    await expect.poll(() => provider.sent.length, { timeout: 5000 }).toBe(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(provider.sent).toHaveLength(1);
  });

  it('STOP, START, STOP, START, STOP: the opt-out follows every keyword, each confirmation goes once per window', async () => {
    s = await startTestServer();
    for (const text of ['STOP', 'START', 'STOP', 'START', 'STOP'])
      expect((await s.postWebhook('/webhooks/inbound', inboundPayload({ text }))).status).toBe(200);
    const contact = (await raw(s.db).get('select opted_out_at from contacts')) as { opted_out_at: number | null };
    expect(contact.opted_out_at).not.toBeNull();
    expect(await countOf(s, "messages where direction = 'out'")).toBe(2);
    // Another contact is not rationed by the first one's replies.
    expect((await s.postWebhook('/webhooks/inbound', inboundPayload({ text: 'HELP', from: '447700900777' }))).status).toBe(200);
    expect(await countOf(s, "messages where direction = 'out'")).toBe(3);
  });
});

describe('Plivo: every nonce recorded, V2-only a setting', () => {
  const THEM = '+447700900555';
  const fields = (text: string) => ({
    From: THEM.slice(1),
    To: '14155550100',
    Text: text,
    Type: 'sms',
    MessageUUID: randomUUID(),
    Units: '1',
  });
  const post = (t: TestServer, form: Record<string, string>, headers: Record<string, string>) =>
    fetch(`${t.url}/webhooks/plivo/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
  const plivoWith = (allowV2: boolean): Config['plivo'] => ({ ...testConfig({ databasePath: ':memory:' }).plivo, allowV2 });
  const optedOut = async (t: TestServer) =>
    ((await raw(t.db).get('select opted_out_at from contacts where phone = ?', THEM)) as { opted_out_at: number | null } | undefined)
      ?.opted_out_at ?? null;

  async function replayV2WithForgedBody(allowV2: boolean) {
    s = await startTestServer({ plivo: plivoWith(allowV2) });
    const token = keptSecret(s.config, 'plivo-auth-token');
    const url = `${s.url}/webhooks/plivo/inbound`;
    const first = fields('hello');
    const v3Nonce = '11111111111111111111';
    const v2Nonce = '22222222222222222222';
    const v2Headers = {
      'x-plivo-signature-v2': signPlivoV2({ url, nonce: v2Nonce, authToken: token }),
      'x-plivo-signature-v2-nonce': v2Nonce,
    };
    const res = await post(s, first, {
      'x-plivo-signature-v3': signPlivoV3({ url, params: first, nonce: v3Nonce, authToken: token }),
      'x-plivo-signature-v3-nonce': v3Nonce,
      ...v2Headers,
    });
    expect(res.status).toBe(200);
    // The attacker keeps the V2 headers and posts another body: STOP.
    const forged = await post(s, fields('STOP'), v2Headers);
    expect(forged.status).toBe(401);
    expect(await optedOut(s)).toBeNull();
    expect(await countOf(s, 'messages')).toBe(1);
    return s;
  }

  it('the V2 headers of a V3+V2 request replayed with Text=STOP are refused even with PLIVO_ALLOW_V2=true (their nonce was recorded)', async () => {
    const t = await replayV2WithForgedBody(true);
    expect((await logRows(t)).at(-1)?.headers).toBeDefined();
    expect((await logRows(t)).at(-1)?.outcome).toBe('bad_signature');
  });

  it('by default (PLIVO_ALLOW_V2 unset) a V2-only request is refused 401; with it, a fresh V2 request is accepted', async () => {
    await replayV2WithForgedBody(false);
    const t = s as TestServer;
    const token = keptSecret(t.config, 'plivo-auth-token');
    const url = `${t.url}/webhooks/plivo/inbound`;
    const fresh = (n: string) => ({
      'x-plivo-signature-v2': signPlivoV2({ url, nonce: n, authToken: token }),
      'x-plivo-signature-v2-nonce': n,
    });
    const refused = await post(t, fields('hi'), fresh('33333333333333333333'));
    expect(refused.status).toBe(401);
    expect(await refused.text()).toMatch(/V2-only signature refused/);
    await t.dispose();
    s = await startTestServer({ plivo: plivoWith(true) });
    const token2 = keptSecret(s.config, 'plivo-auth-token');
    const url2 = `${s.url}/webhooks/plivo/inbound`;
    const ok = await post(s, fields('hi'), {
      'x-plivo-signature-v2': signPlivoV2({ url: url2, nonce: '44444444444444444444', authToken: token2 }),
      'x-plivo-signature-v2-nonce': '44444444444444444444',
    });
    expect(ok.status).toBe(200);
  });
});

describe('Sinch: the nonce is recorded with the data it admitted', () => {
  it('a signed callback whose processing fails (500) is accepted when Sinch retries it; the exact replay after success is refused', async () => {
    s = await startTestServer();
    const secret = keptSecret(s.config, 'sinch-webhook-secret');
    const body = JSON.stringify({
      type: 'mo_text',
      id: randomUUID(),
      from: '447700900321',
      to: '14155550142',
      body: 'boom',
      received_at: new Date().toISOString(),
    });
    const headers = { 'content-type': 'application/json', ...signSinchWebhook({ rawBody: body, secret }) };
    const send = () => fetch(`${srv().url}/webhooks/sinch/inbound`, { method: 'POST', headers, body });
    // Force the processing to fail inside its transaction.
    if (TEST_DB === 'sqlite')
      s.db.$client.exec(
        "create trigger fail_boom before insert on messages when new.text = 'boom' begin select raise(abort, 'forced failure'); end",
      );
    else {
      await raw(s.db).run(
        "create function fail_boom() returns trigger language plpgsql as $$ begin if new.text = 'boom' then raise exception 'forced failure'; end if; return new; end $$",
      );
      await raw(s.db).run('create trigger fail_boom before insert on messages for each row execute function fail_boom()');
    }
    expect((await send()).status).toBe(500);
    expect(await countOf(s, 'messages')).toBe(0);
    if (TEST_DB === 'sqlite') s.db.$client.exec('drop trigger fail_boom');
    else await raw(s.db).run('drop trigger fail_boom on messages');
    // Sinch's retry: the same headers and body. Refused 401 as a "replay" before; Sinch drops 4xx.
    const retry = await send();
    expect(retry.status).toBe(200);
    expect(((await retry.json()) as { outcome: string }).outcome).toBe('stored');
    expect(await countOf(s, 'messages')).toBe(1);
    const replay = await send();
    expect(replay.status).toBe(401);
    expect(await countOf(s, 'messages')).toBe(1);
  });
});
