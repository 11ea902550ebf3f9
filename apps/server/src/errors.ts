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
  constructor(code: AppErrorCode, message: string) {
    super(message);
    this.name = 'AppError';
    this.code = code;
  }
}
