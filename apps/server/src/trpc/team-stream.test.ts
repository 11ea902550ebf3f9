import { WebSocket as WsWebSocket, type ClientOptions } from 'ws';
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink } from '@trpc/client';
import { afterEach, describe, expect, it } from 'vitest';
import { inboundPayload, startTestServer, type TestServer } from '../testing/harness';
import type { AppRouter } from './root';

/**
 * Disabling an agent ends their OPEN event.stream, not only their next call. The mechanism that ends a
 * subscription once `resolveCredential` answers null is shared with logout/revocation (issue 18).
 */
let s: TestServer | undefined;
afterEach(async () => {
  await s?.dispose();
  s = undefined;
});

async function post(path: string, body: unknown, cookie?: string) {
  const res = await fetch(`${s?.url}/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as { result: { data: unknown } },
    cookie: (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '',
  };
}

function wsWith(headers: Record<string, string>): typeof WebSocket {
  class WithHeaders extends WsWebSocket {
    constructor(url: string, protocols?: string | string[], opts?: ClientOptions) {
      super(url, protocols, { ...opts, headers: { ...opts?.headers, ...headers } });
    }
  }
  return WithHeaders as unknown as typeof WebSocket;
}

describe('disabling an agent', () => {
  it('cuts their open event.stream within a few seconds', async () => {
    s = await startTestServer();
    const base = s.url;
    const admin = (await post('auth.login', { email: 'admin@parley.test', password: 'parley-test-password' })).cookie;
    const inv = (await post('agent.invite', { email: 'ann@x.test', name: 'Ann', role: 'agent' }, admin)).body.result.data as {
      agent: { id: number };
      inviteUrl: string;
    };
    const ann = (
      await post('auth.acceptInvite', { token: new URL(inv.inviteUrl).hash.replace('#token=', ''), password: 'ann-long-password' })
    ).cookie;

    const wsClient = createWSClient({
      url: `${base.replace('http', 'ws')}/trpc`,
      WebSocket: wsWith({ cookie: ann, origin: base }),
      retryDelayMs: () => 50,
    });
    const client = createTRPCClient<AppRouter>({
      links: [
        splitLink({
          condition: (op) => op.type === 'subscription',
          true: wsLink({ client: wsClient }),
          false: httpBatchLink({ url: `${base}/trpc` }),
        }),
      ],
    });
    const received: string[] = [];
    let ended: string | null = null;
    await new Promise<void>((resolve, reject) => {
      client.event.stream.subscribe(
        {},
        {
          onStarted: () => resolve(),
          onData: (t) => received.push((t.data as { type: string }).type),
          onError: (e) => {
            ended = `error: ${e.data?.code ?? e.message}`;
            reject(e);
          },
          onComplete: () => {
            ended ??= 'complete';
          },
          onStopped: () => {
            ended ??= 'stopped';
          },
        },
      );
    });
    expect((await s.postWebhook('/webhooks/inbound', inboundPayload())).status).toBe(200);
    const deadline1 = Date.now() + 5000;
    while (received.length === 0 && Date.now() < deadline1) await new Promise((r) => setTimeout(r, 20));
    expect(received.length).toBeGreaterThan(0);

    expect((await post('agent.setDisabled', { id: inv.agent.id, disabled: true }, admin)).status).toBe(200);
    const deadline = Date.now() + 5000;
    while (ended === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const before = received.length;
    // Whatever happens after disabling, no more events reach the disabled agent.
    expect((await s.postWebhook('/webhooks/inbound', inboundPayload({ from: '447700900002' }))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    const endedByServer = ended;
    const after = received.length;
    await wsClient.close();
    expect(endedByServer, 'the server should have ended the disabled agent’s subscription').not.toBeNull();
    expect(after).toBe(before);
  });
});
