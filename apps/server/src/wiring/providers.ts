/** Every enabled provider adapter (providers/registry.ts), wired the same way. */
import type { ProviderName } from '@parley/shared';
import type { Config } from '../config';
import type { SmsProvider } from '../providers/types';
import type { WiredProvider } from '../providers/adapter';
import { PROVIDERS } from '../providers/registry';
import { createNonceStore } from '../webhooks/nonces';
import { createWebhookReplayer, type WebhookReplay, type WebhookReplayer } from '../webhooks/replay';
import type { ServerOptions } from '../server';
import type { Core } from './core';

export interface Providers {
  wired: WiredProvider[];
  /** Every configured provider's sender. */
  senders: Map<ProviderName, SmsProvider>;
  /** The default number's provider (Vonage's sandbox in sandbox mode). */
  main: SmsProvider;
  /** Replays webhook_log through each wired provider's own handler, with today's secrets. */
  replayer: WebhookReplayer;
}

/**
 * Wires every provider this configuration enables, in registry order (a test's given senders replace
 * configured ones).
 */
export async function wireProviders(core: Core, url: string, options: ServerOptions): Promise<Providers> {
  const { config, db, events, logger, presence } = core;
  const publicBase = publicBaseOf(config, url);
  const webhooks = {
    db,
    log: events,
    logger,
    helpText: config.helpText,
    maxBodyBytes: config.webhookMaxBodyBytes,
    nonces: createNonceStore(db),
    webhookLog: core.webhookLog,
    numbers: core.numbers,
    autoReplyWindowMs: config.autoReplyWindowMs,
    onlineAgentIds: () => presence.list().map((p) => p.agentId),
    onQueued: () => core.outboxBell.ring(),
    onOutcome: (path: string, outcome: string) => core.metrics.webhook(path, outcome),
  };
  const wired = await Promise.all(
    PROVIDERS.filter((p) => p.wired(config)).map(
      async (p) =>
        await p.wire({
          config,
          logger,
          url,
          publicBase,
          signatureSecret: core.signatureSecret,
          webhooks,
          given: options.providers?.[p.name] ?? (p.name === 'vonage' ? options.provider : undefined),
        }),
    ),
  );
  const senders = new Map(wired.flatMap((w): [ProviderName, SmsProvider][] => (w.sender ? [[w.name, w.sender]] : [])));
  const main = senders.get(core.numbers.defaultNumber().provider) ?? [...senders.values()][0];
  if (!main) throw new Error('no provider is configured');
  const replayer = createWebhookReplayer({
    db,
    log: events,
    logger: logger.child({ component: 'webhook-replay' }),
    replays: new Map(wired.flatMap((w): [ProviderName, WebhookReplay][] => (w.replay ? [[w.name, w.replay]] : []))),
  });
  return { wired, senders, main, replayer };
}

/**
 * The base URL providers call and sign. Plivo signs the exact URL it called: behind a proxy that is
 * PUBLIC_URL, never Host/protocol as seen here. The sandbox stand-ins post to our own address, so in
 * sandbox mode that is the URL they sign.
 */
function publicBaseOf(config: Config, url: string): string {
  return (config.provider === 'sandbox' ? url : (config.publicUrl ?? url)).replace(/\/+$/, '');
}
