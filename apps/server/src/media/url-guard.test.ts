import { describe, expect, it } from 'vitest';
import { mediaUrlRefusal, type Lookup } from './url-guard';

/** Name resolution stubbed: no test resolves or connects to anything. */
const resolvesTo =
  (...addresses: string[]): Lookup =>
  () =>
    Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));

describe('media URL guard (live mode): no server-side request forgery through an attachment URL', () => {
  it.each([
    ['http://media.example.com/a.jpg', resolvesTo('93.184.216.34'), 'the attachment URL is not https'],
    ['https://127.0.0.1/a.jpg', resolvesTo(), 'is a private or local address (127.0.0.1)'],
    ['https://[::1]/a.jpg', resolvesTo(), 'is a private or local address (::1)'],
    ['https://metadata.internal/a.jpg', resolvesTo('169.254.169.254'), 'is a private or local address (169.254.169.254)'],
    ['https://intranet.example/a.jpg', resolvesTo('93.184.216.34', '10.0.0.5'), 'is a private or local address (10.0.0.5)'],
    ['https://mapped.example/a.jpg', resolvesTo('::ffff:192.168.1.1'), 'is a private or local address (::ffff:192.168.1.1)'],
    ['https://ula.example/a.jpg', resolvesTo('fd00::1'), 'is a private or local address (fd00::1)'],
    ['file:///etc/passwd', resolvesTo(), 'the attachment URL is file:, not http(s)'],
  ])('%s is refused', async (url, lookup, reason) => {
    expect(await mediaUrlRefusal(new URL(url), { live: true, lookup })).toContain(reason);
  });

  it('a public https host is allowed; a host that does not resolve is refused', async () => {
    expect(await mediaUrlRefusal(new URL('https://api.plivo.com/v1/x'), { live: true, lookup: resolvesTo('52.9.0.1') })).toBeNull();
    const none: Lookup = () => Promise.reject(new Error('ENOTFOUND'));
    expect(await mediaUrlRefusal(new URL('https://nowhere.invalid/x'), { live: true, lookup: none })).toMatch(/does not resolve/);
  });

  it('the sandbox (Parley fetching from itself on loopback) only checks the scheme', async () => {
    expect(await mediaUrlRefusal(new URL('http://127.0.0.1:3000/sandbox/media/x'), { live: false })).toBeNull();
    expect(await mediaUrlRefusal(new URL('ftp://127.0.0.1/x'), { live: false })).toMatch(/not http/);
  });
});
