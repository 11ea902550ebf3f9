import { describe, expect, it } from 'vitest';
import { redactHeaders, sourceKey } from './webhook-log';

describe('sourceKey (the refusal log rate-limits per source)', () => {
  it('keys IPv4 by address and IPv6 by its /64, so rotating addresses inside one prefix share a limit', () => {
    expect(sourceKey('203.0.113.7')).toBe('203.0.113.7');
    expect(sourceKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(sourceKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:0db8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8::5')).toBe('2001:db8:0:0::/64');
    expect(sourceKey('::1')).toBe('0:0:0:0::/64');
  });
});

describe('redactHeaders', () => {
  it('keeps a credential only as its length; nonce, timestamp and algorithm stay; long unauthenticated values are cut', () => {
    const out = redactHeaders(
      {
        authorization: 'Bearer abc',
        'x-sinch-webhook-signature': 'sig==',
        'x-sinch-webhook-signature-nonce': 'n1',
        'x-sinch-webhook-signature-timestamp': '1700000000',
        'x-sinch-webhook-signature-algorithm': 'HmacSHA256',
        'x-plivo-signature-ma-v3': 'a,b',
        'user-agent': 'u'.repeat(300),
      },
      false,
    );
    expect(out).toMatchObject({
      authorization: '[redacted: 10 chars]',
      'x-sinch-webhook-signature': '[redacted: 5 chars]',
      'x-sinch-webhook-signature-nonce': 'n1',
      'x-sinch-webhook-signature-timestamp': '1700000000',
      'x-sinch-webhook-signature-algorithm': 'HmacSHA256',
      'x-plivo-signature-ma-v3': '[redacted: 3 chars]',
      'user-agent': `${'u'.repeat(256)}… [300 chars]`,
    });
    expect(redactHeaders({ 'user-agent': 'u'.repeat(300) }, true)['user-agent']).toBe('u'.repeat(300));
  });
});
