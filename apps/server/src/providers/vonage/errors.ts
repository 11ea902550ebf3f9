/**
 * Vonage Messages error codes and HTTP statuses → short reasons an agent can read.
 *
 * Codes are the `x-errors` table of the Messages OpenAPI spec; status webhooks carry them in
 * `error.title` (a string or a number). `retryable` is only about the *send request*: a status
 * webhook's rejected/undeliverable is final for that message whatever its code.
 */

const REASONS: Readonly<Record<string, string>> = {
  '1000': 'Throttled by Vonage',
  '1010': 'Request is missing mandatory parameters',
  '1020': 'Invalid parameters',
  '1021': 'Invalid tag',
  '1022': 'Invalid template',
  '1030': 'Vonage had an internal error',
  '1040': 'Vonage could not process the message (e.g. unknown number prefix)',
  '1050': 'Number is barred',
  '1060': 'Vonage account is barred',
  '1070': 'Vonage account balance too low',
  '1080': 'Vonage account not enabled for REST',
  '1090': 'Message too long',
  '1100': 'Communication with the carrier failed',
  '1120': 'Sender ID not allowed (illegal sender)',
  '1130': 'Invalid TTL',
  '1140': 'Feature not enabled on the Vonage account',
  '1150': 'Invalid message class',
  '1160': 'Destination not in the pre-approved list',
  '1170': 'Number is invalid or missing',
  '1180': 'Recipient temporarily unreachable (absent subscriber)',
  '1190': 'Recipient number no longer active (absent subscriber)',
  '1200': 'Recipient changed carrier (portability error)',
  '1210': 'Rejected by carrier anti-spam',
  '1220': 'Recipient handset busy',
  '1230': 'Carrier network error (temporary)',
  '1240': 'Recipient has opted out (STOP) at the carrier',
  '1241': 'Too many send requests to this number',
  '1250': 'Number is unroutable',
  '1260': 'Destination unreachable',
  '1270': 'Blocked by carrier age restriction',
  '1280': 'Number blocked by carrier',
  '1290': "Recipient's pre-paid account has insufficient funds",
  '1300': 'Recipient not on the provider network',
  '1310': "Recipient's device cannot receive the message",
  '1320': 'Message already sent',
  '1330': 'Unknown carrier error (check the number)',
  '1331': 'Provider not responding',
  '1340': 'Outside the allowed response window',
  '1350': 'Phone matching fee not paid',
  '1360': 'Message expired (TTL) before delivery',
  '1370': 'Expired access token',
  '1380': 'Invalid media resource',
  '1381': 'Media resource too large',
  '1382': 'Invalid media resource type',
  '1400': 'Unsupported channel',
  '1410': 'Invalid channel parameters',
  '1420': 'Invalid sender for the channel',
  '1430': 'Invalid recipient for the channel',
  '1440': 'Message type not supported on the channel',
  '1450': 'Invalid client reference (max 40 characters)',
};

/** Codes whose send request may be retried as is. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set(['1000']);

export interface VonageErrorInput {
  httpStatus?: number;
  code?: string | number | null;
  title?: string;
  detail?: string;
}

export interface VonageErrorDescription {
  code: string;
  reason: string;
  retryable: boolean;
}

function normalizeCode(code: string | number | null | undefined): string | undefined {
  if (code === null || code === undefined) return undefined;
  const text = String(code).trim();
  return text === '' ? undefined : text;
}

/** The short reason for a known Vonage error code, or null. */
export function vonageErrorReason(code: string): string | null {
  return REASONS[code.trim()] ?? null;
}

/** Reasons decided by the HTTP status alone, whatever code the body carries. */
function statusReason(status: number): { reason: string; retryable: boolean } | undefined {
  if (status === 401) return { reason: 'Vonage rejected our credentials', retryable: false };
  if (status === 402) return { reason: 'Vonage account balance too low', retryable: false };
  if (status === 429) return { reason: 'Throttled by Vonage', retryable: true };
  if (status >= 500) return { reason: 'Vonage had an internal error', retryable: true };
  return undefined;
}

function otherStatusReason(status: number): string {
  if (status === 422) return 'Vonage refused the message as invalid';
  if (status === 403) return 'Vonage refused access to the Messages API';
  if (status === 400) return 'Vonage refused the request as malformed';
  return `Vonage answered HTTP ${status}`;
}

/**
 * Describe a Vonage failure. 401/402/429/5xx are decided by the status (the codes in error bodies
 * of the send endpoint do not follow the x-errors numbering reliably); otherwise a known code wins,
 * then the status, then the title.
 */
export function describeVonageError(input: VonageErrorInput): VonageErrorDescription {
  const code = normalizeCode(input.code);
  const status = input.httpStatus;
  const httpCode = status === undefined ? undefined : `http_${status}`;
  const byStatus = status === undefined ? undefined : statusReason(status);
  if (byStatus) return { code: code ?? httpCode ?? 'unknown', ...byStatus };

  const known = code === undefined ? null : vonageErrorReason(code);
  if (code !== undefined && known !== null) {
    return { code, reason: known, retryable: RETRYABLE_CODES.has(code) };
  }
  if (status !== undefined && status >= 400) {
    return { code: code ?? httpCode ?? 'unknown', reason: otherStatusReason(status), retryable: false };
  }
  const title = input.title?.trim();
  const reason = title && !/^\d+$/.test(title) ? title : code ? `Vonage error ${code}` : 'Unknown Vonage error';
  return { code: code ?? 'unknown', reason, retryable: false };
}
