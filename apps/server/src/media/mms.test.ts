/**
 * MMS end to end over real HTTP: each provider's documented inbound MMS shape (test/fixtures/*) is
 * stored at once and its media downloaded afterwards from a loopback mock (with that provider's
 * credentials); what is not what it claims, or too large, is refused with a reason and the message
 * kept; /media answers only signed-in agents; uploads are checked; signed links expire.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageDto } from '@parley/shared';
import { conversations, media, messages } from '../db/tables';
import { startTestServer, type TestServer } from '../testing/harness';
import { generateTestKeyPair } from '../testing/mock-vonage';
import { signPlivoV3 } from '../providers/plivo/signature';
import { signSinchWebhook } from '../providers/sinch/signature';
import { samplePicture } from './sample';
import { signedMediaPath } from './links';

const fixtures = new URL('../../test/fixtures/', import.meta.url);
const fixture = (path: string) => readFileSync(new URL(path, fixtures), 'utf8');

/** The first bytes of a JPEG (SOI + JFIF APP0) and some filler: enough for content sniffing. */
const JPEG = Buffer.concat([
  Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]),
  Buffer.alloc(600, 7),
  Buffer.from([0xff, 0xd9]),
]);
const PNG = samplePicture(40, 30);
const NOT_AN_IMAGE = Buffer.from('<html><body>definitely not a picture</body></html>\n'.repeat(20));

interface MediaFile {
  body: Buffer;
  type: string;
  hold?: Promise<void>;
  status?: () => number;
  redirect?: string;
}
interface MockMedia {
  url: string;
  files: Map<string, MediaFile>;
  seen: { path: string; authorization: string | undefined }[];
  close(): Promise<void>;
}

