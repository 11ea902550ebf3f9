/**
 * The embedded Plivo stand-in: no account needed. It accepts sends with a uuid, as Plivo's 202 does,
 * then posts form-encoded, V3-signed status callbacks (`queued`, `sent`, then `delivered` — or a
 * failure for the test numbers below) to Parley's own `/webhooks/plivo/status?ref=<id>`, and can post
 * a signed inbound to `/webhooks/plivo/inbound`: the whole Plivo pipeline runs as it would live.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { countSms } from '@parley/shared';
import { signPlivoV3 } from './signature';
import { describePlivoHttpError } from './errors';
import { toPlivoAddress } from './sender';
import { createSandboxKit, fetchOutboundMedia, SANDBOX_NUMBERS, type SandboxBaseOptions, type SandboxProvider } from '../sandbox-kit';
import type { OutboundSms, SendResult } from '../types';

/** Numbers with a scripted outcome (fictional UK range, as the Vonage sandbox); every other number is delivered. */
export const PLIVO_SANDBOX_TEST_NUMBERS = [
  {
    number: SANDBOX_NUMBERS.rejected,
    outcome: 'rejected',
    description: 'The send is accepted, then the status callback says `rejected` with ErrorCode 100 (prohibited by the carrier).',
  },
  {
    number: SANDBOX_NUMBERS.throttled,
    outcome: 'throttled',
    description: 'The first 2 sends of a message fail with HTTP 429 (throttled, retryable); the 3rd is accepted and delivered.',
  },
  {
    number: SANDBOX_NUMBERS.undeliverable,
    outcome: 'undeliverable',
    description: '`sent`, then `undelivered` with ErrorCode 70 (destination permanently unavailable).',
  },
] as const;

const { rejected: REJECTED, undeliverable: UNDELIVERABLE } = SANDBOX_NUMBERS;
/** USD per segment; Plivo's callbacks carry no currency. */
const RATE_PER_SEGMENT = 0.0079;

export interface PlivoSandboxOptions extends SandboxBaseOptions {
  /** Signs the callbacks; the webhook router must verify with the same token. */
  authToken: string;
}

export type PlivoSandbox = SandboxProvider;

