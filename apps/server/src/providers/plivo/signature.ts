/**
 * Plivo webhook signatures (apps/server/test/fixtures/plivo/README.md "Signatures"), with node:crypto only.
 *
 * V3 (`X-Plivo-Signature-V3`, `-Ma-V3`, nonce `X-Plivo-Signature-V3-Nonce`): HMAC-SHA256 over the
 * exact URL Plivo called, its sorted query, every form field (decoded, empties included, sorted by
 * UTF-16 code unit) and the nonce. V2 (`X-Plivo-Signature-V2`, `-Ma-V2`, `-V2-Nonce`): HMAC over
 * `scheme://host/path` + nonce only — neither the query nor the body is covered.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { NonceStore } from '../../webhooks/nonces';

export type PlivoParams = ReadonlyArray<readonly [string, string]> | Readonly<Record<string, string>>;

export type PlivoVerifyResult = { ok: true; scheme: 'v3' | 'v2' } | { ok: false; status: 401; reason: string };

/** The NonceStore key for Plivo's nonces. */
export const PLIVO_NONCE_PROVIDER = 'plivo';

const H = {
  v3: 'x-plivo-signature-v3',
  maV3: 'x-plivo-signature-ma-v3',
  v3Nonce: 'x-plivo-signature-v3-nonce',
  v2: 'x-plivo-signature-v2',
  maV2: 'x-plivo-signature-ma-v2',
  v2Nonce: 'x-plivo-signature-v2-nonce',
} as const;

function pairsOf(params: PlivoParams): [string, string][] {
  return Array.isArray(params)
    ? (params as ReadonlyArray<readonly [string, string]>).map(([k, v]) => [k, v])
    : Object.entries(params as Readonly<Record<string, string>>);
}

/** Code-unit order (JS default), never localeCompare: `requester_ip` sorts after every capital. */
const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** key → its values, keys and values sorted by code unit. */
function grouped(pairs: [string, string][]): [string, string[]][] {
  const map = new Map<string, string[]>();
  for (const [k, v] of pairs) {
    const values = map.get(k);
    if (values) values.push(v);
    else map.set(k, [v]);
  }
  return [...map.keys()].sort(byCodeUnit).map((k) => [k, (map.get(k) ?? []).slice().sort(byCodeUnit)]);
}

/** `k=v&k=v`, sorted. */
function sortedQuery(pairs: [string, string][]): string {
  return grouped(pairs)
    .flatMap(([k, values]) => values.map((v) => `${k}=${v}`))
    .join('&');
}

/** `kvkv…` with no separators, sorted. */
function sortedFields(pairs: [string, string][]): string {
  return grouped(pairs)
    .flatMap(([k, values]) => values.map((v) => `${k}${v}`))
    .join('');
}

/**
 * Splits a URL as Plivo's SDKs do: the part before `?` is used as written (scheme, host, port, path
 * are signed verbatim; a `#fragment` is never sent), the query is decoded into pairs.
 */
function splitUrl(url: string): { base: string; query: [string, string][] } {
  const noFragment = url.split('#', 1)[0] ?? '';
  const q = noFragment.indexOf('?');
  if (q < 0) return { base: noFragment, query: [] };
  return { base: noFragment.slice(0, q), query: [...new URLSearchParams(noFragment.slice(q + 1))] };
}

/** The string V3 signs, without the trailing `.nonce`. */
export function plivoV3Payload({ url, params, method = 'POST' }: { url: string; params: PlivoParams; method?: string }): string {
  const { base, query } = splitUrl(url);
  const fields = pairsOf(params);
  if (method.toUpperCase() === 'GET') {
    const merged = sortedQuery([...query, ...fields]);
    return merged === '' ? base : `${base}?${merged}`;
  }
  const q = sortedQuery(query);
  if (fields.length === 0) return q === '' ? base : `${base}?${q}`;
  return `${base}?${q === '' ? '' : `${q}.`}${sortedFields(fields)}`;
}

const hmac = (key: string, message: string): string =>
  createHmac('sha256', Buffer.from(key, 'utf8')).update(message, 'utf8').digest('base64');

/** The V3 signature Plivo would send for this request (the sandbox signs with it; tests play Plivo). */
export function signPlivoV3(opts: { url: string; params: PlivoParams; nonce: string; authToken: string; method?: string }): string {
  return hmac(opts.authToken, `${plivoV3Payload(opts)}.${opts.nonce}`);
}

/** The V2 signature: `scheme://host[:port]/path` + nonce; query and body are not covered. */
export function signPlivoV2(opts: { url: string; nonce: string; authToken: string }): string {
  return hmac(opts.authToken, `${splitUrl(opts.url).base}${opts.nonce}`);
}

/** Whether any comma-separated candidate equals `expected`, in constant time per candidate. */
function anyMatches(header: string, expected: string): boolean {
  const want = Buffer.from(expected, 'utf8');
  let matched = false;
  for (const candidate of header.split(',')) {
    const got = Buffer.from(candidate.trim(), 'utf8');
    if (got.length === want.length && timingSafeEqual(got, want)) matched = true;
  }
  return matched;
}

type Headers = Readonly<Record<string, string | readonly string[] | undefined>>;

function headerOf(headers: Headers, name: string): string | undefined {
  let value: string | readonly string[] | undefined;
  for (const key of Object.keys(headers)) if (key.toLowerCase() === name) value = headers[key];
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value : value.join(',');
  return text.trim() === '' ? undefined : text.trim();
}

