/** One outbound text, as the outbox worker hands it to a provider. Numbers are E.164 with `+`. */
export interface OutboundSms {
  /** Parley's message id; sent to the provider as `client_ref` so an early status webhook can find the message. */
  messageId: string;
  from: string;
  to: string;
  /** The text; with media, the caption (may be empty). */
  text: string;
  /** MMS: the attachments, each on a signed, expiring link Parley serves (the provider fetches it). */
  media?: OutboundMedia[];
}

export interface OutboundMedia {
  url: string;
  contentType: string;
}

export interface SendResult {
  providerMessageId: string;
}

export interface ProviderFailure {
  /** true: the same request may succeed later (429, 5xx, network, Vonage 1000). false: it never will. */
  retryable: boolean;
  /** HTTP status of the provider's answer; undefined for network errors. */
  httpStatus?: number;
  /** The provider's error code (Vonage's numeric code as a string, or e.g. 'http_422', 'network'). */
  code: string;
  /** A short reason an agent can read ("Invalid number", "Throttled by Vonage"). */
  reason: string;
  /** The provider's own title/detail, kept verbatim for the record. */
  title?: string;
  detail?: string;
  invalidParameters?: { name: string; reason: string }[];
  /**
   * For transport failures: false when the request provably never left (connection refused, DNS),
   * true when it may have reached the provider (timeout, reset) — then a retry could send twice.
   */
  requestSent?: boolean;
  /** Honour a Retry-After the provider gave us. */
  retryAfterMs?: number;
}

export class ProviderError extends Error {
  readonly failure: ProviderFailure;
  constructor(failure: ProviderFailure) {
    super(`${failure.reason}${failure.detail ? `: ${failure.detail}` : ''}`);
    this.name = 'ProviderError';
    this.failure = failure;
  }
}

export interface SmsProvider {
  /** For logs: 'vonage', 'plivo', 'sinch', or 'sandbox' / 'sandbox:plivo' … */
  readonly name: string;
  /** Resolves with the provider's message id, or throws ProviderError. Never throws anything else. */
  send(msg: OutboundSms): Promise<SendResult>;
  close?(): Promise<void>;
}
