import autocannon from 'autocannon';
import type { Client } from 'autocannon';

/** One HTTP request as the load generator sends it. */
export interface LoadRequest {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** Where requests come from: `next()` is called exactly once per request sent. */
export interface RequestSource {
  next(): LoadRequest;
  /** How many more `next()` calls the source can answer (Infinity: endless). */
  remaining(): number;
}

export interface LoadOptions {
  url: string;
  method: 'POST' | 'PUT';
  path: string;
  connections: number;
  /** Stop sending after this long; requests in flight are still answered and counted. */
  durationMs: number;
  source: RequestSource;
}

export interface LoadResult {
  /** Responses received (any status). */
  completed: number;
  ok: number;
  /** Status code → count, non-2xx only. */
  nonOk: Map<number, number>;
  /** The first few non-2xx response bodies. */
  nonOkSamples: string[];
  /** Socket errors and timeouts (autocannon counts a timeout as an error too). */
  errors: number;
  timeouts: number;
  /** First request sent → last response received. */
  elapsedS: number;
  /** 2xx responses per second. */
  okPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** The source ran dry before durationMs was up. */
  endedEarly: boolean;
}

/** The two autocannon Client internals the drain relies on (lib/httpClient.js, autocannon 8). */
interface DrainableClient {
  reqsMade: number;
  responseMax: number | undefined;
}

function drainable(client: Client): DrainableClient {
  if (typeof client.reqsMade !== 'number')
    throw new Error('autocannon Client has no numeric reqsMade: the drain in bench/load.ts needs updating');
  return client as unknown as DrainableClient;
}

/**
 * Drives `opts.url` with autocannon for `durationMs`, then drains: every connection stops sending
 * and waits for its request in flight, so each request sent is answered and counted — a server's
 * stored rows can be checked exactly against the 2xx count. Latencies are kept whole (autocannon's
 * histogram rounds to whole milliseconds, too coarse for sub-millisecond baselines).
 */
export function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const clients: DrainableClient[] = [];
  let draining = false;
  let endedEarly = false;
  const drain = () => {
    if (draining) return;
    draining = true;
    // A client stops at its next send once reqsMade >= responseMax (and responseMax must be truthy).
    for (const c of clients) c.responseMax = Math.max(c.reqsMade, 1);
  };

  const latencies: number[] = [];
  const nonOk = new Map<number, number>();
  const nonOkSamples: string[] = [];
  let ok = 0;
  let startedAt = 0;
  let lastResponseAt = 0;

  return new Promise<LoadResult>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      startedAt = performance.now();
      const instance = autocannon(
        {
          url: opts.url,
          connections: opts.connections,
          pipelining: 1,
          timeout: 10,
          // Only a safety net: the drain below ends the run.
          duration: opts.durationMs / 1000 + 60,
          sampleInt: 100,
          setupClient: (client) => {
            clients.push(drainable(client));
          },
          requests: [
            {
              method: opts.method,
              path: opts.path,
              setupRequest: (req) => {
                const next = opts.source.next();
                if (!draining && opts.source.remaining() <= opts.connections) {
                  endedEarly = true;
                  drain();
                }
                return { ...req, method: opts.method, path: opts.path, headers: { ...next.headers }, body: next.body };
              },
              onResponse: (status, body) => {
                if ((status < 200 || status >= 300) && nonOkSamples.length < 3) nonOkSamples.push(`${status} ${body}`);
              },
            },
          ],
        },
        (err, result) => {
          clearTimeout(timer);
          if (err) return reject(err);
          const elapsedS = Math.max(lastResponseAt - startedAt, 1) / 1000;
          const sorted = Float64Array.from(latencies).sort();
          resolve({
            completed: latencies.length,
            ok,
            nonOk,
            nonOkSamples,
            errors: result.errors,
            timeouts: result.timeouts,
            elapsedS,
            okPerSecond: ok / elapsedS,
            latencyMs: { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? 0 },
            endedEarly,
          });
        },
      );
      instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
        lastResponseAt = performance.now();
        latencies.push(responseTimeMs);
        if (statusCode >= 200 && statusCode < 300) ok += 1;
        else nonOk.set(statusCode, (nonOk.get(statusCode) ?? 0) + 1);
      });
      timer = setTimeout(drain, opts.durationMs);
    } catch (err) {
      clearTimeout(timer);
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

/** Nearest-rank percentile of an ascending array (0 when empty). */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? 0;
}

/** Cycles endlessly through `items` (for servers that do not mind seeing a request twice). */
export function cyclingSource(items: readonly LoadRequest[]): RequestSource {
  if (items.length === 0) throw new Error('cyclingSource needs at least one request');
  let i = 0;
  return {
    next() {
      const item = items[i % items.length];
      i += 1;
      if (item === undefined) throw new Error('unreachable: empty request list');
      return item;
    },
    remaining: () => Infinity,
  };
}

/** Hands out each of `items` once, in order; shared by every run it is given to. `items` may grow meanwhile. */
export function onceSource(items: readonly LoadRequest[]): RequestSource & { used(): number } {
  let i = 0;
  return {
    next() {
      const item = items[i];
      if (item === undefined) throw new Error(`request source exhausted after ${items.length} requests`);
      i += 1;
      return item;
    },
    remaining: () => items.length - i,
    used: () => i,
  };
}
