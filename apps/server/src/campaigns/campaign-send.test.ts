/**
 * Campaigns end to end: a real Parley (SMS_PROVIDER=vonage) sending through the real Vonage SDK to
 * the mock Vonage API, driven over HTTP as an operator's script would.
 */
import { updateSettings } from '../domain/settings';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CampaignCreatedDto, CampaignDto, CampaignRecipientDto, MessageDto } from '@parley/shared';
import { createApiToken } from '../auth/tokens';
import { loadConfig } from '../config';
import { agents, events, messages } from '../db/tables';
import { upsertContact } from '../domain/contacts';
import { setOptOut } from '../domain/optout';
import { createServer, type ParleyServer } from '../server';
import { inboundPayload } from '../testing/harness';
import { startMockVonage, type MockVonage } from '../testing/mock-vonage';
import { signVonageWebhook } from '../providers/vonage/sign';

const APP_ID = 'c0ffee00-0000-4000-8000-00000000ca11';
const US = '+447700900000';
const SECRET = 'campaign-test-signature-secret';

let mock: MockVonage;
const cleanups: (() => Promise<void>)[] = [];
beforeAll(async () => {
  mock = await startMockVonage({ applicationId: APP_ID });
});
afterAll(() => mock.close());
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  expect(mock.specViolations()).toEqual([]);
  mock.reset();
});

interface Parley {
  server: ParleyServer;
  call<T>(path: string, input?: unknown): Promise<T>;
}

/** Parley on the Vonage provider pointed at the mock, with an admin's API token. */
async function start(rate: number): Promise<Parley> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-campaign-'));
  const server = await createServer(
    loadConfig({
      PORT: '0',
      LOG_LEVEL: 'silent',
      DATABASE_URL: `file:${join(dir, 'p.db')}`,
      SMS_PROVIDER: 'vonage',
      VONAGE_APPLICATION_ID: APP_ID,
      VONAGE_PRIVATE_KEY: mock.keyPair.privateKeyPem,
      VONAGE_SIGNATURE_SECRET: SECRET,
      VONAGE_NUMBER: US,
      VONAGE_API_HOST: mock.url,
      SEND_RATE_PER_SECOND: String(rate),
      ADMIN_EMAIL: 'admin@parley.test',
      ADMIN_PASSWORD: 'campaign-test-password',
    }),
  );
  // Not a quiet-hours test: sends must not depend on the hour the suite runs at (quiet-hours.http.test.ts covers them).
  await updateSettings({ log: server.events, agentId: null, patch: { quietHours: null } });
  cleanups.push(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const admin = (await server.db.select().from(agents))[0];
  // Campaigns are admin procedures: the token needs the admin scope beside read and send.
  const { token } = await createApiToken({ db: server.db, agentId: admin?.id ?? 0, name: 'test', scopes: ['read', 'send', 'admin'] });
  return { server, call: (path, input) => trpc(server.url, token, path, input) };
}

/** A query is a GET with ?input=, anything else a POST with a JSON body (plain JSON: no transformer). */
async function trpc<T>(url: string, token: string, path: string, input?: unknown): Promise<T> {
  const isQuery = /\.(get|list|recipients|summary)$/.test(path);
  const query = isQuery && input !== undefined ? `?input=${encodeURIComponent(JSON.stringify(input))}` : '';
  const res = await fetch(`${url}/trpc/${path}${query}`, {
    method: isQuery ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(isQuery ? {} : { body: JSON.stringify(input ?? null) }),
  });
  const body = (await res.json()) as { result?: { data: T }; error?: { message: string } };
  if (!res.ok || !body.result) throw new Error(`${path}: ${res.status} ${body.error?.message ?? ''}`);
  return body.result.data;
}

const toOf = (r: { body: unknown }) => `+${(r.body as { to: string }).to}`;
const phone = (i: number) => `+4477009${String(10_000 + i).padStart(5, '0')}`;

