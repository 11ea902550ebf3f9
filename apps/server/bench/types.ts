/**
 * One benchmark for `pnpm bench`. `run` prints its own figures (a goal it misses is printed, not
 * thrown); it throws only when the figures cannot be trusted — failed requests, lost writes, a
 * server that would not start — which makes `pnpm bench` exit non-zero.
 */
export interface Benchmark {
  /** Matched (substring) by the CLI filter: `pnpm bench webhooks`. */
  name: string;
  /** One line, printed as the section heading. */
  description: string;
  run(): Promise<void>;
}
