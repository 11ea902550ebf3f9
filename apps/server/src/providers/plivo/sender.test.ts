import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classifyFailure } from '../../outbox/backoff';
import { plivoAccepted, plivoError, startMockPlivo, type MockPlivo } from '../../testing/mock-plivo';
import { createPlivoProvider, toPlivoAddress } from './sender';
import { describePlivoHttpError, isPlivoNoError, plivoErrorReason, plivoStatusToParley } from './errors';
import { ProviderError, type OutboundSms, type ProviderFailure } from '../types';

const example = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../../test/fixtures/plivo/examples/${name}`, import.meta.url), 'utf8'));

const AUTH_ID = 'MAZDQ1ZJIYMDZKMMZKYM';
const AUTH_TOKEN = 'PlivoTestTokenPlivoTestTokenPlivoToken01';
const PUBLIC = 'https://parley.example.com';

let mock: MockPlivo;
beforeAll(async () => {
  mock = await startMockPlivo({ authId: AUTH_ID, authToken: AUTH_TOKEN });
});
afterEach(() => mock.reset());
afterAll(async () => {
  await mock.close();
});

const provider = (over: Partial<Parameters<typeof createPlivoProvider>[0]> = {}) =>
  createPlivoProvider({
    authId: AUTH_ID,
    authToken: AUTH_TOKEN,
    apiUrl: mock.url,
    statusUrl: (ref) => `${PUBLIC}/webhooks/plivo/status?ref=${encodeURIComponent(ref)}`,
    ...over,
  });

/** The message behind send-request.json. */
const MSG: OutboundSms = {
  messageId: '01J9Z6Q4W3E2R1T0Y9U8I7O6P5',
  from: '+14155550100',
  to: '+14155550123',
  text: 'Your order #42 is ready for pickup.',
};

async function failure(promise: Promise<unknown>): Promise<ProviderFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return (error as ProviderError).failure;
}

describe('send request', () => {
  it('posts exactly the documented request (send-request.json) with Basic auth to …/Message/ (trailing slash)', async () => {
    const result = await provider().send(MSG);
    expect(mock.requests).toHaveLength(1);
    const req = mock.requests[0];
    expect(req?.specErrors).toEqual([]);
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe(`/v1/Account/${AUTH_ID}/Message/`);
    expect(req?.headers['content-type']).toMatch(/^application\/json/);
    expect(req?.auth).toEqual({ authId: AUTH_ID, authToken: AUTH_TOKEN });
    expect(req?.body).toEqual(example('send-request.json'));
    expect(Object.keys(req?.body as object).sort()).toEqual(Object.keys(example('send-request.json') as object).sort());
    expect(result).toEqual({ providerMessageId: req?.messageUuid });
  });

  it('defaults to https://api.plivo.com and strips the + from numbers, keeping an alphanumeric sender id', async () => {
    const calls: { url: string; init: RequestInit | undefined }[] = [];
    const fakeFetch: typeof fetch = async (input, init) => {
      calls.push({ url: String(input), init });
      return new Response(JSON.stringify({ api_id: 'x', message: 'message(s) queued', message_uuid: ['u-1'] }), {
        status: 202,
        headers: { 'content-type': 'application/json' },
      });
    };
    const p = createPlivoProvider({ authId: AUTH_ID, authToken: AUTH_TOKEN, statusUrl: () => `${PUBLIC}/s`, fetch: fakeFetch });
    expect(p.name).toBe('plivo');
    await expect(p.send({ ...MSG, from: 'Parley' })).resolves.toEqual({ providerMessageId: 'u-1' });
    expect(calls[0]?.url).toBe(`https://api.plivo.com/v1/Account/${AUTH_ID}/Message/`);
    expect(JSON.parse(String(calls[0]?.init?.body))).toMatchObject({ src: 'Parley', dst: '14155550123' });
    expect(toPlivoAddress('+447700900001')).toBe('447700900001');
  });

  it('parses the 202 of send-response-202.json (message_uuid is an array)', async () => {
    mock.enqueue({ status: 202, body: example('send-response-202.json') });
    await expect(provider().send(MSG)).resolves.toEqual({ providerMessageId: '9b2d1f7a-3c4e-4d5f-8a6b-7c8d9e0f1a2b' });
  });

  it('a 2xx without message_uuid is invalid_response: never retried (it was sent), settled by the ?ref= callback', async () => {
    mock.enqueue({ status: 202, body: { api_id: 'x', message: 'message(s) queued' } });
    const f = await failure(provider().send(MSG));
    expect(f).toMatchObject({ code: 'invalid_response', retryable: false });
    expect(classifyFailure(f)).toBe('unknown');
  });
});

