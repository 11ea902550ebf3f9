/** Domain errors with a code; the tRPC error formatter maps each code to an HTTP status once. */
export type AppErrorCode =
  | 'BAD_REQUEST'
  | 'NOT_FOUND'
  | 'OPTED_OUT'
  | 'CONFLICT'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'TOO_MANY_REQUESTS'
  | 'PRECONDITION_FAILED'
  /** event.stream: the events after the client's lastEventId were compacted; refetch and start from the tail. */
  | 'RESYNC'
  /** Another process held SQLite's write lock for longer than DB_BUSY_RETRY_MS: 503, try again. */
  | 'DB_BUSY';

export class AppError extends Error {
  readonly code: AppErrorCode;
  /** TOO_MANY_REQUESTS: when to try again; HTTP answers carry it as `Retry-After`. */
  readonly retryAfterSeconds: number | undefined;
  constructor(code: AppErrorCode, message: string, opts: { retryAfterSeconds?: number } = {}) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.retryAfterSeconds = opts.retryAfterSeconds === undefined ? undefined : Math.max(1, Math.ceil(opts.retryAfterSeconds));
  }
}
