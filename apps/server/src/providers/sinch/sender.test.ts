import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classifyFailure } from '../../outbox/backoff';
import { sinchError, startMockSinch, type MockSinch } from '../../testing/mock-sinch';
import { createSinchProvider, sinchApiUrl, type SinchProviderOptions } from './sender';
import { ProviderError, type OutboundSms, type ProviderFailure } from '../types';

const example = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../../test/fixtures/sinch/examples/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

const TOKEN = 'sinch-secret-token-3f9a';
const PLAN = 'plan-0123abcd';
const MSG: OutboundSms = {
  messageId: '01J9Z6Q4W3E2R1T0Y9U8I7O6P5',
  from: '+12015550100',
  to: '+12015550123',
  text: 'Your order #42 is ready for pickup.',
};

let mock: MockSinch;
beforeAll(async () => {
  mock = await startMockSinch({ servicePlanId: PLAN, apiToken: TOKEN });
});
afterAll(() => mock.close());
/** Requests a test sends on purpose against the contract (the wrong plan) are checked by that test. */
let expectViolations = false;
afterEach(() => {
  const violations = mock.specViolations().filter((r) => r.authError === undefined);
  const expected = expectViolations;
  expectViolations = false;
  mock.reset();
  if (!expected) expect(violations.map((r) => r.specErrors)).toEqual([]);
});

const provider = (over: Partial<SinchProviderOptions> = {}) =>
  createSinchProvider({ servicePlanId: PLAN, apiToken: TOKEN, region: 'us', apiUrl: mock.url, timeoutMs: 2000, ...over });

/** The ProviderFailure a send rejects with (failing the test if it resolves or throws anything else). */
async function failureOf(promise: Promise<unknown>): Promise<ProviderFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  const failure = (error as ProviderError).failure;
  // The API token never leaks into an error.
  expect(JSON.stringify(failure)).not.toContain(TOKEN);
  expect((error as ProviderError).message).not.toContain(TOKEN);
  return failure;
}

describe('Sinch provider: the request', () => {
  it('posts the fields of examples/send-request.json (plus type mt_text) with Bearer auth to /xms/v1/{plan}/batches', async () => {
    const p = provider();
    expect(p.name).toBe('sinch');
    await p.send(MSG);
    const [req] = mock.requests;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe(`/xms/v1/${PLAN}/batches`);
    expect(req?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(req?.headers['content-type']).toMatch(/^application\/json/);
    const expected = example('send-request.json');
    expect(req?.body).toEqual({ ...expected, type: 'mt_text' });
    // Every field of the example is there, with the same JSON type.
    for (const [key, value] of Object.entries(expected)) {
      expect(typeof (req?.body as Record<string, unknown>)[key], key).toBe(typeof value);
    }
  });

  it('adds callback_url only when one is configured', async () => {
    await provider({ callbackUrl: 'https://parley.example.com/webhooks/sinch/status' }).send(MSG);
    await provider().send(MSG);
    const [withUrl, without] = mock.requests.map((r) => r.body as Record<string, unknown>);
    expect(withUrl?.callback_url).toBe('https://parley.example.com/webhooks/sinch/status');
    expect(without).not.toHaveProperty('callback_url');
  });

  it('keeps an emoji text and an alphanumeric sender as they are', async () => {
    await provider().send({ ...MSG, from: 'Parley', text: 'Thanks 👋' });
    expect(mock.requests[0]?.body).toMatchObject({ from: 'Parley', body: 'Thanks 👋', to: ['+12015550123'] });
  });

  it('defaults the host from the region and refuses an unknown region', async () => {
    const urls: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      urls.push(String(input));
      return new Response(JSON.stringify({ id: 'B1' }), { status: 201, headers: { 'content-type': 'application/json' } });
    };
    const p = createSinchProvider({ servicePlanId: PLAN, apiToken: TOKEN, region: 'eu', fetch: fakeFetch });
    await expect(p.send(MSG)).resolves.toEqual({ providerMessageId: 'B1' });
    expect(urls).toEqual([`https://eu.sms.api.sinch.com/xms/v1/${PLAN}/batches`]);
    expect(sinchApiUrl('us')).toBe('https://us.sms.api.sinch.com');
    expect(sinchApiUrl('xx', 'http://127.0.0.1:9/')).toBe('http://127.0.0.1:9');
    expect(() => createSinchProvider({ servicePlanId: PLAN, apiToken: TOKEN, region: 'mars' })).toThrow(/SINCH_REGION.*us, eu, au, br, ca/);
    expect(() => createSinchProvider({ servicePlanId: PLAN, apiToken: ' ', region: 'us' })).toThrow('SINCH_API_TOKEN: empty');
    expect(() => createSinchProvider({ servicePlanId: '', apiToken: TOKEN, region: 'us' })).toThrow('SINCH_SERVICE_PLAN_ID: empty');
  });
});

