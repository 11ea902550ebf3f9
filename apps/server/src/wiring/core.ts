/**
 * The core every other part is built on: log, database, event log, credentials, presence, our
 * numbers, the webhook refusal log, secrets, the first admin and the media store. Opened first by
 * createServer; `stop` closes what it opened (last, after every part built on it has stopped).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { configuredNumbers, type Config } from '../config';
import { openDb, type Db } from '../db/client';
import { createCredentialWatch, type CredentialWatch } from '../auth/credential-watch';
import { ensureFirstAdmin, type FirstAdminResult } from '../auth/bootstrap';
import { EventLog } from '../events/log';
import { createMetrics, type Metrics } from '../http/metrics';
import { createLogger } from '../logger';
import { keptSecret, loadKeptSecrets, resolveSignatureSecret } from '../secrets';
import { openPgStoreDb } from '../db/pg/client';
import { PgStore, PRESENCE_CHANNEL } from '../db/pg/pg-store';
import { createWebhookLog, type WebhookLog } from '../domain/webhook-log';
import { PresenceHub } from '../presence/hub';
import { createNumberRegistry, type NumberRegistry } from '../numbers';
import { createMediaStore, resolveMediaDir, type MediaStore } from '../media/store';
import type { ServerOptions } from '../server';

export interface Core {
  config: Config;
  logger: Logger;
  db: Db;
  events: EventLog;
  credentials: CredentialWatch;
  presence: PresenceHub;
  metrics: Metrics;
  /** Aborted when the drain's grace is over: open streams end. */
  shutdown: AbortController;
  /** Whether close() has begun (/healthz answers 503, new connections are told to close). */
  draining: { now: boolean };
  /** The clock (epoch ms) for due times: snoozes, scheduled sends, campaigns, retention. */
  clock: () => number;
  numbers: NumberRegistry;
  /**
   * Rung when something queued a send (an inbound's automatic reply, a scheduled send that came due);
   * the outbox answers it once it runs. Parts built before the outbox ring it instead of holding it.
   */
  outboxBell: Bell;
  /**
   * PostgreSQL: rung with a job's name when any instance asked the lease holder's job to look again
   * (NOTIFY on WAKE_CHANNEL), with null after the listening connection was lost (a wake may be lost).
   */
  wakes: Bell<string | null>;
  /** One bounded refusal log for every webhook route (per-source rate, size caps and retention shared). */
  webhookLog: WebhookLog;
  /** The secret Vonage webhooks are verified with (the sandbox signs with it too). */
  signatureSecret: string;
  firstAdmin: FirstAdminResult;
  media: { store: MediaStore; signingSecret: string };
  /** Closes what the core opened (credentials, presence, event log, database). */
  stop(): Promise<void>;
}

/** A doorbell: `ring` calls whoever `answer`ed it (nobody yet: nothing happens). */
export class Bell<T = void> {
  private readonly listeners: ((value: T) => void)[] = [];
  ring(value: T): void {
    for (const listener of this.listeners) listener(value);
  }
  answer(listener: (value: T) => void): void {
    this.listeners.push(listener);
  }
}

/**
 * PostgreSQL: every instance's subscribers hear every committed event. The log reads the table after
 * its last published id when poked: after each local commit, on each NOTIFY from another instance, and
 * once a second (a NOTIFY lost to a reconnect is then late, never missed). Wakes for the lease
 * holder's jobs come on a channel of their own, so an append wakes no job that did not ask for it.
 */
async function tailPgEvents(
  store: PgStore,
  events: EventLog,
  wakes: Bell<string | null>,
  onPresence: (payload: string) => void,
): Promise<() => Promise<void>> {
  await events.startTail();
  const unlisten = await store.listen({ onAppended: () => events.poke(), onWake: (job) => wakes.ring(job), onPresence });
  const poll = setInterval(() => events.poke(), 1000);
  poll.unref();
  return async () => {
    clearInterval(poll);
    await unlisten();
  };
}

const relayed = z.object({
  from: z.string(),
  change: z.discriminatedUnion('op', [
    z.object({
      op: z.literal('update'),
      entry: z.object({ agentId: z.number().int(), name: z.string(), conversationId: z.number().int().nullable(), typing: z.boolean() }),
    }),
    z.object({ op: z.literal('remove'), agentId: z.number().int() }),
  ]),
});

/** Another instance's presence change (its NOTIFY): applied here; this instance's own come back too and are skipped. */
function relayedPresence(payload: string, instance: string, presence: PresenceHub): void {
  let parsed: z.infer<typeof relayed>;
  try {
    parsed = relayed.parse(JSON.parse(payload));
  } catch {
    return;
  }
  if (parsed.from !== instance) presence.apply(parsed.change);
}

export async function openCore(config: Config, options: ServerOptions): Promise<Core> {
  const logger = createLogger(config.logLevel, options.logDestination);
  const db = config.databaseUrl
    ? await openPgStoreDb(config.databaseUrl, { suppressionSecret: config.suppressionSecret, poolSize: config.pgPoolSize })
    : openDb(config.databasePath, { busyTimeoutMs: config.live.dbBusyTimeoutMs, suppressionSecret: config.suppressionSecret });
  const events = new EventLog(db);
  const credentials = createCredentialWatch({ intervalMs: config.live.credentialRecheckMs });
  const pgStore = db.$store instanceof PgStore ? db.$store : null;
  const instance = randomUUID();
  const presence = new PresenceHub({
    ttlMs: config.presenceTtlMs,
    relay: pgStore ? (change) => pgStore.notify(PRESENCE_CHANNEL, JSON.stringify({ from: instance, change })) : undefined,
  });
  let stopTail = async (): Promise<void> => {};
  const wakes = new Bell<string | null>();
  const stop = async () => {
    credentials.close();
    presence.close();
    await stopTail();
    await events.close();
    await db.$store.close();
  };
  try {
    if (pgStore) stopTail = await tailPgEvents(pgStore, events, wakes, (payload) => relayedPresence(payload, instance, presence));
    await loadKeptSecrets(config, db);
    return {
      config,
      logger,
      db,
      events,
      credentials,
      presence,
      metrics: createMetrics(),
      shutdown: new AbortController(),
      draining: { now: false },
      clock: options.now ?? Date.now,
      numbers: createNumberRegistry(configuredNumbers(config)),
      outboxBell: new Bell(),
      wakes,
      webhookLog: await createWebhookLog(db, config.webhookLog),
      signatureSecret: resolveSignatureSecret(config),
      firstAdmin: await ensureFirstAdmin({ db, config, logger }),
      media: {
        store: createMediaStore(resolveMediaDir(config)),
        signingSecret: config.media.signingSecret ?? keptSecret(config, 'media-signing-secret'),
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
