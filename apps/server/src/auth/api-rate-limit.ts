import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../errors';

/** The key a credential is counted under (`session:<hash>` or `token:<hash>`). */
export const limitKey = (credential: { kind: string; hash: string } | null): string =>
  credential ? `${credential.kind}:${credential.hash}` : 'none';

export interface ApiRateLimiter {
  /** Counts one call for a credential (`session:<hash>` or `token:<hash>`); throws TOO_MANY_REQUESTS (with retryAfterSeconds) when spent. */
  call(key: string): Promise<void>;
  /** Counts one send (message.send, …) for a credential, beside its calls. */
  send(key: string): Promise<void>;
}

/** Per session and per API token, in memory: calls per minute, and sends per minute beside them. */
export function createApiRateLimiter(opts: { perMinute: number; sendsPerMinute: number }): ApiRateLimiter {
  const calls = new RateLimiterMemory({ keyPrefix: 'api', points: opts.perMinute, duration: 60 });
  const sends = new RateLimiterMemory({ keyPrefix: 'send', points: opts.sendsPerMinute, duration: 60 });
  const refuse = (what: string, limit: number) => (res: unknown) => {
    if (!(res instanceof RateLimiterRes)) throw res;
    const seconds = res.msBeforeNext / 1000;
    throw new AppError(
      'TOO_MANY_REQUESTS',
      `Rate limit: ${limit} ${what} per minute for this session or token; try again in ${Math.max(1, Math.ceil(seconds))} s`,
      { retryAfterSeconds: seconds },
    );
  };
  return {
    async call(key) {
      await calls.consume(key).catch(refuse('calls', opts.perMinute));
    },
    async send(key) {
      await sends.consume(key).catch(refuse('sends', opts.sendsPerMinute));
    },
  };
}