describe('Sinch provider: success', () => {
  it('takes the batch id of a 201 shaped like examples/send-response-201.json', async () => {
    mock.enqueue({ status: 201, body: example('send-response-201.json') });
    await expect(provider().send(MSG)).resolves.toEqual({ providerMessageId: '01J9Z7A8B9C0D1E2F3G4H5J6K7' });
  });

  it("answers with the mock's fresh id by default, and accepts any 2xx", async () => {
    const first = await provider().send(MSG);
    expect(first.providerMessageId).toBe(mock.requests[0]?.batchId);
    expect(first.providerMessageId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    mock.enqueue({ status: 200, body: { id: 'B-200' } }, { status: 202, body: { id: 'B-202' } });
    await expect(provider().send(MSG)).resolves.toEqual({ providerMessageId: 'B-200' });
    await expect(provider().send(MSG)).resolves.toEqual({ providerMessageId: 'B-202' });
  });

  it('a 2xx without a batch id is invalid_response: not retried (it was sent), settled by client_reference', async () => {
    mock.enqueue({ status: 201, body: { to: ['12015550123'] } });
    const failure = await failureOf(provider().send(MSG));
    expect(failure).toMatchObject({ code: 'invalid_response', retryable: false, httpStatus: 201 });
    expect(classifyFailure(failure)).toBe('unknown');
  });
});

describe('Sinch provider: error answers', () => {
  it.each([429, 500, 502, 503])('%i is retryable', async (status) => {
    mock.enqueue(sinchError(status));
    const failure = await failureOf(provider().send(MSG));
    expect(failure).toMatchObject({ retryable: true, httpStatus: status });
    expect(classifyFailure(failure)).toBe('retry');
  });

  it('429 honours Retry-After (seconds and HTTP date) and reads "Throttled by Sinch"', async () => {
    mock.enqueue(sinchError(429, { headers: { 'retry-after': '7' } }));
    const failure = await failureOf(provider().send(MSG));
    expect(failure).toMatchObject({
      code: 'too_many_requests',
      reason: 'Throttled by Sinch',
      retryAfterMs: 7000,
      detail: 'Too many outstanding requests',
    });
    mock.enqueue(sinchError(503, { headers: { 'retry-after': new Date(Date.now() + 30_000).toUTCString() } }));
    const later = await failureOf(provider().send(MSG));
    expect(later.reason).toBe('Sinch is temporarily unavailable');
    expect(later.retryAfterMs).toBeGreaterThan(25_000);
    expect(later.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it.each([
    [400, 'syntax_invalid_parameter_format', 'Invalid number or parameter'],
    [400, 'syntax_invalid_json', 'Sinch could not parse the request (invalid JSON)'],
    [400, 'syntax_constraint_violation', 'A required field is missing or invalid'],
    [403, 'missing_callback_url', 'Sinch has no callback URL for delivery reports: set one under Callback URLs in the Sinch dashboard'],
    [403, 'blocked_account', 'Sinch account is blocked (possibly out of credit)'],
    [403, 'illegal_number_type', 'Number type not allowed for this sender or destination'],
    [403, 'unknown_campaign', 'Unknown campaign for this sender'],
    [400, 'something_new', 'Sinch refused the request as invalid'],
    [403, 'something_new', 'Sinch refused the request'],
  ])('%i %s is permanent: "%s"', async (status, code, reason) => {
    mock.enqueue(sinchError(status, { code, text: `text for ${code}` }));
    const failure = await failureOf(provider().send(MSG));
    expect(failure).toMatchObject({ retryable: false, httpStatus: status, code, reason, title: code, detail: `text for ${code}` });
    expect(classifyFailure(failure)).toBe('fail');
  });

  it('parses examples/error-response-400.json', async () => {
    mock.enqueue({ status: 400, body: example('error-response-400.json') });
    const failure = await failureOf(provider().send(MSG));
    expect(failure).toMatchObject({ code: 'syntax_constraint_violation', detail: 'The syntax constraint was violated', retryable: false });
  });

  it('parses the { error: { code, message, status } } shape too', async () => {
    mock.enqueue({ status: 400, body: { error: { code: 400, message: 'Invalid phone number', status: 'INVALID_ARGUMENT', details: [] } } });
    const failure = await failureOf(provider().send(MSG));
    expect(failure).toMatchObject({
      code: 'INVALID_ARGUMENT',
      reason: 'Invalid number or parameter',
      detail: 'Invalid phone number',
      retryable: false,
    });
    mock.enqueue({ status: 429, body: { error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED' } } });
    expect(await failureOf(provider().send(MSG))).toMatchObject({ code: 'RESOURCE_EXHAUSTED', retryable: true, detail: 'Quota exceeded' });
  });

  it('401 is a configuration fault: permanent, and the reason names the settings (never the token)', async () => {
    const failure = await failureOf(provider({ apiToken: 'wrong-token-value' }).send(MSG));
    expect(mock.requests[0]?.authError).toBe('wrong Bearer token');
    expect(failure).toMatchObject({ httpStatus: 401, retryable: false });
    expect(failure.reason).toContain('SINCH_API_TOKEN');
    expect(failure.reason).toContain('SINCH_SERVICE_PLAN_ID');
    expect(JSON.stringify(failure)).not.toContain('wrong-token-value');
    expect(classifyFailure(failure)).toBe('fail');
  });

  it('404 (wrong plan or region) is permanent with a readable reason; a non-JSON body is kept as a snippet', async () => {
    expectViolations = true;
    const failure = await failureOf(provider({ servicePlanId: 'other-plan' }).send(MSG));
    expect(mock.requests[0]?.specErrors).toEqual([`expected POST /xms/v1/${PLAN}/batches, got POST /xms/v1/other-plan/batches`]);
    expect(failure).toMatchObject({ httpStatus: 404, retryable: false });
    expect(failure.reason).toContain('SINCH_SERVICE_PLAN_ID');
    mock.enqueue({ status: 502, body: '<html><body>Bad   gateway</body></html>' });
    expect(await failureOf(provider().send(MSG))).toMatchObject({
      code: 'http_502',
      retryable: true,
      detail: '<html><body>Bad gateway</body></html>',
    });
  });
});

describe('Sinch provider: transport errors', () => {
  it('connection refused: requestSent false, so the outbox retries', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((r) => closed.close(() => r()));
    const failure = await failureOf(provider({ apiUrl: `http://127.0.0.1:${port}` }).send(MSG));
    expect(failure).toMatchObject({ code: 'network', retryable: true, requestSent: false, reason: 'Could not reach Sinch' });
    expect(failure.detail).toContain('ECONNREFUSED');
    expect(classifyFailure(failure)).toBe('retry');
  });

  it('DNS failure: requestSent false', async () => {
    const dnsFetch: typeof fetch = () =>
      Promise.reject(
        new TypeError('fetch failed', {
          cause: Object.assign(new Error('getaddrinfo ENOTFOUND us.sms.api.sinch.com'), { code: 'ENOTFOUND' }),
        }),
      );
    const failure = await failureOf(createSinchProvider({ servicePlanId: PLAN, apiToken: TOKEN, region: 'us', fetch: dnsFetch }).send(MSG));
    expect(failure).toMatchObject({ code: 'network', requestSent: false, detail: 'getaddrinfo ENOTFOUND us.sms.api.sinch.com' });
  });

  it('timeout: requestSent true, so the message becomes interrupted rather than texted twice', async () => {
    mock.enqueue({ ...sinchError(500), delayMs: 400 });
    const failure = await failureOf(provider({ timeoutMs: 100 }).send(MSG));
    expect(failure).toMatchObject({ code: 'network', requestSent: true, reason: 'Sinch did not answer within 100 ms' });
    expect(classifyFailure(failure)).toBe('unknown');
  });

  it('connection reset after the request was written: requestSent true', async () => {
    mock.enqueue({ status: 201, drop: true });
    const failure = await failureOf(provider().send(MSG));
    expect(failure).toMatchObject({ code: 'network', requestSent: true });
    expect(classifyFailure(failure)).toBe('unknown');
  });

  it('anything else thrown is an unexpected, permanent error', async () => {
    const broken: typeof fetch = () => Promise.reject(new RangeError('boom'));
    const failure = await failureOf(createSinchProvider({ servicePlanId: PLAN, apiToken: TOKEN, region: 'us', fetch: broken }).send(MSG));
    expect(failure).toMatchObject({ code: 'unknown', retryable: false, detail: 'boom' });
  });
});
