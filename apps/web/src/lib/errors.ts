import { TRPCClientError } from '@trpc/client';

interface ErrorData {
  code?: string;
  httpStatus?: number;
  appCode?: string | null;
}

function dataOf(error: unknown): ErrorData | null {
  if (!(error instanceof TRPCClientError)) return null;
  const data: unknown = error.data;
  return typeof data === 'object' && data !== null ? (data as ErrorData) : null;
}

export function isUnauthorized(error: unknown): boolean {
  const data = dataOf(error);
  return data?.code === 'UNAUTHORIZED' || data?.httpStatus === 401;
}

/** The domain code the server put on the error ('OPTED_OUT', …), if any. */
export function appCodeOf(error: unknown): string | null {
  return dataOf(error)?.appCode ?? null;
}

/** The server's own message; a network failure says so. */
export function errorMessage(error: unknown): string {
  if (error instanceof TRPCClientError) {
    const message = error.message;
    if (/fetch|network/i.test(message) && !dataOf(error)) return 'Cannot reach the server. Check your connection and try again.';
    return message;
  }
  return error instanceof Error ? error.message : 'Something went wrong';
}
