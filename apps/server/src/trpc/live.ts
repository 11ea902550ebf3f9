import { TRPCError } from '@trpc/server';
import type { WebSocket } from 'ws';
import { resolveCredential, type Context } from './context';

/** Close codes Parley's WebSocket uses. tRPC's wsLink reconnects (and resends lastEventId) on any close. */
export const WS_CLOSE = {
  /** The consumer did not read fast enough: reconnect and resume from lastEventId. */
  SLOW_CONSUMER: 1013,
  /** No valid credential on this connection (never had one, or it ended). */
  UNAUTHENTICATED: 1008,
  /** Parley is shutting down. */
  GOING_AWAY: 1001,
} as const;

/** One WebSocket connection as subscriptions see it (null over HTTP). */
export interface LiveConnection {
  socket: WebSocket;
  /** Subscriptions open on it now. */
  subscriptions: number;
  /** Closes the connection (once) with a code the client's reconnect logic handles; its subscriptions end at once. */
  close(code: number, reason: string): void;
  /** Aborts when close() is called. */
  closed: AbortSignal;
}

/** The message an ended credential gives its subscriptions; the web app treats UNAUTHORIZED as "signed out". */
export const SIGNED_OUT_MESSAGE = 'Your session ended (signed out, expired or revoked): sign in again';

/**
 * Runs a subscription only while its credential stands: the reusable wrapper for every live
 * procedure (`event.stream`, and any later one such as a presence stream). It
 *  - ends the subscription with UNAUTHORIZED within `CREDENTIAL_RECHECK_MS` (at once after
 *    `deps.credentials.revoked()`) when `resolveCredential` stops answering an agent — logout,
 *    session expiry, a revoked token, a disabled agent;
 *  - caps the subscriptions one WebSocket connection holds (`WS_MAX_SUBSCRIPTIONS_PER_CONNECTION`);
 *  - ends with the server's shutdown signal;
 *  - disconnects a WebSocket whose unsent data passes `WS_MAX_BUFFERED_BYTES` (slow consumer), and
 *    closes the source of a consumer that takes nothing for `WS_SLOW_CONSUMER_MS`.
 * `source` gets a signal that aborts when any of these ends the subscription.
 *
 *     stream: agentProcedure.subscription(({ ctx, signal }) =>
 *       whileSignedIn(ctx, signal, (s) => mySource(s)))
 *
 * Call it from the resolver itself (not inside a generator), so that a refusal comes before
 * the subscription is reported started.
 */
export async function whileSignedIn<T>(
  ctx: Context,
  signal: AbortSignal | undefined,
  source: (signal: AbortSignal) => AsyncIterable<T>,
): Promise<AsyncGenerator<T>> {
  const { deps, connection, credential } = ctx;
  // Checked before the subscription is "started": a refusal is the subscription's only answer.
  // In-process callers (tests, createCaller) bring an agent and no credential: nothing to watch.
  if (credential ? !(await resolveCredential(deps.db, credential)) : !ctx.agent) {
    throw new TRPCError({ code: 'UNAUTHORIZED', message: SIGNED_OUT_MESSAGE });
  }
  const limit = deps.config.live.wsMaxSubscriptionsPerConnection;
  if (connection && connection.subscriptions >= limit) {
    throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `At most ${limit} subscriptions per connection` });
  }
  // The slot is held from now: released when the stream ends, or when it is stopped before it ran.
  let held = connection !== null;
  if (connection) connection.subscriptions += 1;
  const release = () => {
    if (held && connection) connection.subscriptions -= 1;
    held = false;
  };
  signal?.addEventListener('abort', release, { once: true });
  return run(ctx, signal, source, release);
}