describe('errors the outbox retries', () => {
  it('429 with Retry-After (seconds): retryable, httpStatus kept, Retry-After honoured', async () => {
    mock.enqueue(plivoError(429, 'rate_limit_exceeded', { 'retry-after': '7' }));
    const f = await failure(provider().send(MSG));
    expect(f).toMatchObject({
      retryable: true,
      httpStatus: 429,
      code: 'http_429',
      reason: 'Throttled by Plivo',
      detail: 'rate_limit_exceeded',
      retryAfterMs: 7000,
    });
    expect(classifyFailure(f)).toBe('retry');
  });

  it('429 with Retry-After as an HTTP date', async () => {
    mock.enqueue(plivoError(429, undefined, { 'retry-after': new Date(Date.now() + 30_000).toUTCString() }));
    const f = await failure(provider().send(MSG));
    expect(f.retryAfterMs).toBeGreaterThan(25_000);
    expect(f.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it.each([500, 502, 503])('%i: retryable (the statuses the SDK loses)', async (status) => {
    mock.enqueue(status === 500 ? plivoError(500) : { status, body: '<html>Bad gateway</html>' });
    const f = await failure(provider().send(MSG));
    expect(f).toMatchObject({ retryable: true, httpStatus: status, reason: 'Plivo had an internal error' });
    expect(classifyFailure(f)).toBe('retry');
    if (status !== 500) expect(f.detail).toBe('<html>Bad gateway</html>');
  });

  it('connection refused: nothing was sent (requestSent false) → retry', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const { port: p } = s.address() as AddressInfo;
        s.close(() => resolve(p));
      });
    });
    const f = await failure(provider({ apiUrl: `http://127.0.0.1:${port}` }).send(MSG));
    expect(f).toMatchObject({ code: 'network', retryable: true, requestSent: false, reason: 'Could not reach Plivo' });
    expect(f.detail).toMatch(/ECONNREFUSED/);
    expect(classifyFailure(f)).toBe('retry');
  });

  it('timeout: may have been sent (requestSent true) → not resent blindly', async () => {
    mock.enqueue({ ...plivoAccepted(), delayMs: 400 });
    const f = await failure(provider({ timeoutMs: 100 }).send(MSG));
    expect(f).toMatchObject({ code: 'network', retryable: true, requestSent: true, reason: 'Plivo did not answer within 100 ms' });
    expect(classifyFailure(f)).toBe('unknown');
  });

  it('connection reset after the request was written: requestSent true', async () => {
    mock.enqueue({ status: 202, drop: true });
    const f = await failure(provider().send(MSG));
    expect(f).toMatchObject({ code: 'network', requestSent: true });
    expect(classifyFailure(f)).toBe('unknown');
  });
});

