/**
 * One outbound webhook request: signed per Standard Webhooks (`standardwebhooks`) with every secret
 * that signs now, refused before connecting when the target is not allowed (target-guard.ts), and
 * read into what a delivery record keeps. webhook-worker.ts decides when and what to send.
 */
import { Webhook } from 'standardwebhooks';
import { checkTarget, parseTarget, UnsafeTargetError, type Post, type Resolve } from './target-guard';

export interface AttemptDeps {
  guard: { allowLoopback: boolean };
  resolve: Resolve;
  post: Post;
  timeoutMs: number;
}

/** What a delivery record keeps of an attempt. */
export interface AttemptResult {
  ok: boolean;
  responseStatus: number | null;
  responseExcerpt: string | null;
  error: string | null;
  latencyMs: number;
}

/** One signed POST: refused before connecting when the target is not allowed now. */
export async function attemptDelivery(
  { guard, resolve, post, timeoutMs }: AttemptDeps,
  url: string,
  secrets: string[],
  webhookId: string,
  body: string,
  signal: AbortSignal,
): Promise<AttemptResult> {
  const started = performance.now();
  const timestamp = new Date();
  const signature = secrets.map((s) => new Webhook(s).sign(webhookId, timestamp, body)).join(' ');
  try {
    const target = parseTarget(url, guard);
    const pinned = await checkTarget(target, { ...guard, resolve });
    const answer = await post({
      url: target,
      pinned,
      body,
      timeoutMs,
      signal,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Parley-Webhooks/1',
        'webhook-id': webhookId,
        'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
        'webhook-signature': signature,
      },
    });
    const ok = answer.status >= 200 && answer.status < 300;
    return {
      ok,
      responseStatus: answer.status,
      responseExcerpt: answer.excerpt,
      error: ok ? null : `HTTP ${answer.status}`,
      latencyMs: Math.round(performance.now() - started),
    };
  } catch (err) {
    const message = err instanceof UnsafeTargetError ? `refused: ${err.message}` : err instanceof Error ? err.message : String(err);
    return {
      ok: false,
      responseStatus: null,
      responseExcerpt: null,
      error: message.slice(0, 300),
      latencyMs: Math.round(performance.now() - started),
    };
  }
}

/** The fields of a delivery record that come from the attempt. */
export function attemptRecord(result: AttemptResult) {
  return {
    status: result.ok ? ('succeeded' as const) : ('failed' as const),
    responseStatus: result.responseStatus,
    responseExcerpt: result.responseExcerpt,
    error: result.error,
    latencyMs: result.latencyMs,
  };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((res) => {
    if (signal.aborted || ms <= 0) return res();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      res();
    }
    signal.addEventListener('abort', done, { once: true });
  });
