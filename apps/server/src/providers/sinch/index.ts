/** Sinch (SMS REST API, xms): JSON callbacks, HMAC-signed when enabled, at /webhooks/sinch/{inbound,status}. */
import { keptSecret } from '../../secrets';
import type { ProviderAdapter } from '../adapter';
import type { Config } from '../../config';
import type { MediaAuth } from '../../media/fetcher';
import { mediaAuthFor } from '../mms';
import { createSinchSandbox } from './sandbox';
import { createSinchProvider, sinchApiUrl } from './sender';
import { replayCore, type WebhookReplay } from '../../webhooks/replay';
import { sinchWebhookHandler, sinchWebhookRouter } from './webhooks';

export const sinch: ProviderAdapter = {
  name: 'sinch',
  wired: (config) => config.sinch.enabled,
  async wire({ config, logger, url, publicBase, given, webhooks }) {
    const sandbox = config.provider === 'sandbox';
    // Sandbox: the stand-in signs with a secret generated beside the database, verified by the real route.
    const webhookSecret = config.sinch.webhookSecret ?? (sandbox ? keptSecret(config, 'sinch-webhook-secret') : undefined);
    if (webhookSecret === undefined) {
      logger.warn('Sinch callbacks are unauthenticated: ask Sinch to enable HMAC signing and set SINCH_WEBHOOK_SECRET (README)');
    }
    const router = await sinchWebhookRouter({ ...webhooks, ...(webhookSecret ? { webhookSecret } : {}) });
    const replay: WebhookReplay = async (kind, req, body, receivedAt) =>
      (
        await sinchWebhookHandler({
          ...replayCore(webhooks, receivedAt),
          ...(webhookSecret ? { webhookSecret } : {}),
          now: () => receivedAt,
        })
      )(kind, req, body);
    if (given) return { name: 'sinch', mount: '/webhooks/sinch', router, replay, sender: given, ...sinchMediaAuth(config) };
    if (sandbox && webhookSecret !== undefined) {
      const stand = createSinchSandbox({ baseUrl: () => url, webhookSecret, logger: logger.child({ component: 'sandbox:sinch' }) });
      return {
        name: 'sinch',
        mount: '/webhooks/sinch',
        router,
        replay,
        sender: stand,
        simulateInbound: (input) => stand.simulateInbound(input),
        ...sinchMediaAuth(config),
      };
    }
    const { servicePlanId, apiToken } = config.sinch;
    if (!servicePlanId || !apiToken) throw new Error('SINCH_SERVICE_PLAN_ID and SINCH_API_TOKEN are required for Sinch');
    // With HMAC signing on, Sinch only calls the dashboard's callback URL; without it we name ours per batch.
    const callbackUrl = webhookSecret === undefined && config.publicUrl ? `${publicBase}/webhooks/sinch/status` : undefined;
    const sender = createSinchProvider({
      servicePlanId,
      apiToken,
      region: config.sinch.region,
      ...(config.sinch.apiUrl ? { apiUrl: config.sinch.apiUrl } : {}),
      ...(callbackUrl ? { callbackUrl } : {}),
    });
    return { name: 'sinch', mount: '/webhooks/sinch', router, replay, sender, ...sinchMediaAuth(config) };
  },
};

/** Sinch's media links take the service plan's bearer token when they are on its SMS API origin (never elsewhere). */
function sinchMediaAuth(config: Config): { mediaAuth?: MediaAuth } {
  const { apiToken } = config.sinch;
  if (!apiToken) return {};
  let origin: string;
  try {
    origin = new URL(sinchApiUrl(config.sinch.region, config.sinch.apiUrl)).origin;
  } catch {
    return {};
  }
  return { mediaAuth: mediaAuthFor([origin], () => ({ authorization: `Bearer ${apiToken.trim()}` })) };
}
