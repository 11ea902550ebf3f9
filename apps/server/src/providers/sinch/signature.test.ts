import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestDb, type TempDb } from '../../testing/temp-db';
import { NONCE_TTL_MS, createNonceStore, type NonceStore } from '../../webhooks/nonces';
import {
  MAX_AGE_S,
  MAX_FUTURE_SKEW_S,
  SINCH_ALGORITHM_HEADER,
  SINCH_NONCE_HEADER,
  SINCH_SIGNATURE_HEADER,
  SINCH_TIMESTAMP_HEADER,
  signSinchWebhook,
  ulidLike,
  verifySinchSignature,
} from './signature';

interface Vector {
  secret: string;
  rawBody: string;
  headers: Record<string, string>;
}
const worked = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/sinch/examples/signature-worked-example.json', import.meta.url), 'utf8'),
) as Vector & { signedData: string; expectedSignature: string; sdkTestVector: Vector };
const VECTORS: [string, Vector][] = [
  ['the worked example', worked],
  ["the Node SDK's test vector", worked.sdkTestVector],
];

let t: TempDb;
let nonces: NonceStore;
beforeEach(async () => {
  t = await openTestDb('parley-sinch-sig-');
  nonces = createNonceStore(t.db);
});
afterEach(async () => await t.dispose());

/** Epoch ms at the vector's own timestamp (+ offset seconds). */
const at = (v: Vector, offsetS = 0) => (Number(v.headers[SINCH_TIMESTAMP_HEADER]) + offsetS) * 1000;
const verify = async (v: Vector, over: { headers?: IncomingHttpHeaders; rawBody?: Buffer; secret?: string; now?: number } = {}) =>
  await verifySinchSignature({
    headers: over.headers ?? v.headers,
    rawBody: over.rawBody ?? Buffer.from(v.rawBody, 'utf8'),
    secret: over.secret ?? v.secret,
    nonces,
    now: over.now ?? at(v),
  });
const without = (headers: Record<string, string>, name: string) => Object.fromEntries(Object.entries(headers).filter(([k]) => k !== name));

