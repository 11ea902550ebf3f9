/** How a server starts listening and stops: the drain documented on ParleyServer.close, and the undoing of a start that failed. */
import type { Server } from 'node:http';
import type { Core } from './core';
import type { Job } from './background';
import type { Providers } from './providers';
import type { Trpc } from './http';

/** Binds config.port (0: any) and answers our own URL. */
export async function listen(server: Server, config: Core['config']): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  return `http://${config.host && config.host !== '0.0.0.0' ? config.host : '127.0.0.1'}:${port}`;
}

/** A start that failed after opening things: stop what started, release the port and the core, rethrow. */
export async function failedStart(err: unknown, core: Core, server: Server, jobs: Job[]): Promise<never> {
  try {
    for (const job of [...jobs].reverse()) await job.stop();
    if (server.listening) await new Promise((resolve) => server.close(resolve));
  } finally {
    await core.stop();
  }
  throw err;
}

/** Runs `fn` once; later calls get the same promise. */
export function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}

/** The close() sequence documented on ParleyServer. */
export async function drainAndClose(core: Core, server: Server, trpc: Trpc, jobs: Job[], providers: Providers): Promise<void> {
  core.draining.now = true;
  try {
    trpc.stopAccepting();
    // No new connections; idle keep-alive ones close now, busy ones finish their request.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    trpc.broadcastReconnect();
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, core.config.live.shutdownGraceMs)))]);
    clearTimeout(graceTimer);
    // Grace over: streams (WebSocket and HTTP) end, remaining connections are cut.
    core.shutdown.abort();
    await trpc.close();
    await new Promise((resolve) => setImmediate(resolve));
    server.closeAllConnections();
    await closed;
  } finally {
    try {
      // Background jobs in reverse order of start (compaction … outbox), then the senders.
      for (const job of [...jobs].reverse()) await job.stop();
      await Promise.all([...providers.senders.values()].map((provider) => provider.close?.()));
    } finally {
      await core.stop();
      core.logger.info('stopped: outbox stopped, database closed');
    }
  }
}
