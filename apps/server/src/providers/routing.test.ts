import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageDto, ProviderName } from '@parley/shared';
import { startTestServer, type TestServer } from '../testing/harness';
import type { OutboundSms, SmsProvider } from './types';

/** Several numbers, each on its provider: sends route by the conversation's provider, each with its own queue. */
const VONAGE = '+447700900000';
const PLIVO = '+14155550100';
const SINCH = '+14155550142';

let s: TestServer | undefined;
afterEach(async () => {
  await s?.dispose();
  s = undefined;
});

type Call = (path: string, input: unknown) => Promise<Response>;

/** Signs in as the test admin: `call` for mutations (POST), `query` for queries (GET). */
async function signIn(server: TestServer): Promise<Call & { query: Call }> {
  const login = await fetch(`${server.url}/trpc/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'admin@parley.test', password: 'parley-test-password' }),
  });
  expect(login.status).toBe(200);
  const cookie = login.headers.get('set-cookie')?.split(';')[0] ?? '';
  const call: Call = (path, input) =>
    fetch(`${server.url}/trpc/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify(input),
    });
  const query: Call = (path, input) =>
    fetch(`${server.url}/trpc/${path}${input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`}`, {
      headers: { cookie },
    });
  return Object.assign(call, { query });
}

async function dataOf<T>(res: Response): Promise<T> {
  const body = (await res.json()) as { result?: { data: T }; error?: { message: string } };
  if (!body.result) throw new Error(`call failed (${res.status}): ${body.error?.message ?? ''}`);
  return body.result.data;
}

async function waitFor<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 8000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Records sends; with `hang`, each send waits until `release()` (a provider that stopped answering). */
function recorder(name: string, opts: { hang?: boolean } = {}): SmsProvider & { sent: OutboundSms[]; release(): void } {
  const sent: OutboundSms[] = [];
  const waiting: (() => void)[] = [];
  let hang = opts.hang === true;
  return {
    name,
    sent,
    send(msg) {
      sent.push(msg);
      const result = { providerMessageId: randomUUID() };
      if (hang) return new Promise((resolve) => waiting.push(() => resolve(result)));
      return Promise.resolve(result);
    },
    release() {
      hang = false;
      for (const go of waiting.splice(0)) go();
    },
  };
}

const statusOf = async (server: TestServer, id: number) =>
  (await server.events.readAfter(0, 100_000))
    .flatMap((e) => (e.type === 'message.status' && e.payload.message.id === id ? [e.payload.message.status] : []))
    .at(-1);

describe('numbers on several providers', () => {
  it('lists our numbers, sends from the chosen one through its provider, and refuses a number that is not ours', async () => {
    const rec = { vonage: recorder('v'), plivo: recorder('p'), sinch: recorder('s') };
    s = await startTestServer({}, undefined, { providers: rec });
    const call = await signIn(s);
    const numbers = await dataOf<{ number: string; provider: ProviderName; isDefault: boolean }[]>(
      await call.query('number.list', undefined),
    );
    expect(numbers.map((n) => [n.number, n.provider, n.isDefault])).toEqual([
      [VONAGE, 'vonage', true],
      [PLIVO, 'plivo', false],
      [SINCH, 'sinch', false],
    ]);

    const viaDefault = await dataOf<MessageDto>(await call('message.send', { to: '+447700900001', text: 'default' }));
    const viaPlivo = await dataOf<MessageDto>(await call('message.send', { to: '+447700900002', text: 'plivo', from: PLIVO }));
    const viaSinch = await dataOf<MessageDto>(await call('message.send', { to: '+447700900003', text: 'sinch', from: SINCH }));
    expect([viaDefault.from, viaPlivo.from, viaSinch.from]).toEqual([VONAGE, PLIVO, SINCH]);
    // A reply in an existing conversation leaves through that conversation's provider.
    const reply = await dataOf<MessageDto>(await call('message.send', { conversationId: viaPlivo.conversationId, text: 'again' }));
    await waitFor(() => rec.plivo.sent.length === 2 && rec.sinch.sent.length === 1 && rec.vonage.sent.length === 1);
    expect(rec.plivo.sent.map((m) => [m.from, m.to, m.text])).toEqual([
      [PLIVO, '+447700900002', 'plivo'],
      [PLIVO, '+447700900002', 'again'],
    ]);
    expect(rec.sinch.sent.map((m) => m.text)).toEqual(['sinch']);
    expect(rec.vonage.sent.map((m) => m.text)).toEqual(['default']);
    expect(reply.from).toBe(PLIVO);

    const conversation = await dataOf<{ provider: string; ourNumber: string }>(
      await call.query('conversation.get', { id: viaSinch.conversationId }),
    );
    expect(conversation).toMatchObject({ provider: 'sinch', ourNumber: SINCH });
    const onPlivo = await dataOf<{ items: { id: number }[] }>(await call.query('conversation.list', { filter: 'all', number: PLIVO }));
    expect(onPlivo.items.map((c) => c.id)).toEqual([viaPlivo.conversationId]);

    const refused = await call('message.send', { to: '+447700900004', text: 'x', from: '+15550001111' });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
      /\+15550001111 is not one of Parley's numbers/,
    );
  });

  it("one provider stuck does not hold back another's queue", async () => {
    const rec = { vonage: recorder('v', { hang: true }), plivo: recorder('p'), sinch: recorder('s') };
    s = await startTestServer({}, undefined, { providers: rec });
    const call = await signIn(s);
    for (let i = 0; i < 12; i++) await call('message.send', { to: `+4477009001${String(i).padStart(2, '0')}`, text: `v${i}` });
    await call('message.send', { to: '+447700900200', text: 'through plivo', from: PLIVO });
    await waitFor(() => rec.plivo.sent.length === 1);
    // Vonage's worker is stuck on its first sends (at most its concurrency of 8); Plivo's went out anyway.
    expect(rec.vonage.sent.length).toBeGreaterThan(0);
    expect(rec.vonage.sent.length).toBeLessThanOrEqual(8);
    rec.vonage.release();
  });

  it.each([
    ['vonage', VONAGE],
    ['plivo', PLIVO],
    ['sinch', SINCH],
  ] as const)(
    'sandbox %s: inbound on its number, a reply through it reaches delivered, all through signed webhooks',
    async (provider, number) => {
      s = await startTestServer();
      const server = s;
      const call = await signIn(server);
      const from = '+447700900321';
      const ok = await call('sandbox.simulateInbound', { from, to: number, text: `hello ${provider}` });
      expect(ok.status, await ok.clone().text()).toBe(200);
      const inbound = await waitFor(async () =>
        (await server.events.readAfter(0, 1000)).flatMap((e) => (e.type === 'conversation.updated' ? [e.payload.conversation] : [])).at(-1),
      );
      expect(inbound).toMatchObject({ provider, ourNumber: number, contactPhone: from });
      const reply = await dataOf<MessageDto>(await call('message.send', { conversationId: inbound.id, text: 'thanks!' }));
      expect(reply.from).toBe(number);
      await waitFor(async () => (await statusOf(server, reply.id)) === 'delivered', 10_000);
    },
  );
});
