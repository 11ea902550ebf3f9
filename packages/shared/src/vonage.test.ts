import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { vonageInboundSchema, vonageStatusSchema } from './vonage';
import { parseProviderTimestamp } from './provider-time';

// The Vonage fixtures live with the server's tests (apps/server/test/fixtures/vonage, see its README).
const EXAMPLES = new URL('../../../apps/server/test/fixtures/vonage/examples/', import.meta.url);

function example(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(name, EXAMPLES), 'utf8')) as Record<string, unknown>;
}

function without(body: Record<string, unknown>, ...keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([key]) => !keys.includes(key)));
}

const inbound = (): Record<string, unknown> => example('inbound-sms.json');
const rejected = (): Record<string, unknown> => example('status-rejected.json');

describe('Vonage examples', () => {
  it("reads the examples from the repository's own fixtures", () => {
    expect(fileURLToPath(EXAMPLES)).toMatch(/[/\\]test[/\\]fixtures[/\\]vonage[/\\]examples[/\\]$/);
    expect(readdirSync(EXAMPLES)).toContain('inbound-sms.json');
  });

  // Every webhook body in the folder parses; signed-webhook-jwt.json is a JWT
  // (header + claims), not a webhook body, so it is only checked to be JSON.
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.json'));

  it('has inbound and status examples', () => {
    expect(files.filter((f) => f.startsWith('inbound-')).length).toBeGreaterThan(0);
    expect(files.filter((f) => f.startsWith('status-')).length).toBeGreaterThan(0);
  });

  it.each(files)('%s parses', (file) => {
    const body = example(file);
    if (file.startsWith('inbound-')) expect(vonageInboundSchema.safeParse(body).error).toBeUndefined();
    else if (file.startsWith('status-')) expect(vonageStatusSchema.safeParse(body).error).toBeUndefined();
    else expect(file).toBe('signed-webhook-jwt.json');
  });
});