/** A provider's media storage on loopback: serves `files` by path and records who asked with what credentials. */
async function startMockMedia(): Promise<MockMedia> {
  const files = new Map<string, MediaFile>();
  const seen: MockMedia['seen'] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    seen.push({ path, authorization: req.headers.authorization });
    const file = files.get(path);
    void (async () => {
      if (!file) return void res.writeHead(404).end('not found');
      await file.hold;
      if (file.redirect) return void res.writeHead(302, { location: file.redirect }).end();
      const status = file.status?.() ?? 200;
      if (status !== 200) return void res.writeHead(status).end('unavailable');
      res.writeHead(200, { 'content-type': file.type, 'content-length': String(file.body.length) }).end(file.body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    files,
    seen,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const PLIVO_ID = 'MAZDQ1ZJIYMDZKMMZKYM';
const PLIVO_TOKEN = 'plivo-test-token-0123456789';
const SINCH_TOKEN = 'sinch-test-token-abcdef';
const SINCH_SECRET = 'sinch-test-webhook-secret-0123456789';
const VONAGE_US = '+12015550100';

let s: TestServer | undefined;
let mock: MockMedia | undefined;
afterEach(async () => {
  await s?.dispose();
  await mock?.close();
  s = undefined;
  mock = undefined;
});

async function start(over: { maxBytes?: number } = {}): Promise<{ s: TestServer; mock: MockMedia }> {
  mock = await startMockMedia();
  const keys = generateTestKeyPair();
  s = await startTestServer({
    vonage: { number: VONAGE_US, numbers: [VONAGE_US], applicationId: 'app-test', privateKey: keys.privateKeyPem, apiHost: mock.url },
    plivo: { authId: PLIVO_ID, authToken: PLIVO_TOKEN, apiUrl: mock.url },
    sinch: { apiToken: SINCH_TOKEN, apiUrl: mock.url, webhookSecret: SINCH_SECRET },
    media: { fetchRetryBaseMs: 50, ...(over.maxBytes ? { maxBytes: over.maxBytes } : {}) },
  });
  return { s, mock };
}

async function signIn(server: TestServer): Promise<string> {
  const login = await fetch(`${server.url}/trpc/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'admin@parley.test', password: 'parley-test-password' }),
  });
  expect(login.status).toBe(200);
  return login.headers.get('set-cookie')?.split(';')[0] ?? '';
}

function postPlivo(server: TestServer, raw: string): Promise<Response> {
  const url = `${server.url}/webhooks/plivo/inbound`;
  const nonce = String(Date.now()) + String(Math.floor(Math.random() * 1e6));
  const params = [...new URLSearchParams(raw)];
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-plivo-signature-v3': signPlivoV3({ url, params, nonce, authToken: PLIVO_TOKEN }),
      'x-plivo-signature-v3-nonce': nonce,
    },
    body: raw,
  });
}

function postSinch(server: TestServer, body: unknown): Promise<Response> {
  const raw = JSON.stringify(body);
  return fetch(`${server.url}/webhooks/sinch/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signSinchWebhook({ rawBody: raw, secret: SINCH_SECRET }) },
    body: raw,
  });
}

async function messageByUuid(server: TestServer, uuid: string) {
  return (await server.db.select().from(messages).where(eq(messages.providerMessageUuid, uuid)))[0];
}
async function mediaOf(server: TestServer, messageId: number) {
  return await server.db.select().from(media).where(eq(media.messageId, messageId)).orderBy(media.id);
}

describe('inbound MMS: stored at once, media downloaded after', () => {
  it('Vonage `image` (the documented shape): answered 200 while the download is still held, then stored with the JWT', async () => {
    const { s, mock } = await start();
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    mock.files.set('/v3/media/79168ddc', { body: JPEG, type: 'image/jpeg', hold });
    const payload = JSON.parse(fixture('vonage/examples/inbound-mms-image.json')) as Record<string, unknown>;
    payload.image = { url: `${mock.url}/v3/media/79168ddc` };
    const res = await s.postWebhook('/webhooks/inbound', payload);
    expect(res.status).toBe(200);
    const row = await messageByUuid(s, String(payload.message_uuid));
    expect(row).toBeDefined();
    // The webhook did not wait: the file is still being held by the provider.
    expect(await mediaOf(s, row?.id ?? 0)).toMatchObject([{ state: 'pending', claimedType: 'image/*' }]);
    release();
    await s.media.fetcher.idle();
    const [stored] = await mediaOf(s, row?.id ?? 0);
    expect(stored).toMatchObject({ state: 'stored', contentType: 'image/jpeg', size: JPEG.length });
    expect(mock.seen.find((r) => r.path === '/v3/media/79168ddc')?.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    // The conversation list says what it is.
    const cookie = await signIn(s);
    const list = await fetch(`${s.url}/trpc/conversation.list?input=${encodeURIComponent(JSON.stringify({ filter: 'all' }))}`, {
      headers: { cookie },
    });
    const body = (await list.json()) as { result: { data: { items: { lastMessagePreview: string }[] } } };
    expect(body.result.data.items[0]?.lastMessagePreview).toBe('📷 Photo');
    // The thread's message carries it, and the agent can open it.
    const thread = await fetch(
      `${s.url}/trpc/conversation.messages?input=${encodeURIComponent(JSON.stringify({ conversationId: row?.conversationId }))}`,
      { headers: { cookie } },
    );
    const items = ((await thread.json()) as { result: { data: { items: MessageDto[] } } }).result.data.items;
    const m = items[0]?.media[0];
    expect(m).toMatchObject({ contentType: 'image/jpeg', size: JPEG.length, state: 'stored', url: `/media/${stored?.id}` });
    const file = await fetch(`${s.url}${m?.url}`, { headers: { cookie } });
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('image/jpeg');
    expect(file.headers.get('x-content-type-options')).toBe('nosniff');
    expect(file.headers.get('content-disposition')).toMatch(/^inline; filename=/);
    expect(Buffer.from(await file.arrayBuffer()).equals(JPEG)).toBe(true);
  });

  it('Vonage `video` is stored as what its bytes are, and a `message.updated` event says so', async () => {
    const { s, mock } = await start();
    // An MP4's ftyp box.
    const mp4 = Buffer.concat([
      Buffer.from([0, 0, 0, 0x18]),
      Buffer.from('ftypmp42'),
      Buffer.alloc(4),
      Buffer.from('isommp42'),
      Buffer.alloc(400),
    ]);
    mock.files.set('/v3/media/0f1e2d3c', { body: mp4, type: 'video/mp4' });
    const payload = JSON.parse(fixture('vonage/examples/inbound-mms-video.json')) as Record<string, unknown>;
    payload.video = { url: `${mock.url}/v3/media/0f1e2d3c` };
    const after = await s.events.lastId();
    expect((await s.postWebhook('/webhooks/inbound', payload)).status).toBe(200);
    await s.media.fetcher.idle();
    const updated = (await s.events.readAfter(after)).filter((e) => e.type === 'message.updated');
    expect(updated).toHaveLength(1);
    expect(updated[0]?.type === 'message.updated' && updated[0].payload.message.media[0]).toMatchObject({
      contentType: 'video/mp4',
      state: 'stored',
    });
  });

  it('Plivo `Type=mms` (the documented fields): Body as text, Media0 downloaded with Basic auth', async () => {
    const { s, mock } = await start();
    mock.files.set(`/v1/Account/${PLIVO_ID}/Media/8d6a-4e3b/`, { body: PNG, type: 'image/png' });
    const raw = fixture('plivo/examples/inbound-mms.txt').replace(
      encodeURIComponent('https://api.plivo.com'),
      encodeURIComponent(mock.url),
    );
    const res = await postPlivo(s, raw);
    expect(res.status).toBe(200);
    const row = await messageByUuid(s, '3b6f7e1f-5d2c-4c9b-8e4f-7a1d2c3b4e5f');
    expect(row?.text).toBe('Here is the damaged box');
    await s.media.fetcher.idle();
    expect(await mediaOf(s, row?.id ?? 0)).toMatchObject([{ state: 'stored', contentType: 'image/png', size: PNG.length }]);
    expect(mock.seen[0]?.authorization).toBe(`Basic ${Buffer.from(`${PLIVO_ID}:${PLIVO_TOKEN}`).toString('base64')}`);
    // Plivo names no type: the list preview, written before the download, is corrected once the bytes say "image".
    expect(
      (
        await s.db
          .select()
          .from(conversations)
          .where(eq(conversations.id, row?.conversationId ?? 0))
      )[0]?.lastMessagePreview,
    ).toBe('📷 Here is the damaged box');
  });

  it('Sinch `mo_media` (the documented shape): downloaded with the bearer token; a failed upload is kept refused', async () => {
    const { s, mock } = await start();
    mock.files.set('/media/x/0.jpg', { body: JPEG, type: 'image/jpeg' });
    const payload = JSON.parse(fixture('sinch/examples/inbound-mo-media.json')) as {
      id: string;
      to: string;
      body: { media: Record<string, unknown>[] };
    };
    payload.to = '14155550142';
    payload.body.media = [
      { ...payload.body.media[0], url: `${mock.url}/media/x/0.jpg` },
      { content_type: 'image/jpeg', status: 'Failed', code: 2 },
    ];
    expect((await postSinch(s, payload)).status).toBe(200);
    const row = await messageByUuid(s, payload.id);
    expect(row?.text).toBe('Here is the damaged box');
    await s.media.fetcher.idle();
    const rows = await mediaOf(s, row?.id ?? 0);
    expect(rows).toMatchObject([
      { state: 'stored', contentType: 'image/jpeg' },
      { state: 'refused', reason: expect.stringContaining('code 2') as unknown },
    ]);
    expect(mock.seen[0]?.authorization).toBe(`Bearer ${SINCH_TOKEN}`);
  });

  it('a redirect to another origin is followed without the provider credentials', async () => {
    const { s, mock } = await start();
    const elsewhere = await startMockMedia();
    try {
      elsewhere.files.set('/bucket/0.png', { body: PNG, type: 'image/png' });
      mock.files.set(`/v1/Account/${PLIVO_ID}/Media/redir/`, {
        body: Buffer.alloc(0),
        type: 'text/plain',
        redirect: `${elsewhere.url}/bucket/0.png`,
      });
      const raw = fixture('plivo/examples/inbound-mms.txt')
        .replace(encodeURIComponent('https://api.plivo.com'), encodeURIComponent(mock.url))
        .replace(encodeURIComponent('/Media/8d6a-4e3b/'), encodeURIComponent('/Media/redir/'))
        .replace('3b6f7e1f-5d2c-4c9b-8e4f-7a1d2c3b4e5f', randomUUID());
      expect((await postPlivo(s, raw)).status).toBe(200);
      await s.media.fetcher.idle();
      expect(await s.db.select().from(media)).toMatchObject([{ state: 'stored', contentType: 'image/png' }]);
      expect(mock.seen[0]?.authorization).toMatch(/^Basic /);
      expect(elsewhere.seen).toEqual([{ path: '/bucket/0.png', authorization: undefined }]);
    } finally {
      await elsewhere.close();
    }
  });

  it('a file that claims image/jpeg but is not an image is refused with a reason; the message is kept', async () => {
    const { s, mock } = await start();
    mock.files.set('/media/fake.jpg', { body: NOT_AN_IMAGE, type: 'image/jpeg' });
    const id = randomUUID();
    const res = await postSinch(s, {
      id,
      type: 'mo_media',
      from: '12015555555',
      to: '14155550142',
      received_at: new Date().toISOString(),
      body: { message: 'look', media: [{ url: `${mock.url}/media/fake.jpg`, content_type: 'image/jpeg', status: 'Uploaded', code: 0 }] },
    });
    expect(res.status).toBe(200);
    await s.media.fetcher.idle();
    const row = await messageByUuid(s, id);
    expect(row?.text).toBe('look');
    const [m] = await mediaOf(s, row?.id ?? 0);
    expect(m?.state).toBe('refused');
    expect(m?.reason).toMatch(/not a recognised file type \(it claims image\/jpeg\)/);
    // Nothing of it is served.
    const cookie = await signIn(s);
    expect((await fetch(`${s.url}/media/${m?.id}`, { headers: { cookie } })).status).toBe(404);
  });

  it('a PDF sent as an `image` is refused (content of another kind than claimed)', async () => {
    const { s, mock } = await start();
    mock.files.set('/v3/media/pdf', { body: Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n'.repeat(10)), type: 'image/jpeg' });
    const payload = {
      ...JSON.parse(fixture('vonage/examples/inbound-mms-image.json')),
      message_uuid: randomUUID(),
      image: { url: `${mock.url}/v3/media/pdf` },
    } as Record<string, unknown>;
    expect((await s.postWebhook('/webhooks/inbound', payload)).status).toBe(200);
    await s.media.fetcher.idle();
    const row = await messageByUuid(s, String(payload.message_uuid));
    expect((await mediaOf(s, row?.id ?? 0))[0]).toMatchObject({
      state: 'refused',
      reason: 'content is application/pdf but it claims image/*',
    });
  });

  it('beyond MEDIA_MAX_BYTES the download stops and the attachment is refused', async () => {
    const { s, mock } = await start({ maxBytes: 1000 });
    mock.files.set('/media/big.png', { body: samplePicture(400, 300), type: 'image/png' });
    const id = randomUUID();
    await postSinch(s, {
      id,
      type: 'mo_media',
      from: '12015555555',
      to: '14155550142',
      received_at: new Date().toISOString(),
      body: { media: [{ url: `${mock.url}/media/big.png`, content_type: 'image/png', status: 'Uploaded', code: 0 }] },
    });
    await s.media.fetcher.idle();
    const row = await messageByUuid(s, id);
    expect((await mediaOf(s, row?.id ?? 0))[0]).toMatchObject({
      state: 'refused',
      reason: expect.stringMatching(/larger than the 1000 bytes limit/) as unknown,
    });
  });

  it('a provider that answers 503 is retried with backoff until it answers', async () => {
    const { s, mock } = await start();
    let calls = 0;
    mock.files.set('/media/flaky.png', { body: PNG, type: 'image/png', status: () => (++calls < 3 ? 503 : 200) });
    const id = randomUUID();
    await postSinch(s, {
      id,
      type: 'mo_media',
      from: '12015555555',
      to: '14155550142',
      received_at: new Date().toISOString(),
      body: { media: [{ url: `${mock.url}/media/flaky.png`, content_type: 'image/png', status: 'Uploaded', code: 0 }] },
    });
    const row = await messageByUuid(s, id);
    const until = Date.now() + 20_000;
    while ((await mediaOf(s, row?.id ?? 0))[0]?.state === 'pending' && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect((await mediaOf(s, row?.id ?? 0))[0]).toMatchObject({ state: 'stored', attempts: 2 });
  });
});

describe('/media: signed-in agents only, checked uploads, signed links', () => {
  const form = (bytes: Buffer, type: string, name = 'photo.png') => {
    const fd = new FormData();
    fd.append('file', new Blob([bytes], { type }), name);
    return fd;
  };

  it('GET /media/:id and POST /media answer 401 without a session or token', async () => {
    const { s } = await start();
    expect((await fetch(`${s.url}/media/1`)).status).toBe(401);
    expect((await fetch(`${s.url}/media`, { method: 'POST', body: form(PNG, 'image/png') })).status).toBe(401);
    expect((await fetch(`${s.url}/media/1`, { headers: { authorization: 'Bearer pk_not-a-token' } })).status).toBe(401);
  });

  it('an upload is checked by content and size, and served back to a signed-in agent', async () => {
    const { s } = await start({ maxBytes: 4000 });
    const cookie = await signIn(s);
    const fake = await fetch(`${s.url}/media`, { method: 'POST', headers: { cookie }, body: form(NOT_AN_IMAGE, 'image/jpeg', 'x.jpg') });
    expect(fake.status).toBe(415);
    expect(((await fake.json()) as { error: string }).error).toMatch(/^Only JPEG, PNG, GIF images can be sent/);
    const big = await fetch(`${s.url}/media`, {
      method: 'POST',
      headers: { cookie },
      body: form(Buffer.concat([JPEG.subarray(0, 12), randomBytes(10_000)]), 'image/jpeg'),
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: string }).error).toBe('The file is larger than the 4 KB limit');
    const ok = await fetch(`${s.url}/media`, { method: 'POST', headers: { cookie }, body: form(PNG, 'application/octet-stream') });
    expect(ok.status).toBe(201);
    const up = (await ok.json()) as { id: number; contentType: string; size: number };
    expect(up).toMatchObject({ contentType: 'image/png', size: PNG.length });
    const back = await fetch(`${s.url}/media/${up.id}`, { headers: { cookie } });
    expect(back.status).toBe(200);
    expect(back.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await back.arrayBuffer()).equals(PNG)).toBe(true);
    // A cross-site form post is refused even with a cookie.
    const cross = await fetch(`${s.url}/media`, {
      method: 'POST',
      headers: { cookie, origin: 'https://evil.example' },
      body: form(PNG, 'image/png'),
    });
    expect(cross.status).toBe(403);
  });

  it('a signed link opens an outbound attachment until it expires; a forged or expired one is refused', async () => {
    const { s } = await start();
    const cookie = await signIn(s);
    const up = (await (await fetch(`${s.url}/media`, { method: 'POST', headers: { cookie }, body: form(PNG, 'image/png') })).json()) as {
      id: number;
    };
    const good = signedMediaPath(s.media.signingSecret, up.id, 60);
    expect((await fetch(`${s.url}${good}`)).status).toBe(200);
    const expired = signedMediaPath(s.media.signingSecret, up.id, 60, Date.now() - 120_000);
    const e = await fetch(`${s.url}${expired}`);
    expect(e.status).toBe(403);
    expect(((await e.json()) as { error: string }).error).toBe('link refused: link expired');
    const forged = good.replace(/sig=(.)/, (_m, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`);
    expect((await fetch(`${s.url}${forged}`)).status).toBe(403);
    expect((await fetch(`${s.url}${good.replace(/exp=\d+/, (e) => `exp=${Number(e.slice(4)) + 3600}`)}`)).status).toBe(403);
    expect((await fetch(`${s.url}${signedMediaPath('another-secret', up.id, 60)}`)).status).toBe(403);
    expect((await fetch(`${s.url}/media/${up.id}/signed`)).status).toBe(403);
  });
});
