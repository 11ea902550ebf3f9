import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { NonceStore } from '../../webhooks/nonces';
import { plivoV3Payload, signPlivoV2, signPlivoV3, verifyPlivoRequest } from './signature';

interface V3Example {
  name: string;
  method: string;
  url: string;
  rawBody: string;
  decodedParams: Record<string, string>;
  headers: Record<string, string>;
  baseString: string;
  expectedSignature: string;
}
interface WorkedExample {
  authToken: string;
  v3: V3Example[];
  v2: { url: string; nonce: string; headers: Record<string, string>; baseString: string; expectedSignature: string };
  sdkTestVectors: {
    authToken: string;
    nonce: string;
    cases: { method: string; url: string; signature: string }[];
    params: Record<string, string>;
    v2: { url: string; nonce: string; authToken: string; signature: string };
  };
}

const ex = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/plivo/examples/signature-worked-example.json', import.meta.url), 'utf8'),
) as WorkedExample;
const TOKEN = ex.authToken;
const [inbound, status] = ex.v3;
if (!inbound || !status) throw new Error('worked example has fewer than two V3 entries');

/** A NonceStore in memory that records what it was asked to claim. */
function memoryNonces(): NonceStore & { claims: [string, string][] } {
  const seen = new Set<string>();
  const claims: [string, string][] = [];
  return {
    claims,
    async claim(provider, nonce) {
      await Promise.resolve();
      claims.push([provider, nonce]);
      const key = `${provider}\u0000${nonce}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    },
    seen: async (provider, nonce) => Promise.resolve(seen.has(`${provider}\u0000${nonce}`)),
  };
}

const pairs = (raw: string): [string, string][] => [...new URLSearchParams(raw)];
const hmac = (token: string, message: string) => createHmac('sha256', token).update(message, 'utf8').digest('base64');

async function verify(e: V3Example, over: Partial<Parameters<typeof verifyPlivoRequest>[0]> = {}) {
  return await verifyPlivoRequest({
    method: e.method,
    url: e.url,
    headers: e.headers,
    params: pairs(e.rawBody),
    authToken: TOKEN,
    nonces: memoryNonces(),
    allowV2: true,
    ...over,
  });
}

describe('V3 worked examples', () => {
  it.each(ex.v3.map((e) => [e.name, e] as const))('%s: base string, signature and verification', async (_name, e) => {
    expect(`${plivoV3Payload({ url: e.url, params: pairs(e.rawBody), method: e.method })}.${e.headers['X-Plivo-Signature-V3-Nonce']}`).toBe(
      e.baseString,
    );
    const nonce = e.headers['X-Plivo-Signature-V3-Nonce'] ?? '';
    expect(signPlivoV3({ url: e.url, params: pairs(e.rawBody), nonce, authToken: TOKEN })).toBe(e.expectedSignature);
    // The decoded record gives the same signature as the pairs decoded from the raw body.
    expect(signPlivoV3({ url: e.url, params: e.decodedParams, nonce, authToken: TOKEN })).toBe(e.expectedSignature);
    expect(e.headers['X-Plivo-Signature-V3']).toBe(e.expectedSignature);
    const nonces = memoryNonces();
    expect(await verify(e, { nonces })).toEqual({ ok: true, scheme: 'v3' });
    expect(nonces.claims).toEqual([['plivo', nonce]]);
  });

  it('decodes values: `1+of+1` is `1 of 1`, %F0%9F%93%A6 is 📦, %23 is #', () => {
    expect(inbound.baseString).toContain('TextHi, is order #42 ready? 📦');
    expect(status.baseString).toContain('PartInfo1 of 1');
    const raw = signPlivoV3({
      url: inbound.url,
      params: inbound.rawBody.split('&').map((kv) => kv.split('=') as [string, string]),
      nonce: '38716549207134582961',
      authToken: TOKEN,
    });
    expect(raw).not.toBe(inbound.expectedSignature);
  });

  it('empty fields count: dropping `ErrorCode=` (or `MessageIntent=`) breaks the signature', async () => {
    expect(status.baseString).toContain('ErrorCodeFrom');
    const dropped = pairs(status.rawBody).filter(([k]) => k !== 'ErrorCode');
    expect(await verify(status, { params: dropped })).toMatchObject({ ok: false, status: 401 });
    const droppedIntent = pairs(inbound.rawBody).filter(([k]) => k !== 'MessageIntent');
    expect(await verify(inbound, { params: droppedIntent })).toMatchObject({ ok: false, status: 401 });
  });

  it('sorts keys by code unit (requester_ip after every capital), not localeCompare', () => {
    const payload = plivoV3Payload({ url: status.url, params: pairs(status.rawBody) });
    expect(payload.endsWith('Units1requester_ip203.0.113.10')).toBe(true);
    // What a localeCompare sort would sign instead: a different string, a different signature.
    const fields = pairs(status.rawBody).sort(([a], [b]) => a.localeCompare(b));
    const localeSorted = `${status.url}.${fields.map(([k, v]) => `${k}${v}`).join('')}.59102837465019283746`;
    expect(localeSorted).not.toBe(status.baseString);
    expect(hmac(TOKEN, localeSorted)).not.toBe(status.expectedSignature);
    expect(hmac(TOKEN, status.baseString)).toBe(status.expectedSignature);
  });

  it('sorts repeated keys by value and signs each pair', () => {
    const url = 'https://parley.example.com/webhooks/plivo/status?b=2&a=z&a=Y';
    expect(
      plivoV3Payload({
        url,
        params: [
          ['K', 'b'],
          ['K', 'a'],
          ['k', ''],
          ['J', 'x'],
        ],
      }),
    ).toBe('https://parley.example.com/webhooks/plivo/status?a=Y&a=z&b=2.JxKaKbk');
    expect(plivoV3Payload({ url, params: [] })).toBe('https://parley.example.com/webhooks/plivo/status?a=Y&a=z&b=2');
    expect(plivoV3Payload({ url: 'https://h.example/p', params: [] })).toBe('https://h.example/p');
    expect(plivoV3Payload({ url: 'https://h.example/p', params: [['A', '1']] })).toBe('https://h.example/p?A1');
  });

  it('accepts a comma-separated header when any candidate matches, and headers in any case', async () => {
    const nonce = inbound.headers['X-Plivo-Signature-V3-Nonce'] ?? '';
    const bogus = hmac('someone-else', 'x');
    for (const header of [
      `${bogus},${inbound.expectedSignature}`,
      `${bogus}, ${inbound.expectedSignature}`,
      `${inbound.expectedSignature},${bogus}`,
    ]) {
      expect(await verify(inbound, { headers: { 'x-plivo-signature-v3': header, 'x-plivo-signature-v3-nonce': nonce } })).toEqual({
        ok: true,
        scheme: 'v3',
      });
    }
    expect(
      await verify(inbound, { headers: { 'x-plivo-signature-v3': `${bogus},${bogus}`, 'x-plivo-signature-v3-nonce': nonce } }),
    ).toMatchObject({ ok: false });
    // A truncated candidate (wrong length) is refused without throwing.
    expect(
      await verify(inbound, {
        headers: { 'x-plivo-signature-v3': inbound.expectedSignature.slice(0, 10), 'x-plivo-signature-v3-nonce': nonce },
      }),
    ).toMatchObject({ ok: false });
  });
});

describe('V3 refusals', () => {
  const cases: [string, Partial<Parameters<typeof verifyPlivoRequest>[0]>][] = [
    ['a changed field (Status=failed)', { params: pairs(status.rawBody.replace('Status=delivered', 'Status=failed')) }],
    ['an added field', { params: [...pairs(status.rawBody), ['Extra', '1']] }],
    ['a wrong token', { authToken: 'NotTheTokenNotTheTokenNotTheToken00001' }],
    ['http instead of https', { url: status.url.replace('https://', 'http://') }],
    ['another host', { url: status.url.replace('parley.example.com', 'evil.example.com') }],
    ['a port the URL did not have', { url: status.url.replace('parley.example.com', 'parley.example.com:443') }],
    ['the query missing', { url: status.url.split('?')[0] ?? '' }],
    ['another ref', { url: status.url.replace('ref=01J9', 'ref=01J8') }],
    ['an added query parameter', { url: `${status.url}&x=1` }],
    ['a trailing slash', { url: status.url.replace('/status?', '/status/?') }],
  ];
  it.each(cases)('refuses %s', async (_name, over) => {
    const result = await verify(status, over);
    expect(result).toMatchObject({ ok: false, status: 401 });
    if (!result.ok) expect(result.reason).toMatch(/V3 signature does not match/);
  });

  it('refuses a V3 signature without its nonce, and a nonce without a signature', async () => {
    expect(await verify(status, { headers: { 'X-Plivo-Signature-V3': status.expectedSignature } })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/Nonce/),
    });
    expect(await verify(status, { headers: { 'X-Plivo-Signature-V3-Nonce': '1' } })).toMatchObject({ ok: false, status: 401 });
  });

  it('never falls back to V2 when a V3 header is present', async () => {
    // Valid V2 headers for this URL, plus a broken V3: refused, and V2 is not consulted.
    const headers = {
      ...ex.v2.headers,
      'X-Plivo-Signature-V3': hmac(TOKEN, 'tampered'),
      'X-Plivo-Signature-V3-Nonce': '59102837465019283746',
    };
    const result = await verify(status, { headers });
    expect(result).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/^V3/) });
    // The same V2 headers alone are accepted (as V2): so the refusal above is the no-fallback rule.
    expect(await verify(status, { headers: ex.v2.headers })).toEqual({ ok: true, scheme: 'v2' });
  });

  it('refuses a request with no signature headers at all, saying so', async () => {
    const result = await verify(status, { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(result).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/unsigned/) });
  });
});

describe('nonces', () => {
  it('refuses a replay of a verified request', async () => {
    const nonces = memoryNonces();
    expect(await verify(inbound, { nonces })).toEqual({ ok: true, scheme: 'v3' });
    expect(await verify(inbound, { nonces })).toEqual({ ok: false, status: 401, reason: 'V3 nonce already used (replay)' });
  });

  it('claims the nonce only after the signature verifies (a forgery cannot burn it)', async () => {
    const nonces = memoryNonces();
    expect(await verify(inbound, { nonces, authToken: 'wrong' })).toMatchObject({ ok: false });
    expect(nonces.claims).toEqual([]);
    expect(await verify(inbound, { nonces })).toEqual({ ok: true, scheme: 'v3' });
  });

  it('refuses a replayed V2 header set', async () => {
    const nonces = memoryNonces();
    expect(await verify(status, { nonces, headers: ex.v2.headers })).toEqual({ ok: true, scheme: 'v2' });
    expect(await verify(status, { nonces, headers: ex.v2.headers })).toMatchObject({ ok: false, reason: 'V2 nonce already used (replay)' });
  });
});

describe('-Ma-V3 (main account token)', () => {
  const MAIN = 'MainAccountTokenMainAccountToken000001';
  const nonce = '11112222333344445555';
  const sign = (token: string) => signPlivoV3({ url: status.url, params: pairs(status.rawBody), nonce, authToken: token });

  it('verifies -Ma-V3 with mainAuthToken when configured', async () => {
    const headers = { 'X-Plivo-Signature-Ma-V3': sign(MAIN), 'X-Plivo-Signature-V3-Nonce': nonce };
    expect(await verify(status, { headers, mainAuthToken: MAIN })).toEqual({ ok: true, scheme: 'v3' });
    expect(await verify(status, { headers })).toMatchObject({ ok: false, status: 401 });
  });

  it('accepts either header: a wrong -V3 with a good -Ma-V3, or the reverse', async () => {
    const both = (v3: string, ma: string) => ({
      'X-Plivo-Signature-V3': v3,
      'X-Plivo-Signature-Ma-V3': ma,
      'X-Plivo-Signature-V3-Nonce': nonce,
    });
    expect(await verify(status, { headers: both(sign('x'), sign(MAIN)), mainAuthToken: MAIN })).toEqual({ ok: true, scheme: 'v3' });
    expect(await verify(status, { headers: both(sign(TOKEN), sign('x')), mainAuthToken: MAIN })).toEqual({ ok: true, scheme: 'v3' });
  });

  it('does not accept -V3 signed with the main token, nor -Ma-V3 with the subaccount token once a main token is set', async () => {
    expect(
      await verify(status, { headers: { 'X-Plivo-Signature-V3': sign(MAIN), 'X-Plivo-Signature-V3-Nonce': nonce }, mainAuthToken: MAIN }),
    ).toMatchObject({ ok: false });
    expect(
      await verify(status, {
        headers: { 'X-Plivo-Signature-Ma-V3': sign(TOKEN), 'X-Plivo-Signature-V3-Nonce': nonce },
        mainAuthToken: MAIN,
      }),
    ).toMatchObject({ ok: false });
  });

  it('without a main token configured, checks -Ma-V3 with the account token (a main account signs both with its own)', async () => {
    expect(await verify(status, { headers: { 'X-Plivo-Signature-Ma-V3': sign(TOKEN), 'X-Plivo-Signature-V3-Nonce': nonce } })).toEqual({
      ok: true,
      scheme: 'v3',
    });
  });
});

describe('V2 worked example', () => {
  it('signs scheme://host/path + nonce only, and verifies flagged as v2', async () => {
    expect(signPlivoV2({ url: ex.v2.url, nonce: ex.v2.nonce, authToken: TOKEN })).toBe(ex.v2.expectedSignature);
    expect(hmac(TOKEN, ex.v2.baseString)).toBe(ex.v2.expectedSignature);
    expect(await verify(status, { headers: ex.v2.headers })).toEqual({ ok: true, scheme: 'v2' });
  });

  it('V2 does not cover the body or the query (why ref is not trusted under V2)', async () => {
    const forged = pairs(status.rawBody.replace('Status=delivered', 'Status=failed'));
    expect(await verify(status, { headers: ex.v2.headers, params: forged, url: status.url.replace('ref=01J9', 'ref=OTHER') })).toEqual({
      ok: true,
      scheme: 'v2',
    });
  });

  it('refuses V2 with a wrong token, another host or http', async () => {
    expect(await verify(status, { headers: ex.v2.headers, authToken: 'wrong' })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^V2/),
    });
    expect(await verify(status, { headers: ex.v2.headers, url: status.url.replace('parley.', 'evil.') })).toMatchObject({ ok: false });
    expect(await verify(status, { headers: ex.v2.headers, url: status.url.replace('https:', 'http:') })).toMatchObject({ ok: false });
  });
});

describe('official SDK test vectors (plivo-go TestValidateSignatureV3Pass1..4)', () => {
  const v = ex.sdkTestVectors;
  it.each(v.cases.map((c) => [`${c.method} ${c.url}`, c] as const))('%s', async (_name, c) => {
    expect(signPlivoV3({ url: c.url, params: v.params, nonce: v.nonce, authToken: v.authToken, method: c.method })).toBe(c.signature);
    const result = await verifyPlivoRequest({
      method: c.method,
      url: c.url,
      headers: { 'X-Plivo-Signature-V3': c.signature, 'X-Plivo-Signature-V3-Nonce': v.nonce },
      params: v.params,
      authToken: v.authToken,
      nonces: memoryNonces(),
    });
    expect(result).toEqual({ ok: true, scheme: 'v3' });
  });

  it('V2 vector', () => {
    expect(signPlivoV2({ url: v.v2.url, nonce: v.v2.nonce, authToken: v.v2.authToken })).toBe(v.v2.signature);
  });
});
