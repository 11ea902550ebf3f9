/**
 * The servers the benches compare, one per process (started by spawnTarget):
 * - parley: the real server, createServer(testConfig(...)), verifying every signature. `withoutFts`
 *   drops the full-text index's insert trigger first (the FTS write-cost comparison; search is then
 *   stale, nothing else changes).
 * - baseline: bare node:http that reads the body, JSON.parses it and does one prepared
 *   better-sqlite3 insert per request (WAL, synchronous=NORMAL, like openDb), then answers 200.
 * - express: the tutorials' handler — `express.json()`, one log line (pino), 200; nothing durable,
 *   no signature check.
 * - parley with `seedOutbound` (bench/receipts.ts): first n sent messages (status submitted, each with
 *   its provider uuid, receiptUuid(i)) across SEED_CONVERSATIONS conversations, as a campaign leaves them.
 * - baseline-receipts: bare node:http + one prepared update by provider uuid (the same n rows, indexed).
 * - push (bench/latency.ts): the baseline as above, and after its insert it sends the request's body,
 *   as is, to every WebSocket client of `ws` on /push — the least a live view over HTTP and a socket costs.
 * - parley-pg, baseline-pg, push-pg (bench/pg.ts): the same on PostgreSQL; push-pg hands the body from
 *   process to process through NOTIFY, as Parley's instances do.
 */
import { mkdirSync } from 'node:fs';
import { createServer as createHttpServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import express from 'express';
import pg from 'pg';
import pino from 'pino';
import { WebSocketServer } from 'ws';
import { testConfig } from '../src/config';
import { createServer } from '../src/server';
import { FTS_INSERT_TRIGGER } from './fts';
import { receiptUuid } from './receipts';
import { serveTarget, type RunningTarget } from './target';

export type WebhooksTargetArgs =
  | { kind: 'parley'; databasePath: string; signatureSecret: string; withoutFts?: boolean; seedOutbound?: number }
  | { kind: 'baseline'; databasePath: string }
  | { kind: 'baseline-receipts'; databasePath: string; seedOutbound: number }
  | { kind: 'push'; databasePath: string }
  | { kind: 'express' }
  | { kind: 'parley-pg'; databaseUrl: string; signatureSecret: string; mediaDir: string }
  | { kind: 'baseline-pg'; databaseUrl: string }
  | { kind: 'push-pg'; databaseUrl: string };

const SEED_CONVERSATIONS = 200;
/** What seeded messages are sent from: the harness's inbound `to` (statusPayload's `from`). */
const SEED_FROM = '+447700900000';

/** `n` outbound messages as the outbox leaves them once the provider took them: submitted, with their uuids. */
function seedOutbound(db: Database.Database, n: number): void {
  const now = Date.now();
  db.transaction(() => {
    const contact = db.prepare('insert into contacts (phone, created_at) values (?, ?)');
    const conversation = db.prepare("insert into conversations (contact_id, our_number, provider, created_at) values (?, ?, 'vonage', ?)");
    for (let c = 1; c <= SEED_CONVERSATIONS; c++) {
      const { lastInsertRowid } = contact.run(`+4477009${String(20_000 + c).padStart(5, '0')}`, now);
      conversation.run(lastInsertRowid, SEED_FROM, now);
    }
    const message = db.prepare(
      `insert into messages (conversation_id, direction, provider_message_uuid, "from", "to", text, encoding, segments, status, status_at, created_at)
       select c.id, 'out', ?, ?, k.phone, ?, 'gsm7', 1, 'submitted', ?, ? from conversations c join contacts k on k.id = c.contact_id where c.id = ?`,
    );
    for (let i = 0; i < n; i++)
      message.run(receiptUuid(i), SEED_FROM, `Your order ${i} is on its way`, now, now, (i % SEED_CONVERSATIONS) + 1);
  })();
}

async function startParley(databasePath: string, signatureSecret: string, withoutFts: boolean, seed = 0): Promise<RunningTarget> {
  const base = testConfig({ databasePath, logLevel: 'silent', port: 0, host: '127.0.0.1' });
  const server = await createServer({ ...base, vonage: { ...base.vonage, signatureSecret } });
  if (seed > 0) seedOutbound(server.db.$client, seed);
  if (withoutFts) {
    const found = server.db.$client.prepare(`select 1 from sqlite_master where type = 'trigger' and name = ?`).get(FTS_INSERT_TRIGGER);
    if (!found) {
      await server.close();
      throw new Error(`no trigger ${FTS_INSERT_TRIGGER}: the FTS comparison in bench/webhooks.ts needs updating`);
    }
    server.db.$client.exec(`drop trigger ${FTS_INSERT_TRIGGER}`);
  }
  return { url: server.url, close: () => server.close() };
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : String(v ?? '');
}

/**
 * The baselines' server: bare node:http that reads the body and JSON.parses it (400 when it is not
 * JSON), then hands both to `handle`, which answers; with `push`, a `ws` server on /push as well.
 */
async function bodyServer(
  handle: (json: Record<string, unknown>, body: string, res: ServerResponse) => void,
  opts: { push?: boolean; onClose?: () => Promise<void> | void } = {},
): Promise<RunningTarget & { sockets: WebSocketServer | null }> {
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(body) as Record<string, unknown>;
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid json"}');
        return;
      }
      handle(json, body, res);
    });
  });
  const sockets = opts.push ? new WebSocketServer({ server, path: '/push' }) : null;
  const target = await listening(
    server,
    async () => {
      for (const client of sockets?.clients ?? []) client.terminate();
      sockets?.close();
    },
    opts.onClose,
  );
  return { ...target, sockets };
}