describe('vonageInboundSchema', () => {
  it('normalizes the example', () => {
    const body = inbound();
    expect(vonageInboundSchema.parse(body)).toEqual({
      messageUuid: 'aaaaaaaa-bbbb-cccc-dddd-0123456789ab',
      from: '+447700900001',
      to: '+447700900000',
      text: 'Hello From Vonage!',
      media: [],
      channel: 'sms',
      messageType: 'text',
      timestamp: '2020-01-01T14:00:00.000Z',
      numMessages: 2,
      keyword: 'HELLO',
      price: '0.0333',
      currency: 'EUR',
      raw: body,
    });
  });

  it('an MMS `image` (inbound-mms-image.json) names its attachment, claimed an image; a caption becomes the text', () => {
    const body = example('inbound-mms-image.json');
    expect(vonageInboundSchema.parse(body)).toMatchObject({
      channel: 'mms',
      messageType: 'image',
      text: '',
      media: [{ url: 'https://api-us.nexmo.com/v3/media/79168ddc-6d8d-4ce4-8bf3-5ba9fb2b0bb4', contentType: 'image/*', name: null }],
    });
    const captioned = { ...body, image: { url: 'https://example.com/a.jpg', caption: 'the box' } };
    expect(vonageInboundSchema.parse(captioned)).toMatchObject({ text: 'the box', media: [{ url: 'https://example.com/a.jpg' }] });
    expect(vonageInboundSchema.parse(example('inbound-mms-video.json')).media).toEqual([
      { url: 'https://api-us.nexmo.com/v3/media/0f1e2d3c-6d8d-4ce4-8bf3-5ba9fb2b0bb4', contentType: 'video/*', name: null },
    ]);
  });

  it('keeps unknown fields in raw, unchanged', () => {
    const body = { ...inbound(), brand_new: { nested: [1, 2] }, origin: { network_code: '23410' } };
    const parsed = vonageInboundSchema.parse(body);
    expect(parsed.raw).toEqual(body);
    expect(parsed.raw['brand_new']).toEqual({ nested: [1, 2] });
  });

  it('accepts num_messages and price as numbers', () => {
    const body = { ...inbound(), sms: { num_messages: 3 }, usage: { price: 0.05, currency: 'USD' } };
    const parsed = vonageInboundSchema.parse(body);
    expect(parsed.numMessages).toBe(3);
    expect(parsed.price).toBe('0.05');
    expect(parsed.keyword).toBeNull();
    expect(parsed.raw).toEqual(body); // raw is not coerced
  });

  it('defaults text, message_type and optional blocks when absent', () => {
    const body = without(inbound(), 'text', 'message_type', 'sms', 'usage');
    const parsed = vonageInboundSchema.parse(body);
    expect(parsed).toMatchObject({
      text: '',
      messageType: 'text',
      numMessages: null,
      keyword: null,
      price: null,
      currency: null,
    });
  });

  it('keeps a non-text message_type', () => {
    const body = without(inbound(), 'text');
    expect(vonageInboundSchema.parse({ ...body, message_type: 'image' })).toMatchObject({
      messageType: 'image',
      text: '',
    });
  });

  it('treats a non-numeric num_messages as unknown, not an error', () => {
    expect(vonageInboundSchema.parse({ ...inbound(), sms: { num_messages: 'two' } }).numMessages).toBeNull();
  });

  it('accepts the space-separated timestamp format', () => {
    const parsed = vonageInboundSchema.parse({ ...inbound(), timestamp: '2020-01-01 14:00:00+00:00' });
    expect(parsed.timestamp).toBe('2020-01-01T14:00:00.000Z');
  });

  it('keeps an alphanumeric sender and a sender that already has +', () => {
    expect(vonageInboundSchema.parse({ ...inbound(), from: 'Vonage' }).from).toBe('Vonage');
    expect(vonageInboundSchema.parse({ ...inbound(), from: '+447700900001' }).from).toBe('+447700900001');
  });

  it('never rejects a sender for its number', () => {
    expect(vonageInboundSchema.parse({ ...inbound(), from: '12' }).from).toBe('+12');
    expect(vonageInboundSchema.parse({ ...inbound(), from: 447700900001 }).from).toBe('+447700900001');
  });

  it.each(['message_uuid', 'from', 'to', 'channel', 'timestamp'])('fails without %s', (key) => {
    const body = inbound();
    delete body[key];
    const result = vonageInboundSchema.safeParse(body);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual([key]);
  });

  it('fails on an empty message_uuid', () => {
    expect(vonageInboundSchema.safeParse({ ...inbound(), message_uuid: '' }).success).toBe(false);
  });

  it('fails on an unrecognised timestamp, at the timestamp path', () => {
    const result = vonageInboundSchema.safeParse({ ...inbound(), timestamp: 'yesterday' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ path: ['timestamp'], message: 'Unrecognised timestamp format' });
  });

  it('fails on a body that is not an object', () => {
    expect(vonageInboundSchema.safeParse(null).success).toBe(false);
    expect(vonageInboundSchema.safeParse('text').success).toBe(false);
    expect(vonageInboundSchema.safeParse([]).success).toBe(false);
  });
});

