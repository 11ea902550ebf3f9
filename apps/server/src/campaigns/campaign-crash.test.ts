/**
 * kill -9 mid-campaign: Parley runs as a child process (`node --import tsx src/main.ts`, as
 * `pnpm start` does) against the mock Vonage API in this process; it is SIGKILLed while sends are in
 * flight, restarted on the same database, and left to finish. The mock's record is the truth about
 * what went out.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CampaignCreatedDto, CampaignDto } from '@parley/shared';
import { startMockVonage, type MockVonage } from '../testing/mock-vonage';
import { allRecipients, killParley, startParleyProcess, trpcCall } from '../testing/parley-process';

const APP_ID = 'c0ffee00-0000-4000-8000-00000000c4a5';
const ADMIN = { email: 'admin@parley.test', password: 'crash-test-password' };

let mock: MockVonage;
let dir: string;
beforeAll(async () => {
  mock = await startMockVonage({ applicationId: APP_ID });
  dir = mkdtempSync(join(tmpdir(), 'parley-crash-'));
});
afterAll(async () => {
  await mock.close();
  rmSync(dir, { recursive: true, force: true });
});

const startParley = () =>
  startParleyProcess(
    'Parley',
    {
      PORT: '0',
      LOG_LEVEL: 'info',
      DATABASE_URL: `file:${join(dir, 'parley.db')}`,
      SMS_PROVIDER: 'vonage',
      VONAGE_APPLICATION_ID: APP_ID,
      VONAGE_PRIVATE_KEY: mock.keyPair.privateKeyPem,
      VONAGE_SIGNATURE_SECRET: 'crash-test-signature-secret',
      VONAGE_NUMBER: '+447700900000',
      VONAGE_API_HOST: mock.url,
      SEND_RATE_PER_SECOND: '300',
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
    },
    30_000,
  );

async function signIn(url: string): Promise<string> {
  const res = await fetch(`${url}/trpc/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  const cookie = /parley_session=[^;]+/.exec(res.headers.get('set-cookie') ?? '')?.[0];
  if (!cookie) throw new Error(`sign-in failed: ${res.status}`);
  return cookie;
}

const call = <T>(url: string, cookie: string, path: string, input: unknown, method: 'GET' | 'POST') =>
  trpcCall<T>(url, { cookie }, path, input, method);

const toOf = (r: { body: unknown }) => `+${(r.body as { to: string }).to}`;

describe('a campaign survives kill -9', () => {
  it('restarted on the same database it finishes: nobody texted twice, everyone sent or shown as interrupted', async () => {
    // Slow answers keep sends in flight, so the kill lands mid-send.
    mock.respond((req) => ({ status: 202, body: { message_uuid: req.messageUuid }, delayMs: 40 }));
    const numbers = Array.from({ length: 1_200 }, (_, i) => `+4477009${String(20_000 + i)}`);
    let parley = await startParley();
    try {
      let cookie = await signIn(parley.url);
      // Not a quiet-hours test: sends must not depend on the hour the suite runs at (quiet-hours.http.test.ts covers them).
      await call(parley.url, cookie, 'settings.update', { quietHours: null }, 'POST');
      const created = await call<CampaignCreatedDto>(
        parley.url,
        cookie,
        'campaign.create',
        { name: 'Crash', text: 'Hello', recipients: numbers },
        'POST',
      );
      expect(created.counts.pending).toBe(1_200);
      await vi.waitFor(() => expect(mock.requests.length).toBeGreaterThan(300), { timeout: 20_000, interval: 5 });
      await killParley(parley);
      const atKill = mock.requests.length;
      expect(atKill).toBeLessThan(1_200);

      parley = await startParley();
      cookie = await signIn(parley.url);
      let final: CampaignDto | undefined;
      await vi.waitFor(
        async () => {
          final = await call<CampaignDto>(parley.url, cookie, 'campaign.get', { id: created.id }, 'GET');
          expect(final.status).toBe('done');
        },
        { timeout: 30_000, interval: 200 },
      );

      const sent = mock.requests.map(toOf);
      expect(sent.length).toBe(new Set(sent).size); // nobody twice
      const recipients = await allRecipients(parley.url, { cookie }, created.id);
      expect(recipients).toHaveLength(1_200);
      const seen = new Set(sent);
      for (const r of recipients) {
        // Sent (the mock saw it and Parley recorded it), or interrupted (in flight at the kill: not resent).
        if (r.state === 'interrupted') continue;
        expect({ phone: r.phone, state: r.state, seen: seen.has(r.phone ?? '') }).toEqual({
          phone: r.phone,
          state: 'submitted',
          seen: true,
        });
      }
      const interrupted = recipients.filter((r) => r.state === 'interrupted');
      expect(final?.counts).toMatchObject({
        total: 1_200,
        pending: 0,
        queued: 0,
        submitted: 1_200 - interrupted.length,
        interrupted: interrupted.length,
      });
      // Only sends in flight at the kill can be interrupted (worker concurrency at 300/s: max(8, 300 / 10) = 30).
      expect(interrupted.length).toBeLessThanOrEqual(30);
      expect(mock.specViolations()).toEqual([]);
    } finally {
      await killParley(parley);
    }
  }, 90_000);
});
