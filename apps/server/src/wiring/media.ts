/** MMS wiring: links providers fetch our attachments from, the downloader of theirs, the sandbox's media host. */
import type { Config } from '../config';
import { createMediaFetcher, type MediaFetcher } from '../media/fetcher';
import { signedMediaPath } from '../media/links';
import type { SandboxMediaHost } from '../media/sandbox-host';
import { samplePicture } from '../media/sample';
import { mediaUrlRefusal } from '../media/url-guard';
import { storedMediaOf } from '../domain/media';
import { mmsRefusal } from '../providers/mms';
import type { WiredProvider } from '../providers/adapter';
import type { NumberRegistry } from '../numbers';
import type { SimulateInboundInput } from '../trpc/context';
import type { ProviderName } from '@parley/shared';
import type { Core } from './core';

/** An outbound message's attachments as the provider fetches them. */
export type MediaFor = (messageId: number) => Promise<{ url: string; contentType: string }[]>;

/**
 * Where providers fetch an outbound attachment: a signed, expiring link on PUBLIC_URL live, on our
 * own URL in the sandbox.
 */
export function outboundMediaLinks(core: Core, url: string): MediaFor {
  const { config, db } = core;
  const base = (config.provider === 'sandbox' ? url : (config.publicUrl ?? '')).replace(/\/+$/, '');
  return async (messageId) =>
    (await storedMediaOf(db, messageId)).map((row) => ({
      url: `${base}${signedMediaPath(core.media.signingSecret, row.id, config.media.linkTtlSeconds)}`,
      contentType: row.contentType ?? 'application/octet-stream',
    }));
}

/** Downloads inbound attachments after their message was committed (never in the webhook), with each provider's auth. */
export function startMediaFetcher(core: Core, wired: WiredProvider[]): MediaFetcher {
  const { config } = core;
  const auth = new Map(wired.flatMap((w) => (w.mediaAuth ? [[w.name, w.mediaAuth] as const] : [])));
  const fetcher = createMediaFetcher({
    db: core.db,
    log: core.events,
    store: core.media.store,
    logger: core.logger.child({ component: 'media' }),
    config: config.media,
    authFor: (p) => (p === null ? undefined : auth.get(p)),
    guard: (u) => mediaUrlRefusal(u, { live: config.provider !== 'sandbox' }),
  });
  fetcher.start();
  return fetcher;
}

/** Why an MMS cannot go from `from` to `to` on `provider` (null: it can). */
export function mmsRefusalFor(config: Config) {
  return (provider: ProviderName, from: string, to: string): string | null =>
    config.provider !== 'sandbox' && !config.publicUrl
      ? 'MMS needs PUBLIC_URL: providers fetch the picture from a link Parley serves'
      : mmsRefusal(provider, from, to);
}

/** Sandbox: a simulated text goes through the webhook route of the provider its number is on (else Vonage's). */
export function sandboxInbound(wired: WiredProvider[], numbers: NumberRegistry, host: SandboxMediaHost) {
  return (input: SimulateInboundInput): Promise<void> => {
    const ours = numbers.pick(input.to);
    const via = wired.find((w) => w.name === ours.provider && w.simulateInbound) ?? wired.find((w) => w.name === 'vonage');
    if (!via?.simulateInbound) return Promise.reject(new Error('no sandbox provider can simulate this inbound'));
    // MMS: the files are hosted like a provider's media storage; Parley downloads them from there.
    const media = [
      ...(input.media ?? []).map((m) => ({ url: host.host(Buffer.from(m.base64, 'base64'), m.contentType), contentType: m.contentType })),
      ...(input.sample ? [{ url: host.host(samplePicture(), 'image/png'), contentType: 'image/png' }] : []),
    ];
    return via.simulateInbound({ from: input.from, to: ours.number, text: input.text, ...(media.length > 0 ? { media } : {}) });
  };
}
