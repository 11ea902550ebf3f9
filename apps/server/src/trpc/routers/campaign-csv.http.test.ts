/**
 * Campaign CSV uploads and CSV exports through real HTTP against a real server (issue 11 point 2,
 * issue 18 point 8): a malformed file is reported per line and never becomes a campaign; a 30 MB
 * upload does not stall the event loop; the row cap stops the reading early; exports neutralise
 * spreadsheet formulas.
 */
import { updateSettings } from '../../domain/settings';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../testing/harness';
import { raw } from '../../testing/raw';

let s: TestServer;
let cookie = '';
beforeEach(async () => {
  s = await startTestServer();
  // Not a quiet-hours test: sends must not depend on the hour the suite runs at (quiet-hours.http.test.ts covers them).
  await updateSettings({ log: s.events, agentId: null, patch: { quietHours: null } });
  const res = await call('auth.login', { email: 'admin@parley.test', password: 'parley-test-password' });
  expect(res.status).toBe(200);
  cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
});
afterEach(async () => {
  await s.dispose();
});

function call(path: string, input: unknown): Promise<Response> {
  return fetch(`${s.url}/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: s.url, ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(input),
  });
}
async function json<T>(res: Response): Promise<T> {
  return ((await res.json()) as { result: { data: T } }).result.data;
}
type Preview = { sendable: number; counts: { total: number }; csvErrors: { line: number; reason: string }[] };
const campaignCount = async () => ((await raw(s.db).get('select count(*) as n from campaigns')) as { n: number }).n;

describe('a CSV that does not parse completely', () => {
  const broken = 'phone,name\n+447700900001,"Ann\n+447700900002,Bob\n+447700900003,Cy\n';

  it('is reported per line in the preview (line, reason), and no recipient of it is silently taken', async () => {
    const res = await call('campaign.preview', { text: 'Hi {name}', recipients: broken });
    expect(res.status).toBe(200);
    const preview = await json<Preview>(res);
    expect(preview.csvErrors).toEqual([{ line: 2, reason: expect.stringMatching(/quoted field opens on line 2 and is never closed/) }]);
    // Before: one recipient "+447700900001" named "Ann\n+447700900002,Bob\n…", the others gone without a word.
    expect(preview.counts.total).toBe(0);
  });

  it('never becomes a campaign: BAD_REQUEST naming the line', async () => {
    const good = 'phone,name\n+447700900009,Zed\n';
    const res = await call('campaign.create', { name: 'Spring', text: 'Hi', recipients: `${good}+447700900001,"Ann\n+447700900002,Bob\n` });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { message: string; data: { code: string } } };
    expect(body.error.data.code).toBe('BAD_REQUEST');
    expect(body.error.message).toMatch(/did not parse completely, so no campaign was created: line 3: A quoted field opens on line 3/);
    expect(await campaignCount()).toBe(0);
    // The same file fixed is accepted.
    expect(
      (await call('campaign.create', { name: 'Spring', text: 'Hi', recipients: `${good}+447700900001,"Ann"\n+447700900002,Bob\n` })).status,
    ).toBe(200);
    expect(await campaignCount()).toBe(1);
  });

  it('keeps ; and tab delimiters, a BOM and CRLF', async () => {
    for (const csv of ['\uFEFFname;phone\r\n"A; B";+447700900001\r\n', 'phone\tname\r\n+447700900001\tAnn, Jr\r\n']) {
      const preview = await json<Preview>(await call('campaign.preview', { text: 'Hi', recipients: csv }));
      expect([preview.sendable, preview.csvErrors]).toEqual([1, []]);
    }
  });
});

describe('a large CSV', () => {
  it('a 30 MB preview never stalls the loop: /healthz keeps answering quickly while it is read', async () => {
    const pad = 'x'.repeat(120);
    const lines = ['phone,name'];
    for (let i = 0; i < 199_000; i++) lines.push(`+4477009${String(i % 100_000).padStart(5, '0')},${pad}${i}`);
    const csv = `${lines.join('\n')}\n`;
    expect(csv.length).toBeGreaterThan(25 * 1024 * 1024);
    let done = false;
    const preview = call('campaign.preview', { text: 'Hi', recipients: csv }).finally(() => {
      done = true;
    });
    const waits: number[] = [];
    while (!done) {
      const started = performance.now();
      const res = await fetch(`${s.url}/healthz`);
      expect(res.status).toBe(200);
      waits.push(performance.now() - started);
      await new Promise((r) => setTimeout(r, 20));
    }
    const res = await preview;
    expect(res.status).toBe(200);
    expect((await json<Preview>(res)).counts.total).toBe(199_000);
    expect(waits.length).toBeGreaterThan(3);
    if (process.env.PARLEY_TEST_VERBOSE) console.log(`healthz: ${waits.length} answers, slowest ${Math.round(Math.max(...waits))} ms`);
    // Synchronous parsing held /healthz for seconds; a generous bound for a loaded 2-core machine.
    expect(Math.max(...waits)).toBeLessThan(500);
  }, 120_000);

  it('the 200,000-row cap stops the reading as rows arrive, with a clear error', async () => {
    const rows = Array.from({ length: 600_000 }, (_, i) => `+4477009${String(i % 100_000).padStart(5, '0')}`);
    const res = await call('campaign.preview', { text: 'Hi', recipients: `phone\n${rows.join('\n')}\n` });
    expect(res.status).toBe(400);
    const message = ((await res.json()) as { error: { message: string } }).error.message;
    // Stopped at the first row past the cap (line 200,002), never counting the file's 600,000.
    expect(message).toBe('More than 200000 recipients: reading stopped at line 200002. A campaign takes at most 200000');
  }, 60_000);
});

describe('CSV exports neutralise spreadsheet formulas', () => {
  it('contact.exportOptOuts: a name starting with = + - @ tab or CR gets a leading quote; phone numbers stay as they are', async () => {
    const names = ['=HYPERLINK("http://evil")', '+SUM(1)', '-2+3', '@cmd', '\tTab', '\rCR', 'Plain'];
    for (const [i, name] of names.entries())
      await raw(s.db).run(
        "insert into contacts (phone, name, created_at, opted_out_at, opt_out_source) values (?, ?, 0, ?, 'agent')",
        `+4477009000${10 + i}`,
        name,
        1_700_000_000_000 + i,
      );
    const res = await fetch(`${s.url}/trpc/contact.exportOptOuts`, { headers: { cookie, origin: s.url } });
    expect(res.status).toBe(200);
    const { csv } = await json<{ csv: string }>(res);
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe('phone,name,opted_out_at,source');
    expect(lines[1]).toMatch(/^\+447700900010,"'=HYPERLINK\(""http:\/\/evil""\)",/);
    expect(lines[2]).toMatch(/^\+447700900011,'\+SUM\(1\),/);
    expect(lines[3]).toMatch(/^\+447700900012,'-2\+3,/);
    expect(lines[4]).toMatch(/^\+447700900013,'@cmd,/);
    expect(lines[5]).toMatch(/^\+447700900014,'\tTab,/);
    expect(csv).toContain(`+447700900015,"'\rCR",`);
    expect(csv).toContain('+447700900016,Plain,');
  });
});
