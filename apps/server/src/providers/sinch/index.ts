/** Sinch (SMS REST API, xms): JSON callbacks, HMAC-signed when enabled, at /webhooks/sinch/{inbound,status}. */
import { keptSecret } from '../../secrets';
import type { ProviderAdapter } from '../adapter';
import { createSinchSandbox } from './sandbox';
import { createSinchProvider } from './sender';
import { replayCore, type WebhookReplay } from '../../webhooks/replay';
import { sinchWebhookHandler, sinchWebhookRouter } from './webhooks';

export const sinch: ProviderAdapter = {
  name: 'sinch',
  wired: (config) => config.sinch.enabled,
  wire({ config, logger, url, publicBase, given, webhooks }) {
    const sandbox = config.provider === 'sandbox';
    // Sandbox: the stand-in signs with a secret generated beside the database, verified by the real route.
    const webhookSecret = config.sinch.webhookSecret ?? (sandbox ? keptSecret(config, 'sinch-webhook-secret') : undefined);
    if (webhookSecret === undefined) {
      logger.warn('Sinch callbacks are unauthenticated: ask Sinch to enable HMAC signing and set SINCH_WEBHOOK_SECRET (README)');
    }
    const router = sinchWebhookRouter({ ...webhooks, ...(webhookSecret ? { webhookSecret } : {}) });
    const replay: WebhookReplay = async (kind, req, body, receivedAt) =>
      sinchWebhookHandler({ ...replayCore(webhooks, receivedAt), ...(webhookSecret ? { webhookSecret } : {}), now: () => receivedAt })(kind, req, body);
    if (given) return { name: 'sinch', mount: '/webhooks/sinch', router, replay, sender: given };
    if (sandbox && webhookSecret !== undefined) {
      const stand = createSinchSandbox({ baseUrl: () => url, webhookSecret, logger: logger.child({ component: 'sandbox:sinch' }) });
      return { name: 'sinch', mount: '/webhooks/sinch', router, replay, sender: stand, simulateInbound: (input) => stand.simulateInbound(input) };
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
    return { name: 'sinch', mount: '/webhooks/sinch', router, replay, sender };
  },
};
