/**
 * Sinch SMS (xms v1) vocabularies → Parley's: delivery-report statuses and detail codes, and the
 * error answers of `POST /xms/v1/{service_plan_id}/batches`. Source: apps/server/test/fixtures/sinch/README.md.
 */

export type SinchParleyStatus = 'submitted' | 'delivered' | 'undeliverable' | 'rejected';

const STATUS_MAP: Readonly<Record<string, SinchParleyStatus>> = {
  dispatched: 'submitted',
  // Final in Sinch (reached the SMSC, no usable receipt) but says nothing about delivery: stays submitted.
  unknown: 'submitted',
  delivered: 'delivered',
  rejected: 'rejected',
  aborted: 'rejected',
  cancelled: 'rejected',
  failed: 'undeliverable',
  expired: 'undeliverable',
  deleted: 'undeliverable',
};

/**
 * A delivery report's `status` as a Parley status; null for `Queued` (still in Sinch's own queue:
 * changes nothing) and for any status Sinch may add later.
 */
export function sinchStatusToParley(status: string): SinchParleyStatus | null {
  return STATUS_MAP[status.trim().toLowerCase()] ?? null;
}

/** Sinch's own detail codes (400–418). Not HTTP statuses: 401 in a report means "Dispatched". */
const CODE_REASONS: Readonly<Record<number, string>> = {
  0: 'Delivered',
  400: 'Queued at Sinch',
  401: 'Dispatched to the operator',
  402: 'Message unroutable',
  403: 'Sinch internal error',
  404: 'Temporary delivery failure',
  405: 'Unmatched parameter',
  406: 'Expired inside Sinch before reaching the operator',
  407: 'Cancelled',
  408: 'Rejected by Sinch',
  410: 'No default originator for this recipient',
  411: 'Message exceeds the parts limit',
  412: 'Destination region not provisioned on the Sinch account',
  413: 'Sinch account blocked (possibly out of credit)',
};

/**
 * A short reason for a delivery report's `code`: Sinch's 4xx table, the MMS-only 414–418, and
 * anything else as the operator's SMPP status-report code (kept with its number: Sinch's "SMPP
 * error codes" page says which are permanent).
 */
export function sinchCodeReason(code: number, status: string): string {
  const known = CODE_REASONS[code];
  if (known !== undefined) return known;
  if (code >= 414 && code <= 418) return `MMS delivery error (Sinch code ${code})`;
  const shown = status.trim() === '' ? 'an error' : status.trim();
  return `Operator reported ${shown} (SMPP error code ${code})`;
}

// ---- Send errors ----

/** Readable reasons for the `code` of a 400/403 body (`{ "code", "text" }`). */
const SEND_CODE_REASONS: Readonly<Record<string, string>> = {
  syntax_invalid_json: 'Sinch could not parse the request (invalid JSON)',
  syntax_invalid_parameter_format: 'Invalid number or parameter',
  syntax_constraint_violation: 'A required field is missing or invalid',
  unknown_group: 'Unknown recipient group',
  unknown_campaign: 'Unknown campaign for this sender',
  missing_callback_url: 'Sinch has no callback URL for delivery reports: set one under Callback URLs in the Sinch dashboard',
  blocked_account: 'Sinch account is blocked (possibly out of credit)',
  illegal_number_type: 'Number type not allowed for this sender or destination',
};

/** The `status` of the `{ "error": { code, message, status } }` shape (OAuth2 front end). */
const SEND_STATUS_REASONS: Readonly<Record<string, string>> = {
  INVALID_ARGUMENT: 'Invalid number or parameter',
  UNAUTHENTICATED: 'Sinch rejected our credentials',
  PERMISSION_DENIED: 'Sinch refused access',
  NOT_FOUND: 'Sinch did not find the resource',
  RESOURCE_EXHAUSTED: 'Throttled by Sinch',
};

export const SINCH_CREDENTIALS_REASON = 'Sinch rejected our credentials: check SINCH_API_TOKEN, SINCH_SERVICE_PLAN_ID and SINCH_REGION';

export interface SinchSendErrorDescription {
  /** Sinch's code ('syntax_invalid_parameter_format', 'INVALID_ARGUMENT'), else `http_<status>`. */
  code: string;
  reason: string;
  retryable: boolean;
}

/**
 * Describes a non-2xx answer to a send. The HTTP status decides retrying: 429 and 5xx may succeed
 * later; 400/403 are final for that message; 401 is a configuration fault (final, and no retry
 * would fix it); other 4xx are final too.
 */
export function describeSinchSendError(input: { httpStatus: number; code?: string }): SinchSendErrorDescription {
  const status = input.httpStatus;
  const code = input.code?.trim() || `http_${status}`;
  const known = SEND_CODE_REASONS[code] ?? SEND_STATUS_REASONS[code];
  if (status === 429) return { code, reason: 'Throttled by Sinch', retryable: true };
  if (status === 503) return { code, reason: 'Sinch is temporarily unavailable', retryable: true };
  if (status >= 500) return { code, reason: 'Sinch had an internal error', retryable: true };
  if (status === 401) return { code, reason: SINCH_CREDENTIALS_REASON, retryable: false };
  if (status === 404) {
    return { code, reason: 'Sinch did not find the service plan: check SINCH_SERVICE_PLAN_ID and SINCH_REGION', retryable: false };
  }
  if (known !== undefined) return { code, reason: known, retryable: false };
  if (status === 400) return { code, reason: 'Sinch refused the request as invalid', retryable: false };
  if (status === 403) return { code, reason: 'Sinch refused the request', retryable: false };
  if (status === 415) return { code, reason: 'Sinch refused the Content-Type of the request', retryable: false };
  return { code, reason: `Sinch answered HTTP ${status}`, retryable: false };
}
