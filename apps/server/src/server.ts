import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DestinationStream, Logger } from 'pino';
import type { ProviderName } from '@parley/shared';
import type { Config } from './config';
import type { Db } from './db/client';
import type { FirstAdminResult } from './auth/bootstrap';
import type { EventLog } from './events/log';
import type { OutboxWorker } from './outbox/worker';
import type { WebhookWorkerOptions } from './integrations/webhook-worker';
import type { SmsProvider } from './providers/types';
import type { NumberRegistry } from './numbers';
import type { MediaStore } from './media/store';
import type { MediaFetcher } from './media/fetcher';
import { openCore } from './wiring/core';
import { wireProviders, type Providers } from './wiring/providers';
import { outboundMediaLinks } from './wiring/media';
import { startBackground, type Background } from './wiring/background';
import { buildHttp } from './wiring/http';
import { drainAndClose, failedStart, listen, once } from './wiring/lifecycle';

export { logUrl } from './http/app';

export interface ServerOptions {
  /** Use this provider for Vonage numbers instead of the one config names (tests). */
  provider?: SmsProvider;
  /** Use these providers instead of the configured ones (tests). */
  providers?: Partial<Record<ProviderName, SmsProvider>>;
  /** false: no outbox worker (tests that drive their own). Default true. */
  worker?: boolean;
  /** Serve the web app from here instead of apps/web/dist (tests). */
  webDistDir?: string;
  /** Write the log here instead of stdout (tests). */
  logDestination?: DestinationStream;
  /** The clock (epoch ms) for due times — snoozes, scheduled sends (tests move it). Default Date.now. */
  now?: () => number;
  /** Outbound webhooks: name resolution, HTTP exchange, retry delays, timeout, clock (tests). */
  webhooks?: Partial<Omit<WebhookWorkerOptions, 'db' | 'log' | 'config' | 'logger'>>;
}

export interface ParleyServer {
  url: string;
  port: number;
  config: Config;
  db: Db;
  events: EventLog;
  logger: Logger;
  /** The secret webhooks are verified with (the sandbox signs with it too). */
  signatureSecret: string;
  /** The default number's provider (Vonage's sandbox in sandbox mode). */
  provider: SmsProvider;
  /** Every configured provider's sender. */
  providers: Map<ProviderName, SmsProvider>;
  /** Our numbers, each on its provider. */
  numbers: NumberRegistry;
  /** The outbox workers (one per provider) as one, or null when started with `{ worker: false }`. */
  outbox: OutboxWorker | null;
  /** Whether this start created the first admin (and its generated password, if it made one up). */
  firstAdmin: FirstAdminResult;
  /**
   * Drains and stops: /healthz answers 503, no new connections or upgrades, in-flight requests
   * finish; after SHUTDOWN_GRACE_MS (at once when nothing is left open) subscriptions end and the
   * remaining connections are closed; then the feeder and outbox stop and the database closes —
   * always, even if a step fails. Idempotent.
   */
  close(): Promise<void>;
  /** One compaction of the event log now (it also runs every EVENTS_COMPACT_INTERVAL_MS). */
  compactEvents(): Promise<number>;
  /** MMS attachments: the store (MEDIA_DIR) and the downloader of inbound ones. */
  media: { store: MediaStore; fetcher: MediaFetcher; signingSecret: string };
}

/**
 * The composition root: core → listen → providers → background jobs → HTTP → ready. Nothing is
 * bound late: the socket is bound first (so every part is built knowing our URL) and requests are
 * handled only once everything is wired (all synchronous after listen, so none arrives in between).
 * Each step lives in wiring/ (core, providers, media, background, http, lifecycle).
 */
export async function createServer(config: Config, options: ServerOptions = {}): Promise<ParleyServer> {
  const core = await openCore(config, options);
  const server = createHttpServer();
  let background: Background | null = null;
  try {
    const url = await listen(server, config);
    const providers: Providers = await wireProviders(core, url, options);
    const jobs = (background = await startBackground(core, providers, outboundMediaLinks(core, url), options));
    const { app, trpc } = buildHttp(core, server, url, providers, jobs, options);
    server.on('request', app);
    return {
      url,
      port: (server.address() as AddressInfo).port,
      config,
      db: core.db,
      events: core.events,
      logger: core.logger,
      signatureSecret: core.signatureSecret,
      provider: providers.main,
      providers: providers.senders,
      numbers: core.numbers,
      outbox: jobs.outbox,
      firstAdmin: core.firstAdmin,
      close: once(() => drainAndClose(core, server, trpc, jobs.jobs, providers)),
      compactEvents: jobs.compactEvents,
      media: { store: core.media.store, fetcher: jobs.fetcher, signingSecret: core.media.signingSecret },
    };
  } catch (err) {
    return failedStart(err, core, server, background?.jobs ?? []);
  }
}