async function optOut(server: ParleyServer, number: string): Promise<void> {
  const contact = await server.events.write(async (tx) => await upsertContact(tx, number, Date.now()));
  await setOptOut({ log: server.events, contactId: contact.id, optedOut: true, source: 'import' });
}

async function untilStatus(p: Parley, id: number, status: CampaignDto['status'], timeout: number): Promise<CampaignDto> {
  let last: CampaignDto | undefined;
  await vi.waitFor(
    async () => {
      last = await p.call<CampaignDto>('campaign.get', { id });
      expect(last.status).toBe(status);
    },
    { timeout, interval: 100 },
  );
  if (!last) throw new Error('no campaign');
  return last;
}

async function allRecipients(p: Parley, id: number): Promise<CampaignRecipientDto[]> {
  const out: CampaignRecipientDto[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: CampaignRecipientDto[]; nextCursor: string | null } = await p.call('campaign.recipients', {
      id,
      cursor,
      limit: 200,
    });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

describe('campaigns against the mock Vonage API', () => {
  it('5,000 rows: one request per valid recipient, none for opted-out ones, report right, done; replies jump the queue', async () => {
    const p = await start(2000);
    const valid = Array.from({ length: 4_900 }, (_, i) => phone(i));
    const stopped = Array.from({ length: 20 }, (_, i) => phone(5_000 + i));
    for (const n of stopped) await optOut(p.server, n);
    const lines = ['name,phone'];
    valid.forEach((n, i) => {
      lines.push(`Person ${i},${n}`);
      if (i < 40) lines.push(`Again ${i},${n.replace('+44', '0044 ')}`); // duplicate in another form
      if (i < 40) lines.push(`Bad ${i},${i % 2 === 0 ? '12' : 'n/a'}`);
      if (i < 20) lines.push(`Stopped ${i},${stopped[i] ?? ''}`);
    });
    const created = await p.call<CampaignCreatedDto>('campaign.create', {
      name: 'Big',
      text: 'Hi {name}, our sale starts today',
      recipients: lines.join('\n'),
    });
    expect(created.counts).toMatchObject({ total: 5_000, invalid: 40, duplicate: 40, skipped: 20 });
    expect(created.problems.slice(0, 3)).toEqual([
      { line: 3, input: '0044 7700910000', state: 'duplicate', reason: 'Same number as line 2' },
      { line: 4, input: '12', state: 'invalid', reason: 'Number is too short' },
      { line: 5, input: '+447700915000', state: 'skipped', reason: expect.stringMatching(/^Opted out on .* \(imported\)$/) },
    ]);

    // An agent's reply queued mid-campaign goes out ahead of the campaign's remaining rows.
    await vi.waitFor(() => expect(mock.requests.length).toBeGreaterThan(500), { timeout: 30_000, interval: 20 });
    const reply = await p.call<MessageDto>('message.send', { to: '+447700999999', text: 'Agent reply' });
    const seenBefore = mock.requests.length; // the reply is queued by now
    await vi.waitFor(() => expect(mock.requests.some((r) => toOf(r) === reply.to)).toBe(true), { timeout: 5_000, interval: 5 });
    const replyAt = mock.requests.findIndex((r) => toOf(r) === reply.to);
    // Only sends already claimed (worker concurrency 8) arrive before it, not the campaign's queued rows.
    expect(replyAt - seenBefore).toBeLessThanOrEqual(12);

    const done = await untilStatus(p, created.id, 'done', 60_000);
    // …and the campaign still had plenty to send when the reply overtook it.
    expect(mock.requests.length - replyAt).toBeGreaterThan(1_000);
    expect(done.counts).toEqual({
      total: 5_000,
      invalid: 40,
      duplicate: 40,
      skipped: 20,
      pending: 0,
      held: 0,
      queued: 0,
      submitted: 4_900,
      delivered: 0,
      failed: 0,
      interrupted: 0,
      cancelled: 0,
    });
    const campaignTos = mock.requests.map(toOf).filter((to) => to !== reply.to);
    expect(campaignTos).toHaveLength(4_900);
    expect(new Set(campaignTos)).toEqual(new Set(valid));
    expect(mock.requests.find((r) => (r.body as { to: string }).to === '447700910000')?.body).toMatchObject({
      text: 'Hi Person 0, our sale starts today',
    });

    // Coalesced progress: far fewer events than recipients.
    const progress = (await p.server.db.select().from(events).where(eq(events.type, 'campaign.progress'))).length;
    expect(progress).toBeGreaterThan(2);
    expect(progress).toBeLessThan(200);

    // A reply from a recipient lands in the conversation the campaign message is in.
    const sent = (
      await p.server.db
        .select()
        .from(messages)
        .where(eq(messages.to, valid[7] ?? ''))
    )[0];
    const body = JSON.stringify(inboundPayload({ from: (valid[7] ?? '').slice(1), to: US.slice(1), text: 'Tell me more' }));
    const res = await fetch(`${p.server.url}/webhooks/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: await signVonageWebhook(body, SECRET) },
      body,
    });
    expect(res.status).toBe(200);
    const inbound = (await p.server.db.select().from(messages).where(eq(messages.text, 'Tell me more')))[0];
    expect(inbound?.conversationId).toBe(sent?.conversationId);
  }, 120_000);

  it('pause stops sends within a second, resume finishes; cancel leaves the rest cancelled', async () => {
    const p = await start(150);
    mock.respond((req) => ({ status: 202, body: { message_uuid: req.messageUuid }, delayMs: 20 }));
    const numbers = Array.from({ length: 600 }, (_, i) => phone(i));
    const c = await p.call<CampaignCreatedDto>('campaign.create', { name: 'Pausable', text: 'Hello', recipients: numbers });
    await vi.waitFor(() => expect(mock.requests.length).toBeGreaterThan(60), { timeout: 10_000, interval: 10 });

    expect((await p.call<CampaignDto>('campaign.pause', { id: c.id })).status).toBe('paused');
    const pausedAt = Date.now();
    await new Promise((r) => setTimeout(r, 2_000));
    const late = mock.requests.filter((r) => r.receivedAt.getTime() > pausedAt + 1_000);
    expect(late).toEqual([]);
    const atPause = mock.requests.length;
    expect(atPause).toBeLessThan(600);
    const paused = await p.call<CampaignDto>('campaign.get', { id: c.id });
    expect(paused.counts.pending + paused.counts.queued).toBe(600 - atPause);

    await p.call('campaign.resume', { id: c.id });
    const done = await untilStatus(p, c.id, 'done', 30_000);
    expect(done.counts.submitted).toBe(600);
    expect(mock.requests.map(toOf).sort()).toEqual([...numbers].sort());

    mock.reset();
    mock.respond((req) => ({ status: 202, body: { message_uuid: req.messageUuid }, delayMs: 20 }));
    const other = Array.from({ length: 600 }, (_, i) => phone(1_000 + i));
    const k = await p.call<CampaignCreatedDto>('campaign.create', { name: 'Cancelled', text: 'Hello again', recipients: other });
    await vi.waitFor(() => expect(mock.requests.length).toBeGreaterThan(60), { timeout: 10_000, interval: 10 });
    const cancelled = await p.call<CampaignDto>('campaign.cancel', { id: k.id });
    const cancelledAt = Date.now();
    expect(cancelled.status).toBe('cancelled');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(mock.requests.filter((r) => r.receivedAt.getTime() > cancelledAt + 1_000)).toEqual([]);
    const final = await p.call<CampaignDto>('campaign.get', { id: k.id });
    const sentCount = mock.requests.length;
    expect(final.counts).toMatchObject({ total: 600, pending: 0, queued: 0, submitted: sentCount, cancelled: 600 - sentCount });
    const states = await allRecipients(p, k.id);
    expect(states.filter((r) => r.state === 'cancelled').map((r) => r.phone)).toEqual(
      other.filter((n) => !mock.requests.some((r) => toOf(r) === n)),
    );
    expect(new Set(mock.requests.map(toOf)).size).toBe(sentCount);
  }, 60_000);
});
