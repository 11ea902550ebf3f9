/**
 * Where outbound webhooks may go (no server-side request forgery): `https://` to public addresses
 * only; with PARLEY_ALLOW_HTTP_WEBHOOKS also `http://` and `https://` to loopback. The name is
 * resolved and every address it has is checked — when an endpoint is saved and again before each
 * connection — and the connection goes to the address that was checked (its `lookup` is pinned), so
 * a name that re-resolves to an internal address between the check and the connect (DNS rebinding)
 * cannot reach it. Address ranges come from ipaddr.js.
 */
import { lookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Name → every address it has (dns.lookup by default; tests stub it). */
export type Resolve = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolve: Resolve = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/** A target refused before any connection: the message says why (shown to the admin). */
export class UnsafeTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeTargetError';
  }
}

export interface GuardOptions {
  /** PARLEY_ALLOW_HTTP_WEBHOOKS: http:// and loopback addresses are allowed too. */
  allowLoopback: boolean;
}

const MAX_URL_LENGTH = 2048;

/** The URL, parsed and checked for scheme and form (no name resolution yet). */
export function parseTarget(raw: string, opts: GuardOptions): URL {
  if (raw.length > MAX_URL_LENGTH) throw new UnsafeTargetError(`The URL is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UnsafeTargetError('Not a URL: use https://your-receiver.example/path');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new UnsafeTargetError(`Only https:// URLs are allowed, not ${url.protocol}`);
  if (url.protocol === 'http:' && !opts.allowLoopback) {
    throw new UnsafeTargetError('Only https:// URLs are allowed (http:// only to loopback, with PARLEY_ALLOW_HTTP_WEBHOOKS=1)');
  }
  if (url.username !== '' || url.password !== '') throw new UnsafeTargetError('A URL with a user name or password is not allowed');
  if (url.hostname === '') throw new UnsafeTargetError('The URL has no host');
  return url;
}

/** Why this address may not be a target, or null when it may. */
export function refusalOf(address: string, opts: GuardOptions): string | null {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  const range = ip.range();
  if (range === 'loopback') return opts.allowLoopback ? null : 'loopback';
  if (range !== 'unicast') return range;
  // IPv6: global unicast (2000::/3) only — this also refuses the deprecated IPv4-compatible ::a.b.c.d.
  if (ip.kind() === 'ipv6' && !ip.match(ipaddr.parseCIDR('2000::/3'))) return 'not global unicast';
  return null;
}

/**
 * Resolves the URL's host and checks every address (all must be allowed); returns the one to
 * connect to. Throws UnsafeTargetError before anything is connected to.
 */
export async function checkTarget(url: URL, opts: GuardOptions & { resolve: Resolve }): Promise<ResolvedAddress> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: ResolvedAddress[];
  if (ipaddr.isValid(host)) addresses = [{ address: host, family: ipaddr.parse(host).kind() === 'ipv6' ? 6 : 4 }];
  else {
    try {
      addresses = await opts.resolve(host);
    } catch {
      throw new UnsafeTargetError(`${host} does not resolve`);
    }
  }
  if (addresses.length === 0) throw new UnsafeTargetError(`${host} does not resolve`);
  for (const a of addresses) {
    const why = refusalOf(a.address, opts);
    if (why !== null) throw new UnsafeTargetError(`${host} resolves to ${a.address} (${why}), which is not a public address`);
  }
  if (url.protocol === 'http:' && !addresses.every((a) => refusalOf(a.address, { allowLoopback: false }) === 'loopback')) {
    throw new UnsafeTargetError('http:// is allowed only to loopback; use https://');
  }
  return addresses[0] as ResolvedAddress;
}

export interface PostRequest {
  url: URL;
  /** The checked address: the connection goes there and nowhere else. */
  pinned: ResolvedAddress;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  signal: AbortSignal;
}

export interface PostAnswer {
  status: number;
  /** The first bytes of the answer's body (utf-8, at most EXCERPT_BYTES). */
  excerpt: string;
}

export type Post = (req: PostRequest) => Promise<PostAnswer>;

export const EXCERPT_BYTES = 512;

/**
 * POSTs to the pinned address (TLS still checks the certificate against the URL's host name). No
 * redirects are followed, no connection is reused; the whole exchange — connect, answer, the first
 * EXCERPT_BYTES of the body — must fit in `timeoutMs`, and the rest of the body is not read.
 */
export const pinnedPost: Post = ({ url, pinned, body, headers, timeoutMs, signal }) =>
  new Promise<PostAnswer>((resolve, reject) => {
    const pinnedLookup: LookupFunction = (_hostname, options, callback) => {
      if (options.all) callback(null, [{ address: pinned.address, family: pinned.family }]);
      else callback(null, pinned.address, pinned.family);
    };
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const payload = Buffer.from(body);
    const req = request({
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      headers: { ...headers, 'content-length': String(payload.length) },
      lookup: pinnedLookup,
      agent: false,
      signal,
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    const finish = (fn: () => void) => {
      clearTimeout(timer);
      fn();
    };
    req.on('error', (err) => finish(() => reject(err)));
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        res.removeAllListeners('data');
        res.destroy();
        const excerpt = Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8');
        finish(() => resolve({ status: res.statusCode ?? 0, excerpt }));
      };
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= EXCERPT_BYTES) done();
      });
      res.on('end', done);
      res.on('error', () => done());
    });
    req.end(payload);
  });
