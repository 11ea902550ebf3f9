import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../config';
import { TEST_PASSWORD_COST, hashPassword } from '../auth/password';
import { insertAgent } from '../domain/agents';
import { startTestServer, type TestServer } from '../testing/harness';
import { TEST_ADMIN } from '../config';
import { itSqlite } from '../testing/temp-db';

const ADMIN = TEST_ADMIN;
let servers: TestServer[] = [];
let dirs: string[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.dispose()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  servers = [];
  dirs = [];
});

async function start(overrides: Partial<Config> = {}, options: Parameters<typeof startTestServer>[2] = {}): Promise<TestServer> {
  const s = await startTestServer(overrides, undefined, options);
  servers.push(s);
  return s;
}

/** A built web app's shape: index.html loading one hashed script and stylesheet. */
function webDist(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-dist-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'assets'));
  writeFileSync(
    join(dir, 'index.html'),
    '<!doctype html><html><head><script type="module" crossorigin src="/assets/index-abc.js"></script></head><body><div id="root"></div></body></html>',
  );
  writeFileSync(join(dir, 'assets', 'index-abc.js'), `console.log(${JSON.stringify('parley '.repeat(2000))});\n`);
  return dir;
}

const post = (s: TestServer, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${s.url}/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
const get = (s: TestServer, path: string, input: unknown, headers: Record<string, string> = {}) =>
  fetch(`${s.url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers });
async function cookieOf(s: TestServer, who = ADMIN): Promise<string> {
  const res = await post(s, 'auth.login', who);
  expect(res.status).toBe(200);
  return (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
}
const errorMessage = async (res: Response) => ((await res.json()) as { error: { message: string } }).error.message;

/** A raw request (fetch cannot declare a length it does not send, or stream a chunked body). */
function rawPost(
  url: string,
  path: string,
  opts: { headers: Record<string, string>; chunks: Buffer[]; endAfterChunks: boolean },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'POST', headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    for (const c of opts.chunks) req.write(c);
    if (opts.endAfterChunks) req.end();
  });
}

describe('security headers (helmet) on real answers', () => {
  it('the web app, the API and probes carry a CSP for the built SPA, nosniff, no-referrer, DENY; no HSTS over http', async () => {
    const s = await start({}, { webDistDir: webDist() });
    const page = await fetch(s.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    const directives = Object.fromEntries(
      csp
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([k = '', ...v]) => [k, v]),
    );
    expect(directives['default-src']).toEqual(["'self'"]);
    expect(directives['script-src']).toEqual(["'self'"]);
    expect(directives['style-src']).toEqual(["'self'"]);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
    expect(directives['object-src']).toEqual(["'none'"]);
    const host = new URL(s.url).host;
    expect(directives['connect-src']).toEqual(["'self'", `ws://${host}`, `wss://${host}`]);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|upgrade-insecure-requests/);
    for (const res of [page, await get(s, 'auth.me', null), await fetch(`${s.url}/healthz`)]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('strict-transport-security')).toBeNull();
      expect(res.headers.get('x-powered-by')).toBeNull();
      await res.body?.cancel();
    }
  });

  it('HSTS, upgrade-insecure-requests and wss: of PUBLIC_URL when PUBLIC_URL is https', async () => {
    const s = await start({ publicUrl: 'https://parley.example.com' });
    const res = await fetch(`${s.url}/healthz`);
    expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("connect-src 'self' wss://parley.example.com");
    expect(csp).toContain('upgrade-insecure-requests');
  });
});

