/** Plivo (Message API): form-encoded, V3-signed webhooks at /webhooks/plivo/{inbound,status}. */
import { keptSecret } from '../../secrets';
import type { ProviderAdapter } from '../adapter';
import type { Config } from '../../config';
import type { MediaAuth } from '../../media/fetcher';
import { mediaAuthFor } from '../mms';
import { createPlivoSandbox } from './sandbox';
import { createPlivoProvider } from './sender';
import { replayCore, type WebhookReplay } from '../../webhooks/replay';
import { plivoWebhookHandler, plivoWebhookRouter, type PlivoWebhookOptions } from './webhooks';

export const plivo: ProviderAdapter = {
  name: 'plivo',
  wired: (config) => config.plivo.enabled,
  async wire({ config, logger, url, publicBase, given, webhooks }) {
    // Sandbox (or no PLIVO_AUTH_TOKEN): the stand-in signs with a token generated beside the database.
    const authToken = config.plivo.authToken ?? keptSecret(config, 'plivo-auth-token');
    const options = (core: typeof webhooks): PlivoWebhookOptions => ({
      ...core,
      authToken,
      allowV2: config.plivo.allowV2,
      ...(config.plivo.mainAuthToken ? { mainAuthToken: config.plivo.mainAuthToken } : {}),
      // Plivo signs the exact URL it called: behind a proxy that is PUBLIC_URL, never Host/protocol as seen here.
      publicUrl: () => publicBase,
    });
    const router = await plivoWebhookRouter(options(webhooks));
    const replay: WebhookReplay = async (kind, req, body, receivedAt) =>
      (await plivoWebhookHandler(options(replayCore(webhooks, receivedAt))))(kind, req, body);
    if (given) return { name: 'plivo', mount: '/webhooks/plivo', router, replay, sender: given, ...plivoMediaAuth(config) };
    if (config.provider === 'sandbox') {
      const sandbox = createPlivoSandbox({ baseUrl: () => url, authToken, logger: logger.child({ component: 'sandbox:plivo' }) });
      return {
        name: 'plivo',
        mount: '/webhooks/plivo',
        router,
        replay,
        sender: sandbox,
        simulateInbound: (input) => sandbox.simulateInbound(input),
        ...plivoMediaAuth(config),
      };
    }
    const { authId } = config.plivo;
    if (!authId) throw new Error('PLIVO_AUTH_ID is required for Plivo');
    const sender = createPlivoProvider({
      authId,
      authToken,
      ...(config.plivo.apiUrl ? { apiUrl: config.plivo.apiUrl } : {}),
      statusUrl: (ref) => `${publicBase}/webhooks/plivo/status?ref=${encodeURIComponent(ref)}`,
    });
    return { name: 'plivo', mount: '/webhooks/plivo', router, replay, sender, ...plivoMediaAuth(config) };
  },
};

/** Plivo media URLs (`{api}/v1/Account/{auth_id}/Media/…`) take the account's Basic auth; only on Plivo's API origin. */
function plivoMediaAuth(config: Config): { mediaAuth?: MediaAuth } {
  const { authId, authToken } = config.plivo;
  if (!authId || !authToken) return {};
  const origin = new URL(config.plivo.apiUrl ?? 'https://api.plivo.com').origin;
  const basic = `Basic ${Buffer.from(`${authId}:${authToken}`).toString('base64')}`;
  return { mediaAuth: mediaAuthFor([origin], () => ({ authorization: basic })) };
}