export interface VerifyPlivoRequestOptions {
  method: string;
  /** The exact public URL Plivo called, including the query (PUBLIC_URL + original path and query). */
  url: string;
  headers: Headers;
  /** Decoded form fields, in any order, empty values kept. */
  params: PlivoParams;
  /** The token of the (sub)account the number belongs to: checks `-V3` / `-V2`. */
  authToken: string;
  /** The main account's token: checks `-Ma-V3` / `-Ma-V2`. Unset: those are checked with authToken (a main account signs both with its own). */
  mainAuthToken?: string;
  nonces: NonceStore;
  /**
   * Accept a request signed with V2 only (PLIVO_ALLOW_V2; default false). V2 covers neither the query
   * nor the body, so with it on anyone holding one captured V2 header set could post any body once.
   */
  allowV2?: boolean;
  now?: number;
}

const refuse = (reason: string): PlivoVerifyResult => ({ ok: false, status: 401, reason });

/**
 * Verifies a Plivo webhook. V3 whenever any V3 header is present — a V3 failure never falls back to
 * V2 (an attacker could otherwise strip V3 and replay captured V2 headers with any body). The nonce
 * is claimed only once a signature verified (junk cannot burn nonces) and a repeat is refused.
 * V2-only is accepted only with `allowV2` (Plivo's documented fallback, flagged `scheme: 'v2'`: its
 * body is not authenticated). When both are present, both nonces are recorded. No headers → 401 (Plivo retries 4xx three times, then gives up).
 */
export async function verifyPlivoRequest(opts: VerifyPlivoRequestOptions): Promise<PlivoVerifyResult> {
  const get = (name: string) => headerOf(opts.headers, name);
  const mainToken = opts.mainAuthToken && opts.mainAuthToken !== '' ? opts.mainAuthToken : opts.authToken;

  const v3 = get(H.v3);
  const maV3 = get(H.maV3);
  const v3Nonce = get(H.v3Nonce);
  if (v3 !== undefined || maV3 !== undefined || v3Nonce !== undefined) {
    if (v3Nonce === undefined) return refuse('V3 signature without X-Plivo-Signature-V3-Nonce');
    if (v3 === undefined && maV3 === undefined) return refuse('V3 nonce without an X-Plivo-Signature-V3 or -Ma-V3 header');
    const payload = `${plivoV3Payload({ url: opts.url, params: opts.params, method: opts.method })}.${v3Nonce}`;
    const good =
      (v3 !== undefined && opts.authToken !== '' && anyMatches(v3, hmac(opts.authToken, payload))) ||
      (maV3 !== undefined && mainToken !== '' && anyMatches(maV3, hmac(mainToken, payload)));
    if (!good) return refuse(`V3 signature does not match (signed URL ${describeUrl(opts.url)}; check PUBLIC_URL and PLIVO_AUTH_TOKEN)`);
    if (!(await opts.nonces.claim(PLIVO_NONCE_PROVIDER, v3Nonce, opts.now))) return refuse('V3 nonce already used (replay)');
    // Plivo sends V2 headers beside V3: their nonce is recorded too, or those V2 headers (which sign
    // no body) could be replayed on their own with a forged body.
    const v2NonceToo = get(H.v2Nonce);
    if (v2NonceToo !== undefined && v2NonceToo !== v3Nonce) await opts.nonces.claim(PLIVO_NONCE_PROVIDER, v2NonceToo, opts.now);
    return { ok: true, scheme: 'v3' };
  }

  const v2 = get(H.v2);
  const maV2 = get(H.maV2);
  const v2Nonce = get(H.v2Nonce);
  if (v2 !== undefined || maV2 !== undefined || v2Nonce !== undefined) {
    if (v2Nonce === undefined) return refuse('V2 signature without X-Plivo-Signature-V2-Nonce');
    if (v2 === undefined && maV2 === undefined) return refuse('V2 nonce without an X-Plivo-Signature-V2 or -Ma-V2 header');
    if (opts.allowV2 !== true) {
      return refuse(
        'V2-only signature refused: V2 does not sign the body (Plivo sends V3 too; set PLIVO_ALLOW_V2=true only if yours does not)',
      );
    }
    const good =
      (v2 !== undefined &&
        opts.authToken !== '' &&
        anyMatches(v2, signPlivoV2({ url: opts.url, nonce: v2Nonce, authToken: opts.authToken }))) ||
      (maV2 !== undefined && mainToken !== '' && anyMatches(maV2, signPlivoV2({ url: opts.url, nonce: v2Nonce, authToken: mainToken })));
    if (!good) return refuse(`V2 signature does not match (signed URL ${describeUrl(opts.url)}; check PUBLIC_URL and PLIVO_AUTH_TOKEN)`);
    // V2 covers no body: the nonce is all that stops a captured header set from being reused.
    if (!(await opts.nonces.claim(PLIVO_NONCE_PROVIDER, v2Nonce, opts.now))) return refuse('V2 nonce already used (replay)');
    return { ok: true, scheme: 'v2' };
  }

  return refuse('unsigned request: no X-Plivo-Signature-V3 or -V2 headers (is this really Plivo?)');
}

/** The URL as verified, without its query (for reasons in logs: the query may be long). */
function describeUrl(url: string): string {
  return splitUrl(url).base;
}