async function* run<T>(
  ctx: Context,
  signal: AbortSignal | undefined,
  source: (signal: AbortSignal) => AsyncIterable<T>,
  release: () => void,
): AsyncGenerator<T> {
  const { deps, connection, credential } = ctx;
  const inner = new AbortController();
  let signedOut = false;
  const end = () => inner.abort();
  const ends = [signal, deps.shutdown, connection?.closed].filter((x): x is AbortSignal => x !== undefined);
  for (const s of ends) s.addEventListener('abort', end, { once: true });
  if (ends.some((s) => s.aborted)) end();
  const unwatch = credential
    ? deps.credentials.watch(
        `${credential.kind}:${credential.hash}`,
        async () => (await resolveCredential(deps.db, credential)) !== null,
        () => {
          signedOut = true;
          end();
          // The error reaches the client first; a connection with nothing valid on it is then closed.
          if (connection) setTimeout(() => connection.close(WS_CLOSE.UNAUTHENTICATED, 'signed out'), 1000).unref();
        },
      )
    : () => undefined;

  const iterator = source(inner.signal)[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<T>> | undefined;
  try {
    while (!inner.signal.aborted) {
      pending = iterator.next();
      const next = await nextOrStop(pending, inner.signal);
      if (next === 'stop' || next.done) break;
      pending = undefined;
      // A consumer that stops taking values (an HTTP stream waits for the socket to drain) must not
      // hold the source — its cursor would hold back compaction — for ever: past WS_SLOW_CONSUMER_MS
      // the source is closed, and the stream ends when (if) the consumer comes back.
      let stalled = false;
      const stall = setTimeout(() => {
        stalled = true;
        inner.abort();
        void iterator.return?.()?.catch(() => undefined);
        connection?.close(WS_CLOSE.SLOW_CONSUMER, 'slow consumer: reconnect and resume');
      }, deps.config.live.wsSlowConsumerMs);
      stall.unref();
      try {
        yield next.value;
      } finally {
        clearTimeout(stall);
      }
      if (stalled) break;
      if (connection && connection.socket.bufferedAmount > deps.config.live.wsMaxBufferedBytes) {
        connection.close(WS_CLOSE.SLOW_CONSUMER, 'slow consumer: reconnect and resume');
        break;
      }
    }
    if (signedOut) throw new TRPCError({ code: 'UNAUTHORIZED', message: SIGNED_OUT_MESSAGE });
  } finally {
    unwatch();
    inner.abort();
    release();
    for (const s of ends) s.removeEventListener('abort', end);
    // The source saw its signal abort; let it finish its own cleanup without waiting here.
    if (pending) pending.catch(() => undefined);
    void Promise.resolve(pending)
      .then(() => iterator.return?.())
      .catch(() => undefined);
  }
}

/**
 * The source's next value, or 'stop' once `signal` aborts, whichever comes first. Not
 * `Promise.race([next, stopped])` over one long-lived `stopped` promise: every race leaves a
 * reaction on it that keeps that race's result (the event) reachable until the stream ends, so a
 * long subscription would hold every event it ever delivered. Here the abort listener is removed
 * as soon as the value arrives.
 */
function nextOrStop<T>(next: Promise<IteratorResult<T>>, signal: AbortSignal): Promise<IteratorResult<T> | 'stop'> {
  if (signal.aborted) return Promise.resolve('stop');
  return new Promise((resolve, reject) => {
    const onStop = () => resolve('stop');
    signal.addEventListener('abort', onStop, { once: true });
    next.then(
      (value) => {
        signal.removeEventListener('abort', onStop);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onStop);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/**
 * Waits while a WebSocket has more than a quarter of `WS_MAX_BUFFERED_BYTES` unsent, so a replay
 * is read from the table only as fast as the consumer takes it. A socket that does not drain within
 * `WS_SLOW_CONSUMER_MS` is disconnected (the client reconnects and resumes from its lastEventId).
 * Over HTTP (SSE) the adapter already waits for `drain`, so this resolves at once.
 */
export async function paceConsumer(ctx: Context, signal: AbortSignal): Promise<void> {
  const connection = ctx.connection;
  if (!connection) return;
  const { wsMaxBufferedBytes, wsSlowConsumerMs } = ctx.deps.config.live;
  const lowWater = wsMaxBufferedBytes / 4;
  if (connection.socket.bufferedAmount <= lowWater) return;
  const deadline = Date.now() + wsSlowConsumerMs;
  while (connection.socket.bufferedAmount > lowWater && !signal.aborted) {
    if (Date.now() > deadline || connection.socket.readyState !== connection.socket.OPEN) {
      connection.close(WS_CLOSE.SLOW_CONSUMER, 'slow consumer: reconnect and resume');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Wraps a `ws` socket: `close` sends the code, then drops the socket (and its unsent buffer) soon after. */
export function liveConnection(socket: WebSocket): LiveConnection {
  const closed = new AbortController();
  socket.once('close', () => closed.abort());
  return {
    socket,
    subscriptions: 0,
    closed: closed.signal,
    close(code, reason) {
      if (closed.signal.aborted) return;
      closed.abort();
      try {
        socket.close(code, reason);
      } catch {
        // already closing
      }
      // A consumer that does not read never takes the close frame: free what it left unsent.
      setTimeout(() => socket.terminate(), 1000).unref();
    },
  };
}
