/**
 * What one provider is to the rest of Parley: a name, the webhook routes it listens on and the
 * sender the outbox drives (a sandbox stand-in in sandbox mode). Each provider's folder exports one
 * `ProviderAdapter`; registry.ts lists them; createServer wires every enabled one the same way.
 */
import type { Router } from 'express';
import type { Logger } from 'pino';
import type { ProviderName } from '@parley/shared';
import type { Config } from '../config';
import type { Db } from '../db/client';
import type { EventLog } from '../events/log';
import type { WebhookLog } from '../domain/webhook-log';
import type { NumberRegistry } from '../numbers';
import type { NonceStore } from '../webhooks/nonces';
import type { WebhookOutcomeListener } from '../webhooks/kit';
import type { WebhookReplay } from '../webhooks/replay';
import type { SmsProvider } from './types';
import type { MediaAuth } from '../media/fetcher';

/** What every provider's webhook router gets from the core. */
export interface WebhookCore {
  db: Db;
  log: EventLog;
  logger: Logger;
  helpText: string;
  maxBodyBytes: number;
  nonces: NonceStore;
  webhookLog: WebhookLog;
  numbers: NumberRegistry;
  autoReplyWindowMs: number;
  /** Agents online now (presence): auto-assignment's candidates. */
  onlineAgentIds: () => readonly number[];
  /** An inbound queued an automatic reply: wake the outbox. */
  onQueued: () => void;
  onOutcome: WebhookOutcomeListener;
}

/** Everything an adapter may read while it is wired (all known: the server already listens). */
export interface ProviderContext {
  config: Config;
  logger: Logger;
  /** Where Parley listens, e.g. http://127.0.0.1:3000 (the sandbox stand-ins post here). */
  url: string;
  /** The base URL providers call and sign: PUBLIC_URL (no trailing slash), our own URL in sandbox mode or without it. */
  publicBase: string;
  /** The secret Vonage webhooks are verified (and the Vonage sandbox signs) with. */
  signatureSecret: string;
  /** A sender given by a test (ServerOptions.providers): used instead of the configured one. */
  given?: SmsProvider | undefined;
  webhooks: WebhookCore;
}

/** A text "from" a phone to one of our numbers (E.164), posted signed to the provider's own inbound route. */
export interface SandboxInbound {
  from: string;
  to: string;
  text: string;
  /** MMS: attachments already hosted (the sandbox's media host), as the provider's payload would name them. */
  media?: { url: string; contentType: string }[];
}

/** One provider as wired: its routes (mounted at `mount`), its sender, and in sandbox mode a way to fake an inbound. */
export interface WiredProvider {
  name: ProviderName;
  mount: string;
  router?: Router;
  /** Absent when the provider only listens (Vonage's routes stay mounted with Vonage off). */
  sender?: SmsProvider;
  simulateInbound?: (input: SandboxInbound) => Promise<void>;
  /** Headers that authenticate a download of an inbound attachment from this provider (its own origin only). */
  mediaAuth?: MediaAuth;
  /** Runs a request kept in webhook_log through the same handler as `router`, with today's secrets (webhooks/replay.ts). */
  replay?: WebhookReplay;
}

export interface ProviderAdapter {
  name: ProviderName;
  /** Whether this configuration wires the provider at all (its routes; its sender when the result has one). */
  wired(config: Config): boolean;
  /** Builds routes and sender; throws (a clear message) when the configuration cannot work. */
  wire(ctx: ProviderContext): Promise<WiredProvider>;
}
