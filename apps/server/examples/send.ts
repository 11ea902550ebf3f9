/**
 * An operator's typed client: send a text through Parley and (with --wait) follow its status live.
 *
 *   PARLEY_URL=http://localhost:3000 PARLEY_TOKEN=pk_… pnpm --filter @parley/server exec tsx examples/send.ts +447700900001 "Hello" --wait
 *
 * Types come from the server (`import type { AppRouter }`): a wrong procedure name or input is a
 * compile error. Plain JSON on the wire, so the same calls work with curl (see the README).
 */
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink } from '@trpc/client';
import WebSocket from 'ws';
import type { AppRouter } from '../src/trpc/root';

const FINAL = new Set(['delivered', 'read', 'rejected', 'undeliverable', 'failed']);

export async function sendText(opts: { url: string; token: string; to: string; text: string; wait: boolean }) {
  const wsClient = opts.wait
    ? createWSClient({
        url: `${opts.url.replace(/^http/, 'ws')}/trpc`,
        WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
        connectionParams: { token: opts.token },
      })
    : null;
  const http = httpBatchLink({ url: `${opts.url}/trpc`, headers: { authorization: `Bearer ${opts.token}` } });
  const client = createTRPCClient<AppRouter>({
    links: [
      wsClient ? splitLink({ condition: (op) => op.type === 'subscription', true: wsLink({ client: wsClient }), false: http }) : http,
    ],
  });
  try {
    if (!wsClient) return { message: await client.message.send.mutate({ to: opts.to, text: opts.text }), statuses: [] };
    // Subscribe first (from the current end of the log), then send: no status can slip past.
    const statuses: string[] = [];
    let messageId: number | null = null;
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const pending: { id: number; status: string }[] = [];
    const onStatus = (id: number, status: string) => {
      if (id !== messageId) return;
      statuses.push(status);
      console.log(`status: ${status}`);
      if (FINAL.has(status) || status === 'interrupted') finish();
    };
    let ready: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (ready = resolve));
    const sub = client.event.stream.subscribe(
      { lastEventId: null },
      {
        onStarted: () => ready(),
        onData: ({ data: event }) => {
          if (event.type !== 'message.status') return;
          const { id, status } = event.payload.message;
          if (messageId === null) pending.push({ id, status });
          else onStatus(id, status);
        },
      },
    );
    await started;
    const message = await client.message.send.mutate({ to: opts.to, text: opts.text });
    messageId = message.id;
    console.log(`queued: message ${message.id} to ${message.to} (${message.segments} segment(s), ${message.encoding})`);
    for (const p of pending.splice(0)) onStatus(p.id, p.status);
    await done;
    sub.unsubscribe();
    return { message, statuses };
  } finally {
    await wsClient?.close();
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (isMain) {
  const args = process.argv.slice(2).filter((a) => a !== '--wait');
  const [to, text] = args;
  const env = process.env;
  if (!to || !text || !env.PARLEY_TOKEN) {
    console.error('usage: PARLEY_URL=… PARLEY_TOKEN=pk_… tsx examples/send.ts <to E.164> <text> [--wait]');
    process.exit(2);
  }
  sendText({ url: env.PARLEY_URL ?? 'http://localhost:3000', token: env.PARLEY_TOKEN, to, text, wait: process.argv.includes('--wait') })
    .then(({ message }) => {
      console.log(JSON.stringify(message));
    })
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