describe('permanent errors, with readable reasons and Plivo’s error kept as detail', () => {
  it('400: invalid request', async () => {
    mock.enqueue(plivoError(400, 'dst parameter not valid'));
    const f = await failure(provider().send(MSG));
    expect(f).toMatchObject({
      retryable: false,
      httpStatus: 400,
      code: 'http_400',
      reason: 'Plivo refused the request as invalid',
      detail: 'dst parameter not valid',
    });
    expect(classifyFailure(f)).toBe('fail');
  });

  it('403: the destination country is not enabled in Geo Permissions', async () => {
    mock.enqueue(plivoError(403));
    const f = await failure(provider().send(MSG));
    expect(f).toMatchObject({ retryable: false, httpStatus: 403 });
    expect(f.reason).toMatch(/Geo Permissions/);
    expect(f.detail).toBe('This destination country is not enabled in your Geo Permissions.');
    expect(classifyFailure(f)).toBe('fail');
  });

  it('401 (wrong token, as the mock checks it) and 404 name the configuration to check', async () => {
    const f401 = await failure(provider({ authToken: 'WrongTokenWrongTokenWrongTokenWrong001' }).send(MSG));
    expect(f401).toMatchObject({ retryable: false, httpStatus: 401 });
    expect(f401.reason).toMatch(/PLIVO_AUTH_TOKEN/);
    mock.enqueue(plivoError(404, 'not found'));
    const f404 = await failure(provider().send(MSG));
    expect(f404).toMatchObject({ retryable: false, httpStatus: 404, detail: 'not found' });
    expect(f404.reason).toMatch(/PLIVO_AUTH_ID/);
  });

  it('"Insufficient Credit" says so, whatever the status', async () => {
    mock.enqueue(plivoError(400, 'Insufficient Credit'));
    expect(await failure(provider().send(MSG))).toMatchObject({ retryable: false, reason: 'Plivo account has insufficient credit' });
  });

  it('never puts the auth token in an error, even when the answer echoes it', async () => {
    mock.respond(() => plivoError(400, `bad request from ${AUTH_ID}:${AUTH_TOKEN}`));
    const error = await provider()
      .send(MSG)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    const text = `${String((error as Error).message)} ${JSON.stringify((error as ProviderError).failure)}`;
    expect(text).not.toContain(AUTH_TOKEN);
    expect(text).toContain('[redacted]');
  });
});

describe('mock Plivo checks the documented request shape', () => {
  it('refuses a + in dst, a missing trailing slash and wrong credentials', async () => {
    const bad = createPlivoProvider({ authId: AUTH_ID, authToken: AUTH_TOKEN, apiUrl: mock.url, statusUrl: () => 'not a url' });
    const f = await failure(bad.send(MSG));
    expect(f).toMatchObject({ httpStatus: 400 });
    expect(f.detail).toMatch(/url: an absolute http\(s\) URL/);
    const res = await fetch(`${mock.url}/v1/Account/${AUTH_ID}/Message`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${AUTH_ID}:${AUTH_TOKEN}`).toString('base64')}` },
      body: JSON.stringify({ src: '+14155550100', dst: '+14155550123', text: 'x' }),
    });
    expect(res.status).toBe(400);
    expect(mock.requests.at(-1)?.specErrors).toEqual(
      expect.arrayContaining([expect.stringMatching(/trailing slash/), expect.stringMatching(/^src:/), expect.stringMatching(/^dst:/)]),
    );
  });
});

describe('plivo-errors', () => {
  it('maps Plivo statuses to Parley statuses; queued changes nothing', () => {
    expect(['queued', 'sent', 'delivered', 'undelivered', 'failed', 'rejected', 'read', 'bogus'].map(plivoStatusToParley)).toEqual([
      null,
      'submitted',
      'delivered',
      'undeliverable',
      'failed',
      'rejected',
      'read',
      null,
    ]);
  });

  it('gives readable reasons for the documented codes, and a generic one with the code otherwise', () => {
    expect(plivoErrorReason('200')).toBe('The recipient opted out (STOP) at Plivo');
    expect(plivoErrorReason('30')).toMatch(/spam/);
    expect(plivoErrorReason('900')).toMatch(/insufficient credit/);
    expect(plivoErrorReason('450')).toMatch(/Geo Permissions/);
    for (const code of ['10', '20', '40', '50', '60', '70', '80', '90', '100', '110', '201', '420', '1000']) {
      expect(plivoErrorReason(code)).not.toMatch(/^Plivo error/);
    }
    expect(plivoErrorReason('130')).toBe('Plivo error 130');
  });

  it("treats '' and '000' as no error", () => {
    expect([isPlivoNoError(''), isPlivoNoError('000'), isPlivoNoError(null), isPlivoNoError('30')]).toEqual([true, true, true, false]);
  });

  it('classifies HTTP statuses', () => {
    expect([400, 401, 403, 404, 405, 429, 500, 503].map((s) => describePlivoHttpError(s).retryable)).toEqual([
      false,
      false,
      false,
      false,
      false,
      true,
      true,
      true,
    ]);
  });
});
