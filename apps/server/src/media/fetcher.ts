/**
 * The media fetcher: a durable job that downloads inbound MMS attachments after their message was
 * committed (webhooks never wait for it). Work lives in the `media` table (state `pending`,
 * `next_attempt_at`), so a restart resumes it. Each download authenticates as the provider's account
 * only when the URL is on that provider's own API origin (never sends credentials elsewhere, nor
 * along a redirect to another origin), stops reading beyond MEDIA_MAX_BYTES, and checks the type by
 * content. Failures retry with doubling delays; a final failure refuses the attachment with a reason
 * and the message stays.
 */
import type { Logger } from 'pino';
import type { ProviderName } from '@parley/shared';
import { detached } from '../db/store';
import type { Db } from '../db/client';
import { isDbBusy } from '../db/client';
import type { EventLog } from '../events/log';
import type { MediaConfig } from '../config';
import { dueMedia, nextMediaDue, recordMediaRetry, settleMedia } from '../domain/media-downloads';
import type { MediaStore } from './store';
import { formatBytes, sniffMedia } from './sniff';

/** Headers that authenticate a download of `url` as the provider's account; {} when the URL is not the provider's. */
export type MediaAuth = (url: URL) => Promise<Record<string, string>> | Record<string, string>;

export interface MediaFetcher {
  start(): void;
  /** Look for due downloads now (after an inbound with media was stored). */
  wake(): void;
  /** Stops the timer, aborts downloads in flight (they stay pending) and waits for them. */
  stop(): Promise<void>;
  /** Resolves once nothing is pending and due within `withinMs` (tests). */
  idle(): Promise<void>;
}

class Permanent extends Error {}

const MAX_REDIRECTS = 3;
const CONCURRENCY = 4;
const MAX_TIMER_MS = 30_000;

/** Downloads `url` into memory, at most `maxBytes`; throws Permanent for what a retry cannot fix. */
export async function download(
  url: string,
  opts: {
    auth?: MediaAuth | undefined;
    maxBytes: number;
    timeoutMs: number;
    signal: AbortSignal;
    guard?: (url: URL) => Promise<string | null>;
  },
): Promise<{ bytes: Uint8Array; contentType: string | null }> {
  let current: URL;
  try {
    current = new URL(url);
  } catch {
    throw new Permanent('the attachment URL is not a URL');
  }
  const origin = current.origin;
  const signal = AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)]);
  for (let hop = 0; ; hop++) {
    if (current.protocol !== 'https:' && current.protocol !== 'http:')
      throw new Permanent(`the attachment URL is ${current.protocol}, not http(s)`);
    // Every hop, redirects included, is checked before it is fetched.
    const refusal = await opts.guard?.(current);
    if (refusal) throw new Permanent(refusal);
    // Credentials go only to the provider's own origin, never along a redirect elsewhere.
    const headers = current.origin === origin && opts.auth ? await opts.auth(current) : {};
    const res = await fetch(current, { headers, redirect: 'manual', signal });
    if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
      await res.body?.cancel();
      if (hop >= MAX_REDIRECTS) throw new Permanent('too many redirects');
      current = new URL(res.headers.get('location') as string, current);
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel();
      const reason = `the provider answered HTTP ${res.status}`;
      if ([400, 404, 410].includes(res.status)) throw new Permanent(reason);
      throw new Error(reason);
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > opts.maxBytes) {
      await res.body?.cancel();
      throw new Permanent(`larger than the ${formatBytes(opts.maxBytes)} limit (${formatBytes(declared)})`);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (res.body) {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > opts.maxBytes) {
          await reader.cancel();
          throw new Permanent(`larger than the ${formatBytes(opts.maxBytes)} limit`);
        }
        chunks.push(value);
      }
    }
    return { bytes: Buffer.concat(chunks), contentType: res.headers.get('content-type') };
  }
}

