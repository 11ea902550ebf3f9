import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startMockPlivo, type MockPlivo } from '../testing/mock-plivo';
import { startMockSinch, type MockSinch } from '../testing/mock-sinch';
import { startTestServer, type TestServer } from '../testing/harness';
import { testConfig } from '../config';
import { queueMessage } from '../domain/send';
import { signPlivoV3 } from './plivo/signature';
import { signSinchWebhook } from './sinch/signature';

/** createServer's live wiring: each provider's sender, status URL, webhook route and queue, against its mock. */
const PLIVO = '+14155550100';
const SINCH = '+14155550142';
const TOKEN = 'plivo-auth-token-for-tests';
const SECRET = 'sinch-webhook-secret-for-tests';
const VONAGE_OFF = { ...testConfig({ databasePath: ':memory:' }).vonage, enabled: false };

let s: TestServer | undefined;
let plivo: MockPlivo | undefined;
let sinch: MockSinch | undefined;
afterEach(async () => {
  await s?.dispose();
  await plivo?.close();
  await sinch?.close();
  s = plivo = sinch = undefined;
});

async function waitFor<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 8000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

const statusOf = async (server: TestServer, id: number) =>
  (await server.events.readAfter(0, 10_000))
    .flatMap((e) => (e.type === 'message.status' && e.payload.message.id === id ? [e.payload.message.status] : []))
    .at(-1);

describe('live providers wired by createServer', () => {
  it('Plivo: sends to the API with a status URL under PUBLIC_URL; a V3-signed callback to it settles the message', async () => {
    plivo = await startMockPlivo({ authId: 'MA_TEST', authToken: TOKEN });
    const publicUrl = 'https://parley.example.com';
    s = await startTestServer({
      provider: 'plivo',
      publicUrl,
      vonage: { ...VONAGE_OFF },
      plivo: {
        enabled: true,
        authId: 'MA_TEST',
        authToken: TOKEN,
        mainAuthToken: undefined,
        numbers: [PLIVO],
        apiUrl: plivo.url,
        sendRatePerSecond: undefined,
        allowV2: false,
      },
      sinch: {
        enabled: false,
        servicePlanId: undefined,
        apiToken: undefined,
        region: 'us',
        webhookSecret: undefined,
        numbers: [],
        apiUrl: undefined,
        sendRatePerSecond: undefined,
      },
    });
    expect(s.numbers.list()).toEqual([{ number: PLIVO, provider: 'plivo', sandbox: false, isDefault: true }]);
    const { message } = await queueMessage({
      log: s.events,
      ourNumber: PLIVO,
      provider: 'plivo',
      to: '+447700900001',
      text: 'hi via Plivo',
      agentId: 1,
    });
    s.outbox?.wake();
    const request = await waitFor(() => plivo?.requests[0]);
    expect(request.specErrors).toEqual([]);
    const body = request.body as { src: string; dst: string; text: string; url: string };
    expect(body).toMatchObject({ src: '14155550100', dst: '447700900001', text: 'hi via Plivo' });
    expect(body.url).toBe(`${publicUrl}/webhooks/plivo/status?ref=${message.clientRef ?? ''}`);
    await waitFor(async () => (await statusOf(s as TestServer, message.id)) === 'submitted');

    // Plivo calls the public URL; behind the proxy it reaches us on our own address, signed over the public one.
    const params = {
      MessageUUID: request.messageUuid,
      Status: 'delivered',
      To: '447700900001',
      From: '14155550100',
      ErrorCode: '',
      Units: '1',
    };
    const nonce = randomUUID();
    const signature = signPlivoV3({ url: body.url, params, nonce, authToken: TOKEN });
    const path = body.url.slice(publicUrl.length);
    const post = (sig: string, n: string) =>
      fetch(`${s?.url ?? ''}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-plivo-signature-v3': sig, 'x-plivo-signature-v3-nonce': n },
        body: new URLSearchParams(params).toString(),
      });
    expect((await post(signature, nonce)).status).toBe(200);
    expect(await statusOf(s, message.id)).toBe('delivered');
    // The same signed request again is a replay: refused.
    expect((await post(signature, nonce)).status).toBe(401);
  });

  it('Sinch: sends a batch with client_reference; an HMAC-signed report settles it and an unsigned one is refused', async () => {
    sinch = await startMockSinch();
    s = await startTestServer({
      provider: 'sinch',
      vonage: { ...VONAGE_OFF },
      plivo: {
        enabled: false,
        authId: undefined,
        authToken: undefined,
        mainAuthToken: undefined,
        numbers: [],
        apiUrl: undefined,
        sendRatePerSecond: undefined,
        allowV2: false,
      },
      sinch: {
        enabled: true,
        servicePlanId: sinch.servicePlanId,
        apiToken: sinch.apiToken,
        region: 'eu',
        webhookSecret: SECRET,
        numbers: [SINCH],
        apiUrl: sinch.url,
        sendRatePerSecond: undefined,
      },
    });
    const { message } = await queueMessage({
      log: s.events,
      ourNumber: SINCH,
      provider: 'sinch',
      to: '+447700900002',
      text: 'hi via Sinch',
      agentId: 1,
    });
    s.outbox?.wake();
    const request = await waitFor(() => sinch?.requests[0]);
    expect(request.specErrors).toEqual([]);
    // With HMAC signing on, Sinch calls only the dashboard URL: no per-batch callback_url.
    expect(request.body).toMatchObject({ to: ['+447700900002'], from: SINCH, body: 'hi via Sinch', client_reference: message.clientRef });
    expect(request.body).not.toHaveProperty('callback_url');
    await waitFor(async () => (await statusOf(s as TestServer, message.id)) === 'submitted');

    const report = JSON.stringify({
      type: 'recipient_delivery_report_sms',
      batch_id: request.batchId,
      recipient: '447700900002',
      status: 'Delivered',
      code: 0,
      at: new Date().toISOString(),
      client_reference: message.clientRef,
    });
    const send = (headers: Record<string, string>) =>
      fetch(`${s?.url ?? ''}/webhooks/sinch/status`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: report,
      });
    expect((await send({})).status).toBe(401);
    expect(await statusOf(s, message.id)).toBe('submitted');
    expect((await send(signSinchWebhook({ rawBody: report, secret: SECRET }))).status).toBe(200);
    expect(await statusOf(s, message.id)).toBe('delivered');
  });
});
