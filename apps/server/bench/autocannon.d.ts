// The small part of autocannon 8's programmatic API the benches use (the package ships no types).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  namespace autocannon {
    interface RequestParams {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
    }

    interface Request extends RequestParams {
      /** Called once for every request sent on a connection; returns what to send. */
      setupRequest?: (req: RequestParams, context: Record<string, unknown>) => RequestParams;
      onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
    }

    /** One connection. `reqsMade`/`responseMax` are internals (lib/httpClient.js), checked at run time. */
    type Client = EventEmitter & Record<string, unknown>;

    interface Options {
      url: string;
      connections?: number;
      pipelining?: number;
      /** Seconds. Ignored when `amount` is set. */
      duration?: number;
      amount?: number;
      /** Seconds per request. */
      timeout?: number;
      /** Milliseconds between samples; the run ends on the first sample after every connection is done. */
      sampleInt?: number;
      requests?: Request[];
      setupClient?: (client: Client) => void;
    }

    interface Result {
      errors: number;
      timeouts: number;
      mismatches: number;
      resets: number;
      non2xx: number;
      '2xx': number;
      duration: number;
    }

    interface Instance extends EventEmitter {
      stop(): void;
      on(event: 'response', listener: (client: Client, statusCode: number, resBytes: number, responseTimeMs: number) => void): this;
      on(event: string, listener: (...args: unknown[]) => void): this;
    }
  }

  function autocannon(opts: autocannon.Options, cb: (err: Error | null, result: autocannon.Result) => void): autocannon.Instance;

  export = autocannon;
}