/** Listens on a loopback port; `close` runs `beforeClose`, closes the server (idle keep-alive sockets too), then `afterClose`. */
async function listening(
  server: Server,
  beforeClose?: () => Promise<void> | void,
  afterClose?: () => Promise<void> | void,
): Promise<RunningTarget> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await beforeClose?.();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await afterClose?.();
    },
  };
}

const ok = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');

async function startBaseline(databasePath: string, push = false): Promise<RunningTarget> {
  mkdirSync(dirname(databasePath), { recursive: true });
  const db = new Database(databasePath);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`create table if not exists inbound (
    id integer primary key autoincrement,
    message_uuid text not null,
    sender text not null,
    recipient text not null,
    body text not null,
    received_at integer not null
  )`);
  const insert = db.prepare('insert into inbound (message_uuid, sender, recipient, body, received_at) values (?, ?, ?, ?, ?)');
  const target = await bodyServer(
    (json, body, res) => {
      insert.run(text(json.message_uuid), text(json.from), text(json.to), text(json.text), Date.now());
      ok(res);
      if (target.sockets) for (const client of target.sockets.clients) client.send(body);
    },
    { push, onClose: () => void db.close() },
  );
  return target;
}

/**
 * bare node:http + one prepared update of a seeded row by its provider uuid per receipt, then 200.
 * It is sent the receipts over and over (it outruns any pool worth signing): each update counts itself.
 */
async function startReceiptsBaseline(databasePath: string, n: number): Promise<RunningTarget> {
  mkdirSync(dirname(databasePath), { recursive: true });
  const db = new Database(databasePath);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    `create table outbound (id integer primary key, uuid text not null unique, status text not null, status_at integer not null, updates integer not null default 0)`,
  );
  const seed = db.prepare("insert into outbound (uuid, status, status_at) values (?, 'submitted', ?)");
  db.transaction(() => {
    for (let i = 0; i < n; i++) seed.run(receiptUuid(i), Date.now());
  })();
  const update = db.prepare('update outbound set status = ?, status_at = ?, updates = updates + 1 where uuid = ?');
  return await bodyServer(
    (json, _body, res) => {
      update.run(text(json.status), Date.now(), text(json.message_uuid));
      ok(res);
    },
    { onClose: () => void db.close() },
  );
}

/** Parley on PostgreSQL (DATABASE_URL=postgres://…), as every instance of several runs. */
async function startParleyPg(databaseUrl: string, signatureSecret: string, mediaDir: string): Promise<RunningTarget> {
  const base = testConfig({ databasePath: '', databaseUrl, logLevel: 'silent', port: 0, host: '127.0.0.1' });
  const server = await createServer({ ...base, vonage: { ...base.vonage, signatureSecret }, media: { ...base.media, dir: mediaDir } });
  return { url: server.url, close: () => server.close() };
}

const PUSH_CHANNEL = 'bench_push';

/**
 * bare node:http + one `pg` insert per request (a pool of 10), then 200: the PostgreSQL baseline.
 * With `push` (bench/pg.ts's latency across instances), the insert also NOTIFYs the body, and every
 * process of this kind LISTENs and sends what it hears to its `ws` clients on /push: HTTP on one
 * process, a durable write, PostgreSQL's delivery to another process, a socket.
 */
async function startBaselinePg(databaseUrl: string, push = false): Promise<RunningTarget> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  await pool.query(`create table if not exists inbound (
    id bigserial primary key, message_uuid text not null, sender text not null, recipient text not null,
    body text not null, received_at bigint not null)`);
  const insert = 'insert into inbound (message_uuid, sender, recipient, body, received_at) values ($1, $2, $3, $4, $5)';
  const statement = push ? `with stored as (${insert} returning id) select pg_notify('${PUSH_CHANNEL}', $6) from stored` : insert;
  const listener = push ? new pg.Client({ connectionString: databaseUrl }) : null;
  const target = await bodyServer(
    (json, body, res) => {
      const values = [text(json.message_uuid), text(json.from), text(json.to), text(json.text), Date.now()];
      pool.query(statement, push ? [...values, body] : values).then(
        () => ok(res),
        () => res.writeHead(500).end(),
      );
    },
    {
      push,
      onClose: async () => {
        await listener?.end();
        await pool.end();
      },
    },
  );
  if (listener) {
    await listener.connect();
    listener.on('notification', (n) => {
      for (const client of target.sockets?.clients ?? []) client.send(n.payload ?? '');
    });
    await listener.query(`LISTEN ${PUSH_CHANNEL}`);
  }
  return target;
}

/** The seed's handler, as every tutorial writes it: parse JSON, log the message, answer 200. */
async function startExpress(): Promise<RunningTarget> {
  // A real log line, written where it costs a write but nothing more (not a terminal).
  const logger = pino(pino.destination({ dest: '/dev/null', sync: false }));
  const app = express();
  app.use(express.json());
  app.post('/webhooks/inbound', (req, res) => {
    const body = req.body as { from?: string; text?: string };
    logger.info({ from: body.from, text: body.text }, 'inbound message');
    res.status(200).end();
  });
  return await listening(createHttpServer(app));
}

await serveTarget<WebhooksTargetArgs>((args) => {
  switch (args.kind) {
    case 'parley':
      return startParley(args.databasePath, args.signatureSecret, args.withoutFts ?? false, args.seedOutbound);
    case 'baseline':
      return startBaseline(args.databasePath);
    case 'baseline-receipts':
      return startReceiptsBaseline(args.databasePath, args.seedOutbound);
    case 'push':
      return startBaseline(args.databasePath, true);
    case 'express':
      return startExpress();
    case 'parley-pg':
      return startParleyPg(args.databaseUrl, args.signatureSecret, args.mediaDir);
    case 'baseline-pg':
      return startBaselinePg(args.databaseUrl);
    case 'push-pg':
      return startBaselinePg(args.databaseUrl, true);
  }
});