describe('vonageStatusSchema', () => {
  it('normalizes the rejected example (string title)', () => {
    const body = rejected();
    expect(vonageStatusSchema.parse(body)).toEqual({
      messageUuid: 'aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab',
      status: 'rejected',
      timestamp: '2020-01-01T14:00:03.010Z',
      to: '+447700900000',
      from: '+447700900001',
      clientRef: 'abc123',
      errorCode: '1000',
      errorTitle: 'https://developer.nexmo.com/api-errors/messages-olympus#1000',
      errorDetail: 'Throttled - You have exceeded the submission capacity allowed on this account. Please wait and retry',
      price: null,
      currency: null,
      raw: body,
    });
  });

  it('accepts a numeric error title and outputs it as a string', () => {
    const body = rejected();
    const parsed = vonageStatusSchema.parse({ ...body, error: { type: 'x', title: 1240, detail: 'opted out' } });
    expect(parsed.errorCode).toBe('1240');
    expect(parsed.errorTitle).toBe('x');
    expect(parsed.errorDetail).toBe('opted out');
  });

  it('normalizes the submitted example (usage and sms.count_total)', () => {
    const parsed = vonageStatusSchema.parse(example('status-submitted.json'));
    expect(parsed).toMatchObject({
      status: 'submitted',
      timestamp: '2025-02-03T12:14:25.000Z',
      price: '0.0333',
      currency: 'EUR',
      errorCode: null,
      errorTitle: null,
      errorDetail: null,
    });
  });

  it('accepts count_total and price as numbers', () => {
    const body = { ...example('status-submitted.json'), sms: { count_total: 2 }, usage: { price: 0.0333, currency: 'EUR' } };
    expect(vonageStatusSchema.parse(body).price).toBe('0.0333');
  });

  it('accepts the space-separated timestamp format', () => {
    const parsed = vonageStatusSchema.parse({ ...rejected(), timestamp: '2020-01-01 14:00:00+00:00' });
    expect(parsed.timestamp).toBe('2020-01-01T14:00:00.000Z');
  });

  it('keeps unknown fields and unknown statuses', () => {
    const body = { ...example('status-delivered.json'), status: 'expired', destination: { network_code: '1' }, extra: true };
    const parsed = vonageStatusSchema.parse(body);
    expect(parsed.status).toBe('expired');
    expect(parsed.raw).toEqual(body);
  });

  it('needs only message_uuid, status and timestamp', () => {
    const parsed = vonageStatusSchema.parse({
      message_uuid: 'u1',
      status: 'delivered',
      timestamp: '2020-01-01T14:00:00Z',
    });
    expect(parsed).toEqual({
      messageUuid: 'u1',
      status: 'delivered',
      timestamp: '2020-01-01T14:00:00.000Z',
      to: null,
      from: null,
      clientRef: null,
      errorCode: null,
      errorTitle: null,
      errorDetail: null,
      price: null,
      currency: null,
      raw: { message_uuid: 'u1', status: 'delivered', timestamp: '2020-01-01T14:00:00Z' },
    });
  });

  it('tolerates null optional blocks and an alphanumeric from', () => {
    const parsed = vonageStatusSchema.parse({ ...rejected(), error: null, usage: null, from: 'Parley', client_ref: null });
    expect(parsed).toMatchObject({ from: 'Parley', errorCode: null, clientRef: null, price: null });
  });

  it.each(['message_uuid', 'status', 'timestamp'])('fails without %s', (key) => {
    const body = rejected();
    delete body[key];
    const result = vonageStatusSchema.safeParse(body);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual([key]);
  });

  it('fails on a malformed error block', () => {
    expect(vonageStatusSchema.safeParse({ ...rejected(), error: { title: { code: 1 } } }).success).toBe(false);
  });
});

describe('parseProviderTimestamp', () => {
  it.each([
    ['2020-01-01T14:00:00.000Z', '2020-01-01T14:00:00.000Z'],
    ['2020-01-01T14:00:00Z', '2020-01-01T14:00:00.000Z'],
    ['2020-01-01 14:00:00+00:00', '2020-01-01T14:00:00.000Z'],
    ['2020-01-01 14:00:00Z', '2020-01-01T14:00:00.000Z'],
    ['2020-01-01 14:00:00', '2020-01-01T14:00:00.000Z'],
    ['2020-01-01T14:00:00.5Z', '2020-01-01T14:00:00.500Z'],
    ['2020-01-01T14:00:00.123456Z', '2020-01-01T14:00:00.123Z'],
    ['2020-01-01T14:00:00.010+00:00', '2020-01-01T14:00:00.010Z'],
    ['2020-01-01 14:00:00 +0000', '2020-01-01T14:00:00.000Z'],
    ['2020-01-01T15:30:00+01:30', '2020-01-01T14:00:00.000Z'],
    ['2020-01-01T09:00:00-05:00', '2020-01-01T14:00:00.000Z'],
    ['2020-01-01T00:30:00+01:00', '2019-12-31T23:30:00.000Z'],
    ['2020-01-01t14:00:00z', '2020-01-01T14:00:00.000Z'],
    ['2020-01-01T14:00Z', '2020-01-01T14:00:00.000Z'],
    ['  2020-02-29T14:00:00Z ', '2020-02-29T14:00:00.000Z'],
  ])('%j → %s', (input, iso) => {
    expect(parseProviderTimestamp(input)).toBe(iso);
  });

  it.each([
    '',
    'yesterday',
    '2020-01-01',
    '1577887200',
    '2020-13-01T14:00:00Z',
    '2020-02-30T14:00:00Z',
    '2019-02-29T14:00:00Z',
    '2020-01-01T24:00:00Z',
    '2020-01-01T14:60:00Z',
    '2020-01-01T14:00:60Z',
    '2020-01-01T14:00:00+25:00',
    '2020-01-01T14:00:00.000ZZ',
    '01/01/2020 14:00:00',
  ])('%j → null', (input) => {
    expect(parseProviderTimestamp(input)).toBeNull();
  });
});
