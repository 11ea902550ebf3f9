import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsentEntryDto, ContactExportDto, ConversationDto, MessageDto, NoteDto, StatsSummary } from '@parley/shared';
import { auditLog, events } from '../db/tables';
import { inboundPayload, startTestServer, statusPayload, type TestServer } from '../testing/harness';
import { trpcCall, type TrpcReply } from '../testing/trpc-http';
import { TEST_ADMIN } from '../config';
import { raw } from '../testing/raw';
import { TEST_DB } from '../testing/temp-db';

/**
 * contact.export and contact.erase over real HTTP against a real server whose sandbox providers
 * deliver (status webhooks, webhook log): after the erasure no table, no search index entry and no
 * byte of the database files holds the number (in any of its forms), the name or a text — while a
 * later send to the number is still refused.
 */
const ADMIN = TEST_ADMIN;
const PHONE = '+447700900777';
const NAME = 'Zebulon Quartermaine';
const INBOUND = 'Unicorn pineapple voucher 9173';
const REPLY = 'Your voucher zanzibar-4471 is ready';
const NOTE = 'Prefers mornings, xylophone collector';
const NEEDLES = [
  PHONE,
  PHONE.slice(1),
  '07700900777',
  '%2B447700900777',
  'Zebulon',
  'Quartermaine',
  'pineapple voucher',
  'zanzibar-4471',
  'xylophone',
  'Hello Zebulon',
];

const dir = mkdtempSync(join(tmpdir(), 'parley-erasure-'));
let s: TestServer;
let admin: string;
let agent: string;

const call = (path: string, input: unknown, cookie: string, method: 'GET' | 'POST' = 'POST'): Promise<TrpcReply> =>
  trpcCall(s.url, path, input, cookie, method);
