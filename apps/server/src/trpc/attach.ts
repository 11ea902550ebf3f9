import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Express } from 'express';
import type { TRPCError } from '@trpc/server';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { AppError } from '../errors';
import { createHttpContext, createWsContext, type AppDeps, type Context } from './context';
import { trpcGate } from './gate';
import { liveConnection, WS_CLOSE, type LiveConnection } from './live';
import { appRouter } from './root';

export const TRPC_PATH = '/trpc';

export interface AttachedTrpc {
  /** Stops taking upgrades and closes every WebSocket (their subscriptions end). */
  close(): Promise<void>;
  /** Stops taking upgrades (draining); open connections keep going until close(). */
  stopAccepting(): void;
  /** Tells every WebSocket client to reconnect (before a restart/deploy); they resume by lastEventId. */
  broadcastReconnect(): void;
  /** Open WebSocket connections. */
  subscriberCount(): number;
}

/**
 * tRPC on one HTTP server: HTTP at /trpc (plain JSON, batching allowed; `POST /trpc/message.send`
 * with the input as the JSON body works without a client library) and WebSocket upgrades on the
 * same path for subscriptions.
 */
export function attachTrpc({ app, server, deps }: { app: Express; server: Server; deps: AppDeps }): AttachedTrpc {
  const onError = ({ error, path, type }: { error: TRPCError; path: string | undefined; type: string }) => {
    if (error.code !== 'INTERNAL_SERVER_ERROR') return;
    // A WebSocket's own failure (e.g. a message over WS_MAX_PAYLOAD_BYTES, closed 1009): the client's doing, not ours.
    const wsCode = (error.cause as { code?: unknown } | undefined)?.code;
    if (path === undefined && type === 'unknown' && typeof wsCode === 'string' && wsCode.startsWith('WS_ERR_')) {
      deps.logger.warn({ code: wsCode, reason: error.cause?.message }, 'WebSocket connection refused a message');
      return;
    }
    deps.logger.error({ err: error.cause ?? error, path, type }, 'tRPC procedure failed');
  };

  const adapter = (maxBodySize: number) =>
    createExpressMiddleware({
      router: appRouter,
      createContext: async (opts) => await createHttpContext(deps, opts),
      onError,
      maxBodySize,
      maxBatchSize: deps.config.trpc.maxBatchSize,
      responseMeta: ({ ctx, type, errors }) => {
        // 429s say when to come back.
        const retryAfter = Math.max(0, ...errors.map((e) => (e.cause instanceof AppError ? (e.cause.retryAfterSeconds ?? 0) : 0)));
        const headers: Record<string, string> = retryAfter > 0 ? { 'retry-after': String(retryAfter) } : {};
        // A subscription over HTTP (SSE) reports errors inside its stream; without a session it still answers 401.
        return type === 'subscription' && !ctx?.agent ? { status: 401, headers } : { headers };
      },
    });
  // Bodies bounded per procedure (gate.ts): the large limit (a campaign's CSV, MAX 32 MB in
  // campaignRecipientsInput) only for a signed-in admin's campaign upload; every other call the small one.
  app.use(
    TRPC_PATH,
    trpcGate(deps, { small: adapter(deps.config.trpc.maxBodyBytes), large: adapter(deps.config.trpc.uploadMaxBodyBytes) }),
  );

  const live = deps.config.live;
  // maxPayload: ws refuses (close 1009) a bigger message from its header, before buffering it.
  const wss = new WebSocketServer({ noServer: true, maxPayload: live.wsMaxPayloadBytes });
  const connections = new WeakMap<WebSocket, LiveConnection>();
  const contexts = new WeakMap<WebSocket, Context>();
  // Registered before tRPC's own listener, which creates the context at once: the connection exists by then.
  wss.on('connection', (ws: WebSocket) => {
    const connection = liveConnection(ws);
    connections.set(ws, connection);
    // A connection that never presents a valid credential is closed: it may not sit on a slot.
    const timer = setTimeout(() => {
      if (!contexts.get(ws)?.agent) connection.close(WS_CLOSE.UNAUTHENTICATED, 'authentication required');
    }, live.wsAuthTimeoutMs);
    timer.unref();
    ws.once('close', () => clearTimeout(timer));
  });

  const handler = applyWSSHandler({
    wss,
    router: appRouter,
    createContext: async (opts) => {
      const ctx = await createWsContext(deps, opts, connections.get(opts.res) ?? null);
      contexts.set(opts.res, ctx);
      return ctx;
    },
    onError,
    maxBatchSize: deps.config.trpc.maxBatchSize,
    keepAlive: { enabled: true, pingMs: 30_000, pongWaitMs: 5_000 },
  });
  let accepting = true;
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === TRPC_PATH) {
      if (!accepting || wss.clients.size >= live.wsMaxConnections) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 5\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    } else if (server.listenerCount('upgrade') === 1) {
      // Nobody else handles upgrades: answer rather than leave the socket hanging.
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
  };
  server.on('upgrade', onUpgrade);

  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        accepting = false;
        server.off('upgrade', onUpgrade);
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      })),
    stopAccepting: () => {
      accepting = false;
    },
    broadcastReconnect: () => handler.broadcastReconnectNotification(),
    subscriberCount: () => wss.clients.size,
  };
}
