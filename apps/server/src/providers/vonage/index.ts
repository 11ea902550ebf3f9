/** Vonage (Messages API): Parley's original provider, on the un-prefixed /webhooks/inbound and /webhooks/status. */
import type { ProviderAdapter } from '../adapter';
import { createSandboxProvider, simulateVonageInbound } from './sandbox';
import { createVonageProvider } from './sender';
import { createSignatureVerifier } from './signature';
import { replayCore } from '../../webhooks/replay';
import { vonageWebhookHandler, vonageWebhookRouter } from './webhooks';
import type { Config } from '../../config';
import type { MediaAuth } from '../../media/fetcher';
import { mediaAuthFor } from '../mms';
import { ReusedJwtAuth } from './auth';
import { readVonagePrivateKey } from './sender';

export const vonage: ProviderAdapter = {
  name: 'vonage',
  // Its routes are mounted even with Vonage off (as they always were): signed posts to a number
  // that is not ours are kept in webhook_log and answered not_our_number.
  wired: () => true,
  async wire({ config, logger, url, signatureSecret, given, webhooks }) {
    const sandbox = config.provider === 'sandbox';
    const verifier = createSignatureVerifier({ secret: signatureSecret, maxAgeSeconds: config.webhookMaxAgeSeconds });
    const router = await vonageWebhookRouter({ ...webhooks, verifier });
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
        (
          await vonageWebhookHandler({
            ...replayCore(webhooks, receivedAt),
            verifier: { verify: (auth, raw) => verifier.verify(auth, raw, receivedAt) },
          })
        )(kind, req, body),
      ...(sender ? { sender } : {}),
      ...(sandbox ? { simulateInbound: (input) => simulateVonageInbound(url, signatureSecret, input) } : {}),
      ...vonageMediaAuth(config),
    };
  },
};

function liveSender(config: Parameters<ProviderAdapter['wired']>[0]) {
  const { applicationId, privateKey, apiHost } = config.vonage;
  if (!applicationId || !privateKey) throw new Error('VONAGE_APPLICATION_ID and VONAGE_PRIVATE_KEY are required');
  return createVonageProvider({ applicationId, privateKey, ...(apiHost ? { apiHost } : {}) });
}

/**
 * Vonage's inbound media URLs (api*.nexmo.com / *.vonage.com, or VONAGE_API_HOST) take the application's
 * JWT, as the Messages API does; no other host is sent it.
 */
function vonageMediaAuth(config: Config): { mediaAuth?: MediaAuth } {
  const { applicationId, privateKey, apiHost } = config.vonage;
  if (!applicationId || !privateKey) return {};
  let auth: ReusedJwtAuth | undefined;
  const own = apiHost ? new URL(apiHost).origin : undefined;
  const ours = (url: URL) => url.origin === own || (url.protocol === 'https:' && /(^|\.)(nexmo|vonage)\.com$/.test(url.hostname));
  return {
    mediaAuth: mediaAuthFor(ours, async () => {
      auth ??= new ReusedJwtAuth({ applicationId, privateKey: readVonagePrivateKey(privateKey) });
      return { authorization: await auth.createBearerHeader() };
    }),
  };
}