async function data<T>(reply: Promise<TrpcReply>): Promise<T> {
  const r = await reply;
  if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(r.body.error)}`);
  return r.body.result?.data as T;
}
async function signIn(): Promise<void> {
  admin = (await call('auth.login', ADMIN, '')).cookie ?? '';
}
async function waitFor(check: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const inbound = async (phone: string, text: string) =>
  expect((await s.postWebhook('/webhooks/inbound', inboundPayload({ from: phone.slice(1), text }))).status).toBe(200);
const messagesOf = async (conversationId: number) =>
  (await data<{ items: MessageDto[] }>(call('conversation.messages', { conversationId, limit: 200 }, agent, 'GET'))).items;
const conversationOf = async (phone: string) =>
  (await data<{ items: ConversationDto[] }>(call('conversation.list', { filter: 'all', search: phone }, agent, 'GET'))).items.find(
    (c) => c.contactPhone === phone,
  );
const stats = () =>
  data<StatsSummary>(
    call(
      'stats.summary',
      { since: new Date(Date.now() - 86_400_000).toISOString(), until: new Date(Date.now() + 3_600_000).toISOString() },
      agent,
      'GET',
    ),
  );

/** Every value of every row of every table (SQLite's FTS shadow tables too), as text or bytes, that contains a needle. */
async function tableHits(): Promise<string[]> {
  const tables =
    TEST_DB === 'sqlite'
      ? await raw(s.db).all<{ name: string }>("select name from sqlite_master where type = 'table'")
      : await raw(s.db).all<{ name: string }>("select table_name as name from information_schema.tables where table_schema = 'public'");
  const hits: string[] = [];
  for (const { name: table } of tables) {
    // The FTS5 table itself reads the content table (messages); its shadow tables are scanned below.
    if (table === 'messages_fts') continue;
    for (const row of await raw(s.db).all(`select * from "${table}"`)) {
      for (const value of Object.values(row)) {
        const bytes = typeof value === 'string' ? Buffer.from(value) : Buffer.isBuffer(value) ? value : null;
        if (!bytes) continue;
        for (const needle of NEEDLES) if (bytes.includes(Buffer.from(needle))) hits.push(`${table}: ${needle}`);
      }
    }
  }
  return hits;
}

/** SQLite: the needles found in the database's files as they are on disk (PostgreSQL's files are the server's). */
function fileHits(): string[] {
  if (TEST_DB !== 'sqlite') return [];
  const base = join(dir, 'parley.db');
  const hits: string[] = [];
  for (const file of [base, `${base}-wal`, `${base}-shm`]) {
    if (!existsSync(file)) continue;
    const bytes = readFileSync(file);
    for (const needle of NEEDLES) if (bytes.includes(Buffer.from(needle))) hits.push(`${file.slice(dir.length + 1)}: ${needle}`);
  }
  return hits;
}

beforeAll(async () => {
  s = await startTestServer({}, dir);
  await signIn();
  const invite = await data<{ inviteUrl: string }>(call('agent.invite', { email: 'ann@parley.test', name: 'Ann', role: 'agent' }, admin));
  const token = new URL(invite.inviteUrl).hash.replace('#token=', '');
  agent = (await call('auth.acceptInvite', { token, password: 'ann-password-1' }, '')).cookie ?? '';
});
afterAll(async () => {
  await s.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('contact export and erasure', () => {
  let contactId = 0;
  let conversationId = 0;
  let exported: ContactExportDto;

  it('export: everything the UI shows about the contact, admins only, audited', async () => {
    await inbound(PHONE, INBOUND);
    const conv = await conversationOf(PHONE);
    if (!conv) throw new Error('no conversation');
    ({ contactId, id: conversationId } = conv);
    await data(call('contact.update', { id: contactId, name: NAME }, agent));
    await data(call('message.send', { conversationId, text: REPLY }, agent));
    await data(call('note.add', { conversationId, text: NOTE }, agent));
    const campaign = await data<{ id: number }>(
      call(
        'campaign.create',
        { name: 'Spring', text: 'Hello {name}, spring sale!', recipients: [{ phone: PHONE, name: NAME }], quietHours: false },
        admin,
      ),
    );
    await waitFor(async () => {
      const out = (await messagesOf(conversationId)).filter((m) => m.direction === 'out');
      return out.length === 2 && out.every((m) => m.status === 'delivered');
    }, 'the reply and the campaign message to be delivered');
    await waitFor(
      async () => (await data<{ status: string }>(call('campaign.get', { id: campaign.id }, agent, 'GET'))).status === 'done',
      'the campaign to finish',
    );
    await inbound(PHONE, 'please stop texting me'); // a flag…
    await inbound(PHONE, 'STOP'); // …settled by the keyword
    // The keyword's confirmation is queued behind the inbound; read only once the outbox is done with it,
    // so the export and the screens below see the same status.
    await waitFor(async () => {
      const out = (await messagesOf(conversationId)).filter((m) => m.direction === 'out');
      return out.length === 3 && out.every((m) => m.status === 'delivered');
    }, 'the opt-out confirmation to be delivered');

    expect((await call('contact.export', { id: contactId }, agent, 'GET')).status).toBe(403);
    exported = await data<ContactExportDto>(call('contact.export', { id: contactId }, admin, 'GET'));
    const shown = {
      contact: await data<Record<string, unknown>>(call('contact.get', { id: contactId }, agent, 'GET')),
      conversation: await data<ConversationDto>(call('conversation.get', { id: conversationId }, agent, 'GET')),
      messages: await messagesOf(conversationId),
      notes: await data<NoteDto[]>(call('note.list', { conversationId }, agent, 'GET')),
      consent: await data<ConsentEntryDto[]>(call('contact.consentHistory', { id: contactId }, agent, 'GET')),
    };
    const { conversations: _c, ...contactAlone } = shown.contact;
    expect(exported.format).toBe('parley.contact-export/1');
    expect(exported.contact).toEqual(contactAlone);
    expect(exported.contact).toMatchObject({ phone: PHONE, name: NAME });
    expect(exported.conversations).toEqual([shown.conversation]);
    expect(exported.messages).toEqual([...shown.messages].reverse());
    expect(exported.messages.map((m) => m.text)).toEqual(expect.arrayContaining([INBOUND, REPLY, `Hello ${NAME}, spring sale!`, 'STOP']));
    expect(exported.notes).toEqual(shown.notes);
    expect(exported.notes.map((n) => n.text)).toEqual([NOTE]);
    expect(exported.consent).toEqual(shown.consent);
    expect(exported.consent).toEqual([expect.objectContaining({ state: 'opted_out', source: 'keyword' })]);
    // Every delivery report of the outbound messages (submitted, delivered) is in the status history.
    const outIds = exported.messages.filter((m) => m.direction === 'out' && m.status === 'delivered').map((m) => m.id);
    for (const id of outIds) expect(exported.statusHistory.filter((h) => h.messageId === id).map((h) => h.status)).toContain('delivered');
    const audit = (await s.db.select().from(auditLog)).filter((a) => a.action === 'contact.exported');
    expect(audit).toEqual([expect.objectContaining({ targetType: 'contact', targetId: String(contactId), via: 'session' })]);
  });

  it('erase: no trace in any table, the search index or the files; stats kept; the number stays suppressed, across a restart', async () => {
    if (TEST_DB === 'sqlite') expect(s.db.$client.pragma('secure_delete', { simple: true })).toBe(1);
    const before = await stats();
    const eventIds = (await s.db.select({ id: events.id }).from(events)).map((e) => e.id);
    expect((await tableHits()).length).toBeGreaterThan(0);
    if (TEST_DB === 'sqlite') expect(fileHits().length).toBeGreaterThan(0);
    // SQLite's trigram index is a table of its own; PostgreSQL's (pg_trgm) indexes messages.text itself.
    const search = async (text: string) =>
      TEST_DB === 'sqlite'
        ? (await raw(s.db).get<{ n: number }>('select count(*) as n from messages_fts where messages_fts match ?', `"${text}"`))?.n
        : (await raw(s.db).get<{ n: number }>('select count(*) as n from messages where text ilike ?', `%${text}%`))?.n;
    expect(await search('pineapple')).toBe(1);

    expect((await call('contact.erase', { id: contactId }, agent)).status).toBe(403);
    const lastBefore = await s.events.lastId();
    expect(await data(call('contact.erase', { id: contactId }, admin))).toEqual({ erased: true });

    // Gone from the API…
    expect((await call('contact.get', { id: contactId }, agent, 'GET')).status).toBe(404);
    expect((await call('conversation.get', { id: conversationId }, agent, 'GET')).status).toBe(404);
    expect(await conversationOf(PHONE)).toBeUndefined();
    // …from every table and the search index…
    expect(await tableHits()).toEqual([]);
    expect(await search('pineapple')).toBe(0);
    expect(await search('zanzibar')).toBe(0);
    if (TEST_DB === 'sqlite') await raw(s.db).run("insert into messages_fts(messages_fts, rank) values ('integrity-check', 1)");
    // …and from the bytes of the database files.
    expect(fileHits()).toEqual([]);
    // A delivery report arriving after the erasure is answered 200 and dropped (no orphan holding the number).
    const reply = exported.messages.find((m) => m.text === REPLY);
    const late = await s.postWebhook(
      '/webhooks/status',
      statusPayload({ message_uuid: reply?.providerMessageId ?? '', status: 'read', to: PHONE.slice(1), client_ref: reply?.clientRef }),
    );
    expect([late.status, ((await late.json()) as { outcome: string }).outcome]).toEqual([200, 'erased']);
    expect(await tableHits()).toEqual([]);

    // The event log keeps its ids; the erasure itself is an event naming ids only.
    const idsAfter = new Set((await s.db.select({ id: events.id }).from(events)).map((e) => e.id));
    expect(eventIds.filter((id) => !idsAfter.has(id))).toEqual([]);
    const erasedEvent = (await s.events.readAfter(lastBefore)).find((e) => e.type === 'contact.erased');
    expect(erasedEvent?.payload).toEqual({ contactId, conversationIds: [conversationId] });
    expect((await s.events.readAfter(0)).some((e) => e.type === 'event.erased')).toBe(true);
    // Audited, with counts and no number or text.
    const audit = (await s.db.select().from(auditLog)).filter((a) => a.action === 'contact.erased');
    expect(audit).toEqual([expect.objectContaining({ targetId: String(contactId), via: 'session' })]);
    expect(JSON.parse(audit[0]?.detail ?? '{}')).toMatchObject({ conversations: 1, notes: 1, optedOut: true });
    // Stats volumes are what they were.
    const after = await stats();
    expect([after.inbound, after.outbound, after.delivered]).toEqual([before.inbound, before.outbound, before.delivered]);
    // The ledger keeps its rows (no number in them) and says erasure last.
    expect(await raw(s.db).all('select state, source from consent_ledger where contact_id = ? order by id', contactId)).toEqual([
      { state: 'opted_out', source: 'keyword' },
      { state: 'opted_out', source: 'erasure' },
    ]);

    // A later send (and campaign) to the number is refused with the opt-out reason, also after a restart.
    const refused = await call('message.send', { to: PHONE, text: 'come back!' }, agent);
    expect([refused.status, refused.body.error?.data.appCode]).toEqual([412, 'OPTED_OUT']);
    expect(refused.body.error?.message).toMatch(/opted out \(STOP\).*erased/);
    const campaign = await data<{ id: number }>(
      call(
        'campaign.create',
        { name: 'Again', text: 'Hi', recipients: [{ phone: PHONE, name: 'Z. Q.' }, '+447700900778'], quietHours: false },
        admin,
      ),
    );
    await waitFor(
      async () => (await data<{ status: string }>(call('campaign.get', { id: campaign.id }, agent, 'GET'))).status === 'done',
      'the second campaign to finish',
    );
    const recipients = await data<{ items: { phone: string | null; state: string; reason: string | null }[] }>(
      call('campaign.recipients', { id: campaign.id }, agent, 'GET'),
    );
    expect(recipients.items.find((r) => r.phone === PHONE)).toMatchObject({ state: 'skipped', reason: expect.stringMatching(/erased/) });
    expect(recipients.items.find((r) => r.phone === '+447700900778')?.state).not.toBe('skipped');
    // The CSV's name re-created a contact for the number: it inherits the opt-out (ledger: erasure).
    const recreated = await data<{ items: { id: number; optedOutAt: string | null; optOutSource: string | null }[] }>(
      call('contact.list', { search: PHONE }, agent, 'GET'),
    );
    expect(recreated.items).toEqual([expect.objectContaining({ optedOutAt: expect.any(String), optOutSource: 'erasure' })]);

    await s.dispose();
    s = await startTestServer({}, dir);
    await signIn();
    const afterRestart = await call('message.send', { to: PHONE, text: 'come back!' }, admin);
    expect([afterRestart.status, afterRestart.body.error?.data.appCode]).toEqual([412, 'OPTED_OUT']);
  });

  it('the number texting in again is opted out at once (ledger: erasure) until it sends START', async () => {
    agent = admin;
    await inbound(PHONE, 'hello again');
    const conv = await conversationOf(PHONE);
    if (!conv) throw new Error('no conversation');
    expect(conv.contactOptedOut).toBe(true);
    expect(await data<ConsentEntryDto[]>(call('contact.consentHistory', { id: conv.contactId }, admin, 'GET'))).toEqual([
      { at: expect.any(String), state: 'opted_out', source: 'erasure' },
    ]);
    expect((await call('message.send', { conversationId: conv.id, text: 'hi' }, admin)).status).toBe(412);
    await inbound(PHONE, 'START');
    expect((await conversationOf(PHONE))?.contactOptedOut).toBe(false);
    expect((await call('message.send', { conversationId: conv.id, text: 'welcome back' }, admin)).status).toBe(200);
    expect((await call('message.send', { to: PHONE, text: 'and again' }, admin)).status).toBe(200);
  });

  it('an erased number that never opted out may be texted again; erasing a missing contact is a 404', async () => {
    const other = '+447700900779';
    await inbound(other, 'hi there');
    const conv = await conversationOf(other);
    if (!conv) throw new Error('no conversation');
    expect(await data(call('contact.erase', { id: conv.contactId }, admin))).toEqual({ erased: true });
    expect((await call('message.send', { to: other, text: 'hello' }, admin)).status).toBe(200);
    expect((await call('contact.erase', { id: 99_999 }, admin)).status).toBe(404);
  });
});