describe.each(VECTORS)('verifySinchSignature on %s', (_name, v) => {
  it('verifies', async () => {
    expect(await verify(v)).toMatchObject({ ok: true });
  });

  it('is reproduced by signSinchWebhook (HMAC-SHA256 over body.nonce.timestamp, key = the secret as UTF-8)', () => {
    const headers = signSinchWebhook({
      rawBody: v.rawBody,
      secret: v.secret,
      nonce: v.headers[SINCH_NONCE_HEADER],
      timestamp: Number(v.headers[SINCH_TIMESTAMP_HEADER]),
    });
    expect(headers).toEqual(v.headers);
  });

  it('refuses a changed status and a single changed body byte', async () => {
    expect(await verify(v, { rawBody: Buffer.from(v.rawBody.replace('"Delivered"', '"Failed"')) })).toMatchObject({
      ok: false,
      status: 401,
    });
    const flipped = Buffer.from(v.rawBody, 'utf8');
    flipped[10] = (flipped[10] ?? 0) ^ 1;
    expect(await verify(v, { rawBody: flipped })).toMatchObject({
      ok: false,
      status: 401,
      reason: expect.stringContaining('does not match'),
    });
    // A re-serialised body (same JSON, other bytes) is not the signed body either.
    const reindented = Buffer.from(JSON.stringify(JSON.parse(v.rawBody), null, 2));
    expect((await verify(v, { rawBody: reindented })).ok).toBe(false);
  });

  it('refuses a wrong secret, and a base64-decoded key (the Voice/Verification scheme)', async () => {
    expect(await verify(v, { secret: `${v.secret}x` })).toMatchObject({ ok: false, status: 401 });
    const decodedKeySig = createHmac('sha256', Buffer.from(v.secret, 'base64'))
      .update(`${v.rawBody}.${v.headers[SINCH_NONCE_HEADER]}.${v.headers[SINCH_TIMESTAMP_HEADER]}`)
      .digest('base64');
    expect((await verify(v, { headers: { ...v.headers, [SINCH_SIGNATURE_HEADER]: decodedKeySig } })).ok).toBe(false);
  });

  it.each(['HmacSHA512', 'hmacsha256', 'HMACSHA256', 'sha256', 'none'])('refuses algorithm %s', async (algorithm) => {
    expect(await verify(v, { headers: { ...v.headers, [SINCH_ALGORITHM_HEADER]: algorithm } })).toMatchObject({
      ok: false,
      status: 401,
      reason: expect.stringContaining('algorithm'),
    });
  });

  it.each([SINCH_SIGNATURE_HEADER, SINCH_ALGORITHM_HEADER, SINCH_NONCE_HEADER, SINCH_TIMESTAMP_HEADER])(
    'refuses a request without %s',
    async (name) => {
      expect(await verify(v, { headers: without(v.headers, name) })).toEqual({
        ok: false,
        status: 401,
        reason: `unsigned callback: missing ${name}`,
      });
    },
  );

  it('refuses malformed values and a header given twice', async () => {
    expect((await verify(v, { headers: { ...v.headers, [SINCH_SIGNATURE_HEADER]: '!!not base64!!' } })).ok).toBe(false);
    expect((await verify(v, { headers: { ...v.headers, [SINCH_SIGNATURE_HEADER]: '' } })).ok).toBe(false);
    expect(await verify(v, { headers: { ...v.headers, [SINCH_TIMESTAMP_HEADER]: '2025-02-03T12:14:31Z' } })).toMatchObject({
      reason: 'signature timestamp is not Unix seconds',
    });
    const sig = v.headers[SINCH_SIGNATURE_HEADER] ?? '';
    expect(await verify(v, { headers: { ...v.headers, [SINCH_SIGNATURE_HEADER]: [sig, sig] } })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('more than once'),
    });
  });

  it('accepts up to 23 h old (a Sinch retry) and 5 min ahead; refuses older or further ahead', async () => {
    expect(await verify(v, { now: at(v, MAX_AGE_S + 1) })).toMatchObject({ ok: false, reason: 'signature timestamp is too old' });
    expect(await verify(v, { now: at(v, -(MAX_FUTURE_SKEW_S + 1)) })).toMatchObject({
      ok: false,
      reason: 'signature timestamp is in the future',
    });
    // Refused requests did not claim the nonce: the genuine one still passes.
    expect(await verify(v, { now: at(v, 22 * 3600 + 45 * 60) })).toMatchObject({ ok: true });
  });

  it('accepts 5 min ahead of our clock', async () => {
    expect(await verify(v, { now: at(v, -MAX_FUTURE_SKEW_S) })).toMatchObject({ ok: true });
  });

  it('refuses a replay (the same nonce again), even hours later', async () => {
    expect(await verify(v)).toMatchObject({ ok: true });
    expect(await verify(v)).toEqual({ ok: false, status: 401, reason: 'replayed callback (nonce already used)' });
    expect(await verify(v, { now: at(v, 3600) })).toMatchObject({ ok: false, reason: expect.stringContaining('replayed') });
  });

  it('claims the nonce only after the MAC verifies: a forgery with a genuine nonce does not burn it', async () => {
    expect((await verify(v, { secret: 'forger' })).ok).toBe(false);
    expect((await verify(v, { rawBody: Buffer.from('{}') })).ok).toBe(false);
    expect(await verify(v)).toMatchObject({ ok: true });
  });
});

describe('signSinchWebhook / ulidLike', () => {
  it('signs a fresh body with a 26-char ULID-like nonce and the current Unix seconds', async () => {
    const headers = signSinchWebhook({ rawBody: Buffer.from('{"a":1}'), secret: 's' });
    expect(headers[SINCH_NONCE_HEADER]).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(Math.abs(Number(headers[SINCH_TIMESTAMP_HEADER]) - Date.now() / 1000)).toBeLessThan(5);
    expect(headers[SINCH_ALGORITHM_HEADER]).toBe('HmacSHA256');
    expect(await verifySinchSignature({ headers, rawBody: Buffer.from('{"a":1}'), secret: 's', nonces })).toMatchObject({ ok: true });
  });

  it('ulidLike sorts by time and does not repeat', () => {
    const a = ulidLike(1_700_000_000_000);
    const b = ulidLike(1_700_000_000_001);
    expect(a < b).toBe(true);
    expect(new Set(Array.from({ length: 1000 }, () => ulidLike())).size).toBe(1000);
  });

  it('keeps the accepted age inside the nonce memory, so every replay inside the window is recognised', () => {
    expect(MAX_AGE_S * 1000).toBeLessThan(NONCE_TTL_MS);
  });
});