export function createMediaFetcher(opts: {
  db: Db;
  log: EventLog;
  store: MediaStore;
  logger: Logger;
  config: MediaConfig;
  /** Each provider's download credentials (absent: none). */
  authFor: (provider: ProviderName | null) => MediaAuth | undefined;
  /** Refuses URLs the fetcher must not go to (url-guard.ts); absent: any http(s) URL. */
  guard?: (url: URL) => Promise<string | null>;
  now?: () => number;
}): MediaFetcher {
  const now = opts.now ?? Date.now;
  const { logger } = opts;
  const inFlight = new Map<number, Promise<void>>();
  let abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  let idleWaiters: (() => void)[] = [];

  async function fetchOne(row: Awaited<ReturnType<typeof dueMedia>>[number]): Promise<void> {
    const attempts = row.attempts + 1;
    try {
      if (!row.sourceUrl) throw new Permanent('no URL to download from');
      const { bytes, contentType } = await download(row.sourceUrl, {
        auth: opts.authFor(row.provider),
        maxBytes: opts.config.maxBytes,
        timeoutMs: opts.config.fetchTimeoutMs,
        signal: abort.signal,
        ...(opts.guard ? { guard: opts.guard } : {}),
      });
      if (bytes.byteLength === 0) throw new Permanent('the attachment is empty');
      const sniffed = await sniffMedia(bytes, row.claimedType ?? contentType);
      if (!sniffed.ok) {
        await settleMedia(opts.log, row.id, { state: 'refused', reason: sniffed.reason });
        logger.warn({ mediaId: row.id, reason: sniffed.reason }, 'media: attachment refused');
        return;
      }
      const { key, sha256 } = await opts.store.put(bytes, sniffed.ext);
      await settleMedia(opts.log, row.id, {
        state: 'stored',
        contentType: sniffed.contentType,
        size: bytes.byteLength,
        sha256,
        storageKey: key,
      });
      logger.info({ mediaId: row.id, contentType: sniffed.contentType, size: bytes.byteLength }, 'media: attachment stored');
    } catch (err) {
      if (!running) return; // stopped mid-download: stays pending, resumed at the next start
      if (isDbBusy(err)) {
        await recordLater(row.id, attempts - 1, 'database busy');
        return;
      }
      const message = err instanceof Error ? (err.name === 'TimeoutError' ? 'the download timed out' : err.message) : String(err);
      if (err instanceof Permanent || attempts >= opts.config.fetchMaxAttempts) {
        const reason = err instanceof Permanent ? message : `download failed after ${attempts} attempts: ${message}`;
        await settleMedia(opts.log, row.id, { state: 'refused', reason });
        logger.warn({ mediaId: row.id, reason }, 'media: attachment refused');
        return;
      }
      await recordLater(row.id, attempts, message);
    }
  }

  async function recordLater(id: number, attempts: number, lastError: string): Promise<void> {
    const delay = opts.config.fetchRetryBaseMs * 2 ** Math.max(0, attempts - 1);
    try {
      await recordMediaRetry(opts.db, id, attempts, now() + delay, lastError);
      logger.info({ mediaId: id, attempts, delayMs: delay, reason: lastError }, 'media: download will be retried');
    } catch (err) {
      logger.warn({ err, mediaId: id }, 'media: could not record a retry (tried again at the next pass)');
    }
  }

  async function pass(): Promise<void> {
    if (!running) return;
    clearTimeout(timer);
    try {
      const free = CONCURRENCY - inFlight.size;
      if (free > 0) {
        for (const row of await dueMedia(opts.db, now(), free + inFlight.size)) {
          if (inFlight.has(row.id) || inFlight.size >= CONCURRENCY) continue;
          const task = fetchOne(row)
            .catch((err: unknown) => logger.error({ err, mediaId: row.id }, 'media: download failed unexpectedly'))
            .finally(async () => {
              inFlight.delete(row.id);
              await pass();
            });
          inFlight.set(row.id, task);
        }
      }
      const next = await nextMediaDue(opts.db);
      if (inFlight.size === 0 && (next === null || next > now())) {
        for (const resolve of idleWaiters) resolve();
        idleWaiters = [];
      }
      const wait = next === null ? MAX_TIMER_MS : Math.min(MAX_TIMER_MS, Math.max(50, next - now()));
      timer = setTimeout(() => void pass(), wait);
      timer.unref();
    } catch (err) {
      logger.warn({ err }, 'media: pass failed; tried again shortly');
      timer = setTimeout(() => void pass(), 1000);
      timer.unref();
    }
  }

  /** A new message with pending attachments (after its commit): download now. */
  async function follow(signal: AbortSignal): Promise<void> {
    for await (const event of opts.log.subscribe(null, signal)) {
      if (event.type === 'message.created' && event.payload.message.media.some((m) => m.state === 'pending'))
        setImmediate(() => void pass());
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      abort = new AbortController();
      follow(abort.signal).catch((err: unknown) => {
        if (running) logger.error({ err }, 'media: event follow failed (downloads still run on the timer)');
      });
      setImmediate(() => void pass());
    },
    wake() {
      // Detached: a wake from inside a write must not run the pass in that transaction.
      if (running) detached(() => setImmediate(() => void pass()));
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      abort.abort();
      await Promise.allSettled([...inFlight.values()]);
      for (const resolve of idleWaiters) resolve();
      idleWaiters = [];
    },
    idle() {
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        if (running) setImmediate(() => void pass());
        else resolve();
      });
    },
  };
}
