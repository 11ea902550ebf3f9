/**
 * Plivo statuses, callback error codes and HTTP answers → Parley's terms.
 *
 * Codes are Plivo's SMS error table (`ErrorCode` on status callbacks, `error_code` in the message
 * record); see apps/server/test/fixtures/plivo/README.md. A failed or undelivered callback is final for its
 * message whatever the code: "temporary" only means a later, new send may work.
 */

export type PlivoParleyStatus = 'submitted' | 'delivered' | 'undeliverable' | 'failed' | 'rejected' | 'read';

const STATUSES: Readonly<Record<string, PlivoParleyStatus>> = {
  sent: 'submitted',
  delivered: 'delivered',
  undelivered: 'undeliverable',
  failed: 'failed',
  rejected: 'rejected',
  read: 'read', // WhatsApp only, harmless for SMS
};

/** Plivo's `Status` → Parley's; null for `queued` (changes nothing) and for statuses Parley does not know. */
export function plivoStatusToParley(status: string): PlivoParleyStatus | null {
  return STATUSES[status.trim().toLowerCase()] ?? null;
}

const REASONS: Readonly<Record<string, string>> = {
  '10': 'Plivo found the message invalid',
  '20': 'Carrier network error (temporary)',
  '30': 'Blocked by the carrier as spam (do not resend the same text)',
  '40': 'Our sender number is invalid for this route (check the Plivo number)',
  '50': 'The destination cannot receive SMS (landline or invalid number)',
  '60': 'Message loop detected',
  '70': 'Destination permanently unavailable',
  '80': 'Destination temporarily unavailable',
  '90': 'No route to the destination',
  '100': 'Prohibited by the carrier',
  '110': 'Message too long',
  '200': 'The recipient opted out (STOP) at Plivo',
  '201': 'US toll-free numbers cannot text Canada',
  '300': 'Plivo failed to dispatch the message',
  '420': 'Expired in Plivo’s queue (not sent within 3 hours)',
  '450': 'Destination country not enabled in Plivo Geo Permissions',
  '900': 'Plivo account has insufficient credit',
  '910': 'Plivo account disabled',
  '1000': 'Unknown error at Plivo or the carrier',
};

/** Codes that mean "no error": an empty ErrorCode on delivered callbacks, `000` in the message record. */
export function isPlivoNoError(code: string | null | undefined): boolean {
  const text = (code ?? '').trim();
  return text === '' || /^0+$/.test(text);
}

/** A short reason an agent can read for a callback `ErrorCode`; unknown codes get a generic one with the code. */
export function plivoErrorReason(code: string): string {
  const text = code.trim();
  return REASONS[text] ?? `Plivo error ${text}`;
}

export interface PlivoHttpErrorDescription {
  code: string;
  reason: string;
  retryable: boolean;
}

/**
 * A failed send request (`POST …/Message/`) by HTTP status. 429 and 5xx may succeed later; every
 * other 4xx never will (Plivo refused the request itself, so nothing was sent). `error` is Plivo's
 * human string from the body, used only to sharpen the reason.
 */
export function describePlivoHttpError(status: number, error?: string): PlivoHttpErrorDescription {
  const code = `http_${status}`;
  if (status === 429) return { code, reason: 'Throttled by Plivo', retryable: true };
  if (status >= 500) return { code, reason: 'Plivo had an internal error', retryable: true };
  if (error !== undefined && /insufficient\s+credit/i.test(error)) {
    return { code, reason: 'Plivo account has insufficient credit', retryable: false };
  }
  if (status === 400) return { code, reason: 'Plivo refused the request as invalid', retryable: false };
  if (status === 401) return { code, reason: 'Plivo rejected our credentials (PLIVO_AUTH_ID / PLIVO_AUTH_TOKEN)', retryable: false };
  if (status === 403) {
    return {
      code,
      reason: 'Plivo refused the destination: its country is not enabled in Geo Permissions (Plivo console → Messaging → Geo Permissions)',
      retryable: false,
    };
  }
  if (status === 404) return { code, reason: 'Plivo did not find the account (check PLIVO_AUTH_ID)', retryable: false };
  return { code, reason: `Plivo answered HTTP ${status}`, retryable: false };
}
