import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../types';
import type { OutboundSms, ProviderFailure, SmsProvider } from '../types';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Vonage } from '@vonage/server-sdk';
import { MMSImage, SMS } from '@vonage/messages';
import { ReusedJwtAuth } from './auth';
import { createVonageProvider, readVonagePrivateKey, toProviderError, toVonageAddress } from './sender';
import { parseRetryAfter } from '../http';
import { describeVonageError, vonageErrorReason } from './errors';
import { accepted, generateTestKeyPair, startMockVonage, vonageProblem } from '../../testing/mock-vonage';
import type { MockVonage } from '../../testing/mock-vonage';
import { loadMessagesSpec, validateSendRequest } from '../../testing/openapi';

const APP_ID = 'aaaaaaaa-bbbb-cccc-dddd-0123456789ab';
const keyPair = generateTestKeyPair();
const dir = mkdtempSync(join(tmpdir(), 'parley-vonage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const msg: OutboundSms = { messageId: 'msg_01HZX3K9', from: '+447700900001', to: '+447700900000', text: 'Hello from Parley' };

async function failure(promise: Promise<unknown>): Promise<ProviderFailure> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return (error as ProviderError).failure;
}

describe('describeVonageError', () => {
  it('maps the codes agents need', () => {
    expect(describeVonageError({ code: '1000' })).toEqual({ code: '1000', reason: 'Throttled by Vonage', retryable: true });
    expect(describeVonageError({ code: 1170 })).toEqual({ code: '1170', reason: 'Number is invalid or missing', retryable: false });
    expect(describeVonageError({ code: '1240' }).reason).toBe('Recipient has opted out (STOP) at the carrier');
    for (const code of ['1120', '1180', '1190', '1210', '1220', '1230', '1250', '1330', '1360']) {
      expect(describeVonageError({ code }).retryable, code).toBe(false);
    }
    expect(describeVonageError({ code: '9999' })).toEqual({ code: '9999', reason: 'Vonage error 9999', retryable: false });
    expect(describeVonageError({ title: 'Odd', code: null })).toEqual({ code: 'unknown', reason: 'Odd', retryable: false });
  });

  it('maps HTTP statuses; 401/402/429/5xx win over body codes', () => {
    expect(describeVonageError({ httpStatus: 401 })).toEqual({
      code: 'http_401',
      reason: 'Vonage rejected our credentials',
      retryable: false,
    });
    expect(describeVonageError({ httpStatus: 402 }).reason).toBe('Vonage account balance too low');
    expect(describeVonageError({ httpStatus: 422 })).toEqual({
      code: 'http_422',
      reason: 'Vonage refused the message as invalid',
      retryable: false,
    });
    expect(describeVonageError({ httpStatus: 429, code: '1010' })).toEqual({
      code: '1010',
      reason: 'Throttled by Vonage',
      retryable: true,
    });
    expect(describeVonageError({ httpStatus: 503 })).toEqual({ code: 'http_503', reason: 'Vonage had an internal error', retryable: true });
    expect(describeVonageError({ httpStatus: 422, code: '1170' }).reason).toBe('Number is invalid or missing');
  });

  it('has a reason for every code in the spec x-errors table', () => {
    const codes = Object.keys(loadMessagesSpec()['x-errors'] as object);
    expect(codes.length).toBeGreaterThan(40);
    expect(codes.filter((c) => vonageErrorReason(c) === null)).toEqual([]);
    expect(vonageErrorReason(' 1240 ')).toBe('Recipient has opted out (STOP) at the carrier');
    expect(vonageErrorReason('42')).toBeNull();
  });
});

describe('validateSendRequest', () => {
  const sdkBody = { to: '447700900000', from: 'Parley', client_ref: 'm1', message_type: 'text', text: 'hi', channel: 'sms' };
  it('accepts what the SDK sends (with the documented `message` patch)', () => {
    expect(validateSendRequest(sdkBody)).toEqual([]);
    const base = (loadMessagesSpec().components as { schemas: { baseMessageType: { required: string[] } } }).schemas.baseMessageType;
    expect(base.required).toContain('message'); // the published spec still needs the patch
  });
  it('reports violations', () => {
    expect(validateSendRequest({ ...sdkBody, text: undefined })).toEqual(["(body): must have required property 'text'"]);
    expect(validateSendRequest({ ...sdkBody, to: '+447700900000' })[0]).toMatch(/^to: /);
    expect(validateSendRequest({ ...sdkBody, client_ref: 'x'.repeat(41) })[0]).toMatch(/^client_ref: /);
    expect(validateSendRequest({ ...sdkBody, channel: 'whatsapp' })).toEqual(['channel: must be equal to one of the allowed values']);
    expect(validateSendRequest('nope')).toEqual(['(body): must be object']);
  });
});

describe('Vonage provider against the mock', () => {
  let mock: MockVonage;
  let provider: SmsProvider;
  beforeEach(async () => {
    mock = await startMockVonage({ keyPair, applicationId: APP_ID });
    provider = createVonageProvider({ applicationId: APP_ID, privateKey: keyPair.privateKeyPem, apiHost: mock.url, timeoutMs: 2000 });
  });
  afterEach(async () => {
    expect(mock.specViolations()).toEqual([]);
    await mock.close();
  });

  it('reuses one application JWT across sends (signing per request capped throughput)', async () => {
    await provider.send(msg);
    await provider.send(msg);
    const [a, b] = mock.requests;
    expect(a?.headers.authorization).toMatch(/^Bearer /);
    expect(b?.headers.authorization).toBe(a?.headers.authorization);
    expect(mock.requests.every((r) => r.authError === undefined || r.authError === null)).toBe(true);
  });

  it('202: returns the message uuid and sends a spec-valid body with a verified JWT', async () => {
    const result = await provider.send(msg);
    const [req] = mock.requests;
    expect(result).toEqual({ providerMessageId: req?.messageUuid });
    expect(req?.body).toMatchObject({
      to: '447700900000',
      from: '447700900001',
      text: msg.text,
      client_ref: msg.messageId,
      message_type: 'text',
      channel: 'sms',
    });
    expect(req?.authError).toBeUndefined();
    expect(req?.jwt?.header.alg).toBe('RS256');
    expect(req?.jwt?.payload.application_id).toBe(APP_ID);
    expect(req?.specErrors).toEqual([]);
  });

  it('passes an alphanumeric sender unchanged', async () => {
    await provider.send({ ...msg, from: 'Parley' });
    expect(mock.requests[0]?.body).toMatchObject({ from: 'Parley' });
  });

  it('429 is retryable and keeps Retry-After; a later 202 succeeds', async () => {
    mock.respond((_req, n) => (n <= 2 ? { ...vonageProblem(429), headers: { 'retry-after': '7' } } : accepted('uuid-3')));
    for (let i = 0; i < 2; i++) {
      const f = await failure(provider.send(msg));
      expect(f).toMatchObject({
        retryable: true,
        httpStatus: 429,
        code: 'http_429',
        reason: 'Throttled by Vonage',
        title: 'Rate Limit Hit',
        retryAfterMs: 7000,
      });
    }
    expect(await provider.send(msg)).toEqual({ providerMessageId: 'uuid-3' });
  });

  it('422 with invalid_parameters is final and keeps title, detail and parameters', async () => {
    const invalid = [{ name: 'to', reason: 'Not a valid number' }];
    mock.enqueue(vonageProblem(422, { title: 'Invalid recipient', detail: 'The `to` parameter is invalid.', invalid_parameters: invalid }));
    const f = await failure(provider.send(msg));
    expect(f).toEqual({
      retryable: false,
      httpStatus: 422,
      code: 'http_422',
      reason: 'Vonage refused the message as invalid',
      title: 'Invalid recipient',
      detail: 'The `to` parameter is invalid.',
      invalidParameters: invalid,
    });
  });

  it('422 with a numeric code in title uses the code reason', async () => {
    mock.enqueue(vonageProblem(422, { title: '1170', detail: 'Invalid or Missing Msisdn Param' }));
    expect(await failure(provider.send(msg))).toMatchObject({ retryable: false, code: '1170', reason: 'Number is invalid or missing' });
  });

  it('500 is retryable; 401 and 402 are final', async () => {
    mock.enqueue(vonageProblem(500), vonageProblem(401), vonageProblem(402));
    expect(await failure(provider.send(msg))).toMatchObject({ retryable: true, httpStatus: 500, reason: 'Vonage had an internal error' });
    expect(await failure(provider.send(msg))).toMatchObject({
      retryable: false,
      httpStatus: 401,
      reason: 'Vonage rejected our credentials',
    });
    expect(await failure(provider.send(msg))).toMatchObject({
      retryable: false,
      httpStatus: 402,
      reason: 'Vonage account balance too low',
      title: 'Low balance',
    });
  });

  it('a JWT signed with the wrong key gets a real 401 from the mock', async () => {
    const other = createVonageProvider({ applicationId: APP_ID, privateKey: generateTestKeyPair().privateKeyPem, apiHost: mock.url });
    expect(await failure(other.send(msg))).toMatchObject({ retryable: false, httpStatus: 401 });
    expect(mock.requests[0]?.authError).toBe('JWT signature does not verify');
  });

  it('non-JSON error bodies do not crash', async () => {
    mock.enqueue({ status: 502, body: '<html><body>Bad gateway</body></html>', headers: { 'content-type': 'text/html' } });
    mock.enqueue({ status: 422, body: 'oops' });
    mock.enqueue({ status: 503 });
    expect(await failure(provider.send(msg))).toMatchObject({
      retryable: true,
      httpStatus: 502,
      detail: '<html><body>Bad gateway</body></html>',
    });
    expect(await failure(provider.send(msg))).toMatchObject({ retryable: false, httpStatus: 422, detail: 'oops' });
    const f = await failure(provider.send(msg));
    expect(f).toMatchObject({ retryable: true, httpStatus: 503 });
    expect(f.detail).toBeUndefined();
  });

  it('a 202 without a JSON body is an error that must not be retried', async () => {
    mock.enqueue({ status: 202, body: '{"message_uuid":"x"}' }); // text/plain: the SDK ignores the body
    expect(await failure(provider.send(msg))).toMatchObject({ retryable: false, code: 'invalid_response' });
  });

  it('a held request can be answered after the test has seen it', async () => {
    const held = mock.hold();
    const sending = provider.send(msg);
    const req = await held.received;
    expect(req.body).toMatchObject({ client_ref: msg.messageId });
    held.release();
    expect(await sending).toEqual({ providerMessageId: req.messageUuid });
  });

  it('a dropped connection and a timeout are retryable network errors', async () => {
    mock.enqueue({ status: 202, drop: true });
    expect(await failure(provider.send(msg))).toMatchObject({ retryable: true, code: 'network', requestSent: true });
    const quick = createVonageProvider({ applicationId: APP_ID, privateKey: keyPair.privateKeyPem, apiHost: mock.url, timeoutMs: 100 });
    mock.enqueue({ ...accepted(), delayMs: 1000 });
    const f = await failure(quick.send(msg));
    expect(f).toEqual({ retryable: true, code: 'network', requestSent: true, reason: 'Vonage did not answer within 100 ms' });
  });

  it('a body that breaks the spec is refused with 422 and recorded', async () => {
    const f = await failure(provider.send({ ...msg, to: '12' }));
    expect(f).toMatchObject({ retryable: false, httpStatus: 422 });
    expect(f.invalidParameters?.map((p) => p.name)).toContain('to');
    expect(mock.specViolations()).toHaveLength(1);
    mock.reset(); // keep afterEach's no-violation check for the other tests
  });

  it('refuses a request without a bearer token', async () => {
    const res = await fetch(`${mock.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(mock.requests[0]?.authError).toBe('missing Bearer token');
    mock.reset();
  });
});

describe('the direct request is the one the SDK sends', () => {
  const cases: [string, OutboundSms][] = [
    ['SMS', msg],
    ['SMS, unicode and quotes', { ...msg, text: 'Ünïcode "quoted" \\ back\nslash 😀 — done' }],
    ['SMS, alphanumeric sender', { ...msg, from: 'Parley' }],
    [
      'MMS with a caption',
      {
        ...msg,
        from: '+14155550100',
        to: '+14155550101',
        text: 'Your receipt',
        media: [{ url: 'https://media.example/r.png', contentType: 'image/png' }],
      },
    ],
    [
      'MMS without a caption',
      {
        ...msg,
        from: '+14155550100',
        to: '+14155550101',
        text: ' ',
        media: [{ url: 'https://media.example/r.png', contentType: 'image/png' }],
      },
    ],
  ];

  /** What @vonage/server-sdk itself sends (as Parley used to send it). */
  async function viaSdk(apiHost: string, m: OutboundSms): Promise<unknown> {
    const vonage = new Vonage(new ReusedJwtAuth({ applicationId: APP_ID, privateKey: keyPair.privateKeyPem }), { apiHost });
    const [image] = m.media ?? [];
    const message = image
      ? new MMSImage({
          to: toVonageAddress(m.to),
          from: toVonageAddress(m.from),
          image: { url: image.url, ...(m.text.trim() !== '' ? { caption: m.text } : {}) },
          clientRef: m.messageId,
        })
      : new SMS({
          channel: 'sms',
          messageType: 'text',
          to: toVonageAddress(m.to),
          from: toVonageAddress(m.from),
          text: m.text,
          clientRef: m.messageId,
        });
    return vonage.messages.send(message);
  }

  it.each(cases)('%s: same method, URL, headers and body bytes; both spec-valid with a verified JWT', async (_name, m) => {
    const mock = await startMockVonage({ keyPair, applicationId: APP_ID });
    try {
      const direct = createVonageProvider({ applicationId: APP_ID, privateKey: keyPair.privateKeyPem, apiHost: mock.url });
      await viaSdk(mock.url, m);
      await direct.send(m);
      const [sdk, ours] = mock.requests;
      expect(ours?.method).toBe(sdk?.method);
      expect(ours?.url).toBe(sdk?.url);
      expect(ours?.rawBody).toBe(sdk?.rawBody);
      const { authorization: sdkAuth, ...sdkHeaders } = sdk?.headers ?? {};
      const { authorization: ourAuth, ...ourHeaders } = ours?.headers ?? {};
      expect(ourHeaders).toEqual(sdkHeaders);
      // Each signs its own application JWT (fresh jti/iat): the same kind of token.
      expect(ourAuth).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
      expect(sdkAuth).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
      expect(ours?.jwt?.header).toEqual(sdk?.jwt?.header);
      expect(Object.keys(ours?.jwt?.payload ?? {}).sort()).toEqual(Object.keys(sdk?.jwt?.payload ?? {}).sort());
      for (const r of [sdk, ours]) {
        expect(r?.authError).toBeUndefined();
        expect(r?.specErrors).toEqual([]);
      }
      expect(mock.specViolations()).toEqual([]);
    } finally {
      await mock.close();
    }
  });

  it('reads a compressed 202 (it asks for gzip, deflate or br, as the SDK does)', async () => {
    const server = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(202, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        res.end(gzipSync(JSON.stringify({ message_uuid: 'aaaaaaaa-0000-4000-8000-00000000000a' })));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const direct = createVonageProvider({
        applicationId: APP_ID,
        privateKey: keyPair.privateKeyPem,
        apiHost: `http://127.0.0.1:${port}`,
      });
      expect(await direct.send(msg)).toEqual({ providerMessageId: 'aaaaaaaa-0000-4000-8000-00000000000a' });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('network failures', () => {
  it('an unused port is a retryable network error', async () => {
    const mock = await startMockVonage({ keyPair });
    const url = mock.url;
    await mock.close();
    const provider = createVonageProvider({ applicationId: APP_ID, privateKey: keyPair.privateKeyPem, apiHost: url });
    const f = await failure(provider.send(msg));
    expect(f).toMatchObject({ retryable: true, code: 'network', requestSent: false, reason: 'Could not reach Vonage' });
    expect(f.httpStatus).toBeUndefined();
    expect(f.detail).toContain('ECONNREFUSED');
  });

  it('wraps unexpected throws as unknown, final errors', async () => {
    expect((await toProviderError(new RangeError('boom'), 1000)).failure).toEqual({
      retryable: false,
      code: 'unknown',
      reason: 'Unexpected error while sending via Vonage',
      detail: 'boom',
    });
    expect((await toProviderError('weird', 1000)).failure.code).toBe('unknown');
    const original = new ProviderError({ retryable: true, code: 'x', reason: 'y' });
    expect(await toProviderError(original, 1000)).toBe(original);
  });

  it('parses Retry-After as seconds or a date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('private key', () => {
  const body = keyPair.privateKeyPem.split('\n')[1] ?? '';
  const noKeyMaterial = (fn: () => unknown): string => {
    let message = '';
    try {
      fn();
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^VONAGE_PRIVATE_KEY: /);
    expect(message).not.toContain(body.slice(0, 16));
    return message;
  };

  it('accepts PEM contents, a path, and a one-line PEM with literal \\n', async () => {
    const path = join(dir, 'private.key');
    writeFileSync(path, keyPair.privateKeyPem);
    expect(readVonagePrivateKey(keyPair.privateKeyPem)).toBe(keyPair.privateKeyPem);
    expect(readVonagePrivateKey(path)).toBe(keyPair.privateKeyPem);
    expect(readVonagePrivateKey(keyPair.privateKeyPem.replace(/\n/g, '\\n'))).toBe(keyPair.privateKeyPem);
    const mock = await startMockVonage({ keyPair });
    try {
      const provider = createVonageProvider({ applicationId: APP_ID, privateKey: path, apiHost: mock.url });
      await expect(provider.send(msg)).resolves.toMatchObject({ providerMessageId: expect.any(String) });
      expect(mock.requests[0]?.authError).toBeUndefined();
    } finally {
      await mock.close();
    }
  });

  it('says which problem it is, without key material', () => {
    const missing = join(dir, 'missing.key');
    expect(noKeyMaterial(() => createVonageProvider({ applicationId: APP_ID, privateKey: missing }))).toBe(
      `VONAGE_PRIVATE_KEY: file ${missing} not found`,
    );
    const notPem = join(dir, 'not-pem.key');
    writeFileSync(notPem, body);
    const expected = 'VONAGE_PRIVATE_KEY: not a PEM private key (expected -----BEGIN PRIVATE KEY-----)';
    expect(noKeyMaterial(() => readVonagePrivateKey(notPem))).toBe(expected);
    expect(noKeyMaterial(() => readVonagePrivateKey(`-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`))).toBe(expected);
    expect(noKeyMaterial(() => readVonagePrivateKey(keyPair.publicKeyPem))).toBe(expected);
    expect(noKeyMaterial(() => readVonagePrivateKey(keyPair.privateKeyPem.split('\n').slice(1, -2).join('\n')))).toMatch(/value not shown/);
    expect(noKeyMaterial(() => readVonagePrivateKey(''))).toBe('VONAGE_PRIVATE_KEY: empty');
    expect(noKeyMaterial(() => readVonagePrivateKey(dir))).toMatch(/is not readable \(EISDIR\)/);
  });

  it('refuses a non-RSA key', () => {
    const ec = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    expect(() => readVonagePrivateKey(ec.privateKey)).toThrow('VONAGE_PRIVATE_KEY: not an RSA private key');
  });
});
