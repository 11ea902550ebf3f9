/**
 * Where the media fetcher may go (no server-side request forgery). A signed webhook names the URL, but
 * Sinch callbacks can be unsigned (no SINCH_WEBHOOK_SECRET), so in live mode an attachment URL must be
 * https and its host must not resolve to a loopback, private, link-local, CGNAT or unique-local address.
 * The sandbox (and tests) fetch from Parley's own loopback address, so there the guard only checks the scheme.
 */
import { BlockList, isIP } from 'node:net';
import { lookup as dnsLookup } from 'node:dns/promises';

const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  blocked.addSubnet(net, bits, 'ipv6');

export type Lookup = (host: string) => Promise<{ address: string; family: number }[]>;

const defaultLookup: Lookup = (host) => dnsLookup(host, { all: true, verbatim: true });

function isBlocked(address: string): boolean {
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (v4mapped) return blocked.check(v4mapped, 'ipv4');
  return blocked.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

/** null when `url` may be fetched; else why not. */
export async function mediaUrlRefusal(url: URL, opts: { live: boolean; lookup?: Lookup }): Promise<string | null> {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `the attachment URL is ${url.protocol}, not http(s)`;
  if (!opts.live) return null;
  if (url.protocol !== 'https:') return 'the attachment URL is not https';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await (opts.lookup ?? defaultLookup)(host)).map((a) => a.address);
  } catch {
    return `the attachment host ${host} does not resolve`;
  }
  if (addresses.length === 0) return `the attachment host ${host} does not resolve`;
  const bad = addresses.find(isBlocked);
  return bad ? `the attachment host ${host} is a private or local address (${bad}): refused` : null;
}
