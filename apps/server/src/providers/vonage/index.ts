/** Vonage (Messages API): Parley's original provider, on the un-prefixed /webhooks/inbound and /webhooks/status. */
import type { ProviderAdapter } from '../adapter';
import { createSandboxProvider, simulateVonageInbound } from './sandbox';
import { createVonageProvider } from './sender';
import { createSignatureVerifier } from './signature';
import { replayCore } from '../../webhooks/replay';
import { vonageWebhookHandler, vonageWebhookRouter } from './webhooks';

export const vonage: ProviderAdapter = {
  name: 'vonage',
  // Its routes are mounted even with Vonage off (as they always were): signed posts to a number
  // that is not ours are kept in webhook_log and answered not_our_number.
  wired: () => true,
  wire({ config, logger, url, signatureSecret, given, webhooks }) {
    const sandbox = config.provider === 'sandbox';
    const verifier = createSignatureVerifier({ secret: signatureSecret, maxAgeSeconds: config.webhookMaxAgeSeconds });
    const router = vonageWebhookRouter({ ...webhooks, verifier });
    const sender = !config.vonage.enabled
      ? undefined
      : (given ??
        (sandbox
          ? createSandboxProvider({ statusUrl: `${url}/webhooks/status`, signatureSecret, logger: logger.child({ component: 'sandbox' }) })
          : liveSender(config)));
    return {
      name: 'vonage',
      mount: '/webhooks',
      router,
      replay: async (kind, req, body, receivedAt) =>
        vonageWebhookHandler({ ...replayCore(webhooks, receivedAt), verifier: { verify: (auth, raw) => verifier.verify(auth, raw, receivedAt) } })(kind, req, body),
      ...(sender ? { sender } : {}),
      ...(sandbox ? { simulateInbound: (input) => simulateVonageInbound(url, signatureSecret, input) } : {}),
    };
  },
};

function liveSender(config: Parameters<ProviderAdapter['wired']>[0]) {
  const { applicationId, privateKey, apiHost } = config.vonage;
  if (!applicationId || !privateKey) throw new Error('VONAGE_APPLICATION_ID and VONAGE_PRIVATE_KEY are required');
  return createVonageProvider({ applicationId, privateKey, ...(apiHost ? { apiHost } : {}) });
}