/** `YYYY-MM-DD HH:MM:SS.ffffff` in UTC, Plivo's timestamp form. */
export function plivoTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000`;
}

/** A 20-digit nonce, as Plivo's look. */
function nonce(): string {
  return [...randomBytes(20)].map((b) => String(b % 10)).join('');
}

function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

export function createPlivoSandbox(opts: PlivoSandboxOptions): PlivoSandbox {
  const delays = opts.delaysMs ?? { submitted: 300, delivered: 1200 };
  const kit = createSandboxKit({ logger: opts.logger, label: 'sandbox:plivo', retryDelayMs: opts.retryDelayMs });
  const { wait } = kit;

  /** One form POST, V3-signed with a fresh nonce (a reused nonce is refused as a replay). */
  async function postForm(path: string, fields: [string, string][]): Promise<globalThis.Response> {
    const url = joinUrl(opts.baseUrl(), path);
    const n = nonce();
    return fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-plivo-signature-v3': signPlivoV3({ url, params: fields, nonce: n, authToken: opts.authToken }),
        'x-plivo-signature-v3-nonce': n,
      },
      body: new URLSearchParams(fields).toString(),
      signal: kit.signal,
    });
  }

  /** Posts one status callback; retried (re-signed with a fresh nonce) on non-2xx or a connection error, like Plivo. */
  function postStatus(msg: OutboundSms, fields: [string, string][]): Promise<void> {
    const path = `/webhooks/plivo/status?ref=${encodeURIComponent(msg.messageId)}`;
    const status = fields.find(([k]) => k === 'Status')?.[1];
    return kit.deliver({ callbackStatus: status, ref: msg.messageId }, () => postForm(path, fields));
  }

  async function report(msg: OutboundSms, uuid: string): Promise<void> {
    const units = Math.max(1, countSms(msg.text).segments);
    const charged = (RATE_PER_SEGMENT * units).toFixed(5);
    const queuedAt = Date.now();
    let sequence = 0;
    type Extra = { errorCode?: string; amount?: string; sentAt?: number; deliveredAt?: number };
    const fields = (status: string, extra: Extra = {}): [string, string][] => [
      ['Status', status],
      ['From', toPlivoAddress(msg.from)],
      ['To', toPlivoAddress(msg.to)],
      ['Type', 'sms'],
      ['MessageUUID', uuid],
      ['ParentMessageUUID', uuid],
      ['PartInfo', '1 of 1'],
      ['MCC', '234'],
      ['MNC', '10'],
      ['PowerpackUUID', ''],
      ['requester_ip', '127.0.0.1'],
      ['MessageTime', plivoTimestamp(queuedAt)],
      ['Units', String(units)],
      ['TotalRate', RATE_PER_SEGMENT.toFixed(5)],
      ['TotalAmount', extra.amount ?? charged],
      ['ErrorCode', extra.errorCode ?? ''],
      ['Sequence', String(++sequence)],
      ['QueuedTime', plivoTimestamp(queuedAt)],
      ...(extra.sentAt !== undefined ? ([['SentTime', plivoTimestamp(extra.sentAt)]] as [string, string][]) : []),
      ...(extra.deliveredAt !== undefined ? ([['DeliveryReportTime', plivoTimestamp(extra.deliveredAt)]] as [string, string][]) : []),
    ];

    // Like Plivo, `queued` may reach us around the time of the 202; Parley ignores it.
    if (!(await wait(0))) return;
    await postStatus(msg, fields('queued', { amount: '0.00000' }));
    if (!(await wait(delays.submitted - (Date.now() - queuedAt)))) return;
    if (msg.to === REJECTED) {
      await postStatus(msg, fields('rejected', { errorCode: '100', amount: '0.00000' }));
      return;
    }
    const sentAt = Date.now();
    await postStatus(msg, fields('sent', { sentAt }));
    if (!(await wait(delays.delivered - (Date.now() - queuedAt)))) return;
    const deliveredAt = Math.max(Date.now(), sentAt + 1);
    if (msg.to === UNDELIVERABLE) {
      await postStatus(msg, fields('undelivered', { errorCode: '70', sentAt, deliveredAt }));
      return;
    }
    await postStatus(msg, fields('delivered', { sentAt, deliveredAt }));
  }

  async function send(msg: OutboundSms): Promise<SendResult> {
    kit.refuseIfBusy(msg, { name: 'Plivo', throttled: { ...describePlivoHttpError(429), httpStatus: 429 } });
    await fetchOutboundMedia(msg, 'Plivo');
    const uuid = randomUUID();
    kit.track(() => report(msg, uuid));
    return { providerMessageId: uuid };
  }

  async function simulateInbound(input: {
    from: string;
    to: string;
    text: string;
    media?: { url: string; contentType: string }[];
  }): Promise<void> {
    const media = input.media ?? [];
    const fields: [string, string][] = [
      ['From', toPlivoAddress(input.from)],
      ['To', toPlivoAddress(input.to)],
      // MMS: the text in Body, MediaCount and Media0… (Plivo's inbound MMS fields).
      ...(media.length > 0
        ? ([
            ['Body', input.text],
            ['Type', 'mms'],
            ['MediaCount', String(media.length)],
            ...media.map((m, i): [string, string] => [`Media${i}`, m.url]),
          ] as [string, string][])
        : ([
            ['Text', input.text],
            ['Type', 'sms'],
          ] as [string, string][])),
      ['MessageUUID', randomUUID()],
      ['Units', String(Math.max(1, countSms(input.text).segments))],
      ['TotalRate', '0.00000'],
      ['TotalAmount', '0.00000'],
      ['MessageIntent', ''],
      ['PowerpackUUID', ''],
    ];
    const res = await postForm('/webhooks/plivo/inbound', fields);
    const answer = await res.text();
    if (!res.ok) {
      let error = answer.slice(0, 200);
      try {
        const parsed = JSON.parse(answer) as { error?: unknown; outcome?: unknown };
        error = String(parsed.error ?? parsed.outcome ?? error);
      } catch {
        // not JSON: the snippet
      }
      throw new Error(`the Plivo inbound webhook refused the simulated text (HTTP ${res.status}): ${error}`);
    }
  }

  return { name: 'sandbox:plivo', send, simulateInbound, close: kit.close };
}