describe('compression', () => {
  it('compresses web assets and JSON answers for a client that accepts gzip; not for one that does not', async () => {
    const s = await start({}, { webDistDir: webDist() });
    const asset = await fetch(`${s.url}/assets/index-abc.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-encoding')).toBe('gzip');
    expect(await asset.text()).toContain('parley parley');
    const plain = await fetch(`${s.url}/assets/index-abc.js`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers.get('content-encoding')).toBeNull();
    await plain.body?.cancel();

    const cookie = await cookieOf(s);
    for (let i = 0; i < 12; i++)
      await post(s, 'message.send', { to: `+4477009000${String(10 + i)}`, text: 'a longer text to make a long list' }, { cookie });
    const list = await get(s, 'conversation.list', {}, { cookie, 'accept-encoding': 'gzip' });
    expect(list.status).toBe(200);
    expect(list.headers.get('content-encoding')).toBe('gzip');
    expect(((await list.json()) as { result: { data: { items: unknown[] } } }).result.data.items).toHaveLength(12);
  });
});

describe('TRUST_PROXY: whose X-Forwarded-For the login limiter believes', () => {
  const failFrom = (s: TestServer, forwardedFor: string, email: string) =>
    post(s, 'auth.login', { email, password: 'wrong-password' }, { 'x-forwarded-for': forwardedFor });

  it('parses true/false, hop counts, addresses, subnets and names; refuses anything else', () => {
    expect(loadConfig({}).trustProxy).toBe('loopback');
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.5, 192.168.0.0/16,uniquelocal,::1' }).trustProxy).toBe(
      '10.0.0.5, 192.168.0.0/16,uniquelocal,::1',
    );
    expect(() => loadConfig({ TRUST_PROXY: 'my-proxy' })).toThrow(/TRUST_PROXY: "my-proxy" is not/);
    expect(() => loadConfig({ TRUST_PROXY: '10.0.0.0/40' })).toThrow(/TRUST_PROXY/);
  });

  it('behind a trusted proxy (loopback, the default) each client is counted by its own address', async () => {
    const s = await start();
    for (let i = 1; i <= 6; i++) expect((await failFrom(s, `203.0.113.${i}`, `user${i}@x.test`)).status).toBe(401);
    // One client's sixth failure is its own: refused, with Retry-After.
    for (let i = 0; i < 5; i++) await failFrom(s, '198.51.100.7', `other${i}@x.test`);
    const sixth = await failFrom(s, '198.51.100.7', 'other-last@x.test');
    expect(sixth.status).toBe(429);
    expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThan(60);
    // Everyone else still signs in.
    expect((await post(s, 'auth.login', ADMIN, { 'x-forwarded-for': '203.0.113.99' })).status).toBe(200);
  });

  it('when the proxy is not the one TRUST_PROXY names, X-Forwarded-For is ignored and the socket address counts', async () => {
    // TRUST_PROXY names another host: our loopback client is not it, so its X-Forwarded-For is not believed.
    const s = await start({ trustProxy: loadConfig({ TRUST_PROXY: '10.0.0.5' }).trustProxy });
    for (let i = 1; i <= 5; i++) expect((await failFrom(s, `203.0.113.${i}`, `user${i}@x.test`)).status).toBe(401);
    expect((await failFrom(s, '203.0.113.6', 'user6@x.test')).status).toBe(429);
    const off = await start({ trustProxy: false });
    for (let i = 1; i <= 5; i++) await failFrom(off, `203.0.113.${i}`, `user${i}@x.test`);
    expect((await failFrom(off, '203.0.113.6', 'user6@x.test')).status).toBe(429);
  });
});

describe('cookie-authenticated mutations: own Origin and JSON only', () => {
  it('a cross-site or non-JSON auth.logout with the cookie is refused and the session lives on; same-origin JSON works', async () => {
    const s = await start();
    const cookie = await cookieOf(s);
    const evil = await post(s, 'auth.logout', null, { cookie, origin: 'https://evil.example' });
    expect(evil.status).toBe(403);
    expect(await errorMessage(evil)).toMatch(/Cross-origin request refused: Origin https:\/\/evil.example/);
    const form = new FormData();
    form.set('x', '1');
    const multipart = await fetch(`${s.url}/trpc/auth.logout`, { method: 'POST', headers: { cookie }, body: form });
    expect(multipart.status).toBe(415);
    expect(await errorMessage(multipart)).toMatch(/content-type: application\/json/);
    const text = await fetch(`${s.url}/trpc/auth.logout`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(text.status).toBe(415);
    const nullOrigin = await post(s, 'auth.logout', null, { cookie, origin: 'null' });
    expect(nullOrigin.status).toBe(403);
    expect((await get(s, 'auth.me', null, { cookie })).status).toBe(200);

    expect((await post(s, 'auth.logout', null, { cookie, origin: s.url })).status).toBe(200);
    expect((await get(s, 'auth.me', null, { cookie })).status).toBe(401);
  });

  it('a cross-site auth.login (login CSRF) is refused too; Bearer requests are not subject to Origin', async () => {
    const s = await start();
    expect((await post(s, 'auth.login', ADMIN, { origin: 'https://evil.example' })).status).toBe(403);
    const cookie = await cookieOf(s);
    const created = (await (await post(s, 'apiToken.create', { name: 'script' }, { cookie })).json()) as {
      result: { data: { token: string } };
    };
    const res = await post(
      s,
      'message.send',
      { to: '+447700900001', text: 'hi' },
      {
        authorization: `Bearer ${created.result.data.token}`,
        origin: 'https://dashboard.example',
      },
    );
    expect(res.status).toBe(200);
  });
});

describe('tRPC batches and body limits', () => {
  it('a batch over TRPC_MAX_BATCH_SIZE (20) is refused; 20 are answered', async () => {
    const s = await start();
    const cookie = await cookieOf(s);
    const batch = (n: number) =>
      fetch(`${s.url}/trpc/${Array(n).fill('auth.me').join(',')}?batch=1&input=${encodeURIComponent(JSON.stringify({}))}`, {
        headers: { cookie },
      });
    const over = await batch(21);
    expect(over.status).toBe(400);
    expect(await errorMessage(over)).toMatch(/at most 20 calls/);
    const ok = await batch(20);
    expect(ok.status).toBe(200);
    expect((await ok.json()) as unknown[]).toHaveLength(20);
  });

  it('a login declaring a 39 MB body is refused 413 before the body is sent; a chunked 2 MB one 413 at the small limit', async () => {
    const s = await start();
    const declared = await rawPost(s.url, '/trpc/auth.login', {
      headers: { 'content-type': 'application/json', 'content-length': String(39 * 1024 * 1024) },
      chunks: [Buffer.from('{"email":"admin@parley.test","password":"')],
      endAfterChunks: false,
    });
    expect(declared.status).toBe(413);
    expect(declared.body).toMatch(/over 1048576 bytes/);
    const chunked = await rawPost(s.url, '/trpc/auth.login', {
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      chunks: [Buffer.from('{"email":"admin@parley.test","password":"'), Buffer.alloc(2 * 1024 * 1024, 'a'), Buffer.from('"}')],
      endAfterChunks: true,
    });
    expect(chunked.status).toBe(413);
    // The server is fine afterwards.
    expect((await post(s, 'auth.login', ADMIN)).status).toBe(200);
  });

  it("the 40 MB upload limit is for a signed-in admin's campaign upload only", async () => {
    const s = await start();
    const admin = await cookieOf(s);
    await insertAgent(s.db, {
      email: 'agent@x.test',
      name: 'Agent',
      passwordHash: await hashPassword('agent-password', TEST_PASSWORD_COST),
      role: 'agent',
    });
    const agent = await cookieOf(s, { email: 'agent@x.test', password: 'agent-password' });
    const rows = Array.from({ length: 80_000 }, (_, i) => `+4477009${String(i).padStart(5, '0')}`).join('\n');
    const body = { text: 'Hello', recipients: `phone\n${rows}\n` };
    expect(JSON.stringify(body).length).toBeGreaterThan(1024 * 1024);
    const preview = await post(s, 'campaign.preview', body, { cookie: admin });
    expect(preview.status).toBe(200);
    expect(((await preview.json()) as { result: { data: { sendable: number } } }).result.data.sendable).toBe(80_000);
    expect((await post(s, 'campaign.preview', body, { cookie: agent })).status).toBe(413);
    expect((await post(s, 'campaign.preview', body)).status).toBe(413);
    // Anything else with that body: the small limit.
    expect((await post(s, 'message.send', body, { cookie: admin })).status).toBe(413);
  });
});

describe('smaller edges', () => {
  it('a search with a NUL byte (3+ characters, FTS5) answers 200, not 500', async () => {
    const s = await start();
    const cookie = await cookieOf(s);
    await post(s, 'message.send', { to: '+447700900001', text: 'abcdef' }, { cookie });
    for (const search of ['ab\u0000cd', '\u0000\u0000\u0000', 'abc\u0007\u001f']) {
      const res = await get(s, 'conversation.list', { search }, { cookie });
      expect({ search, status: res.status }).toEqual({ search, status: 200 });
      expect((await get(s, 'contact.list', { search }, { cookie })).status).toBe(200);
    }
    const found = (await (await get(s, 'conversation.list', { search: 'ab\u0000cd' }, { cookie })).json()) as {
      result: { data: { items: unknown[] } };
    };
    expect(found.result.data.items).toHaveLength(1);
  });

  itSqlite('the database, its WAL and SHM are created 0600', async () => {
    const s = await start();
    await post(s, 'auth.login', ADMIN);
    for (const file of ['parley.db', 'parley.db-wal', 'parley.db-shm']) {
      expect({ file, mode: (statSync(join(s.dir, file)).mode & 0o777).toString(8) }).toEqual({ file, mode: '600' });
    }
  });

  it('the request log names the tRPC procedure, never its input (search terms)', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(
          ...chunk
            .toString('utf8')
            .split('\n')
            .filter((l) => l !== ''),
        );
        done();
      },
    });
    const s = await start({ logLevel: 'info' }, { logDestination: destination });
    const cookie = await cookieOf(s);
    expect((await get(s, 'conversation.list', { search: 'secret-customer-term' }, { cookie })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    const requestLines = lines.map((l) => JSON.parse(l) as { req?: { url: string } }).filter((l) => l.req);
    expect(requestLines.map((l) => l.req?.url)).toContain('/trpc/conversation.list');
    expect(lines.join('\n')).not.toContain('secret-customer-term');
    expect(lines.join('\n')).not.toContain('input=');
  });
});
