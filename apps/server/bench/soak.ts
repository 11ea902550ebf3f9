/**
 * Memory soak (issue 17: RSS flat, no growth beyond +50 MB, over 5 minutes at 500 webhooks/s).
 * Parley runs in its own process (bench/target.ts); this process drives it open loop at RATE signed
 * Vonage webhooks a second — half inbound texts from a rotating set of senders, half delivery receipts
 * for outbound messages seeded beforehand — with one live `event.stream` subscriber over WebSocket,
 * and samples the server's resident set size (VmRSS, /proc/<pid>/status) and its V8 heap (/metrics,
 * prom-client's nodejs_heap_size_used_bytes) every SAMPLE_MS.
 *
 * The first WARMUP_S seconds (JIT, SQLite page cache filling, connection pool) are left out of the
 * judgement; growth is the mean RSS of the last quarter of the samples after it minus that of the first
 * quarter (RSS is a GC sawtooth tens of MB high), with min/max/last printed beside it.
 *
 * SOAK_SECONDS (default 300) shortens or lengthens the run; for diagnosis SOAK_MIX=inbound|status sends
 * only one kind and SOAK_SUBSCRIBER=0 leaves the subscriber out (the goal line is judged either way). A slot whose request would push the number
 * in flight past MAX_IN_FLIGHT is skipped and counted (the server falling behind), so the run ends on
 * time and the achieved rate is printed next to the target.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { testConfig } from '../src/config';
import { openDb } from '../src/db/client';
import { signVonageWebhook } from '../src/providers/vonage/sign';
import { inboundPayload, statusPayload } from '../src/testing/harness';
import { keepAliveAgent, post, procCpuMs, procRssBytes, trpcSubscriber, type Signed } from './live-client';
import { spawnTarget } from './target';
import type { Benchmark } from './types';
import type { WebhooksTargetArgs } from './webhooks-target';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
const RATE = 500;
const GOAL_GROWTH_MB = 50;
const SAMPLE_MS = 5_000;
const WARMUP_S = Math.min(30, Math.max(5, Math.round(SECONDS / 10)));
const MAX_SOCKETS = 256;
const MAX_IN_FLIGHT = 2 * MAX_SOCKETS;
/** Inbound senders cycled through (each a contact and a conversation). */
const SENDERS = 5_000;
/** What the soak sends (diagnosis): both kinds alternated (default), or only one of them. */
const MIX = (process.env.SOAK_MIX ?? 'mixed') as 'mixed' | 'inbound' | 'status';
/** SOAK_SUBSCRIBER=0 runs without the live subscriber (diagnosis). */
const WITH_SUBSCRIBER = process.env.SOAK_SUBSCRIBER !== '0';
const TARGET_ENTRY = new URL('./webhooks-target.ts', import.meta.url);
const MB = 1024 * 1024;

export const soakBenchmark: Benchmark = {
  name: 'soak',
  description: `memory soak: Parley's RSS over ${SECONDS} s at ${RATE} webhooks/s (inbound + delivery receipts, open loop) with one live event.stream subscriber`,
  run,
};

interface Sample {
  atS: number;
  rss: number;
  heapUsed: number | null;
  sent: number;
  done: number;
}

async function run(): Promise<void> {
  if (!Number.isFinite(SECONDS) || SECONDS < 10) throw new Error('SOAK_SECONDS must be a number ≥ 10');
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-soak-'));
  const databasePath = join(dir, 'parley.db');
  try {
    const secret = randomBytes(32).toString('hex');
    const total = RATE * SECONDS;
    if (!['mixed', 'inbound', 'status'].includes(MIX)) throw new Error(`SOAK_MIX=${MIX}: mixed, inbound or status`);
    const receipts = MIX === 'inbound' ? 0 : MIX === 'status' ? total : Math.ceil(total / 2);
    const seedStarted = performance.now();
    const outbound = seedOutbound(databasePath, receipts);
    const seedS = (performance.now() - seedStarted) / 1000;

    const target = await spawnTarget(TARGET_ENTRY, { kind: 'parley', databasePath, signatureSecret: secret } satisfies WebhooksTargetArgs);
    const agent = keepAliveAgent(MAX_SOCKETS);
    let events = 0;
    let inboundEvents = 0;
    const subscriber = WITH_SUBSCRIBER
      ? await trpcSubscriber(target, (uuid) => {
          events += 1;
          if (uuid !== '') inboundEvents += 1;
        })
      : null;
    const url = new URL(target.url);
    const samples: Sample[] = [];
    const statuses = new Map<number, number>();
    let errors = 0;
    const errorSamples: string[] = [];
    let sent = 0;
    let done = 0;
    let skipped = 0;
    try {
      // Every request signed ahead (the generator then only sends): slot i is an inbound text or a receipt.
      const signStarted = performance.now();
      const signed: (Signed | undefined)[] = [];
      for (let from = 0; from < total; from += 500)
        signed.push(
          ...(await Promise.all(Array.from({ length: Math.min(500, total - from) }, (_, j) => signOne(from + j, secret, outbound)))),
        );
      const signS = (performance.now() - signStarted) / 1000;

      const cpuBefore = procCpuMs(target.pid);
      const start = performance.now() + 20;
      const sample = async () => {
        samples.push({
          atS: (performance.now() - start) / 1000,
          rss: procRssBytes(target.pid),
          heapUsed: await heapUsed(target.url),
          sent,
          done,
        });
      };
      await sample();
      let nextSample = start + SAMPLE_MS;
      const interval = 1000 / RATE;
      for (let i = 0; i < total;) {
        const now = performance.now();
        while (i < total && start + i * interval <= now) {
          const req = signed[i];
          signed[i] = undefined;
          if (!req) {
            throw new Error(`no signed request for slot ${i}`);
          } else if (sent - done >= MAX_IN_FLIGHT) {
            skipped += 1;
          } else {
            sent += 1;
            post(agent, url, req, () => undefined).then(
              (code) => {
                done += 1;
                statuses.set(code, (statuses.get(code) ?? 0) + 1);
              },
              (err: unknown) => {
                done += 1;
                errors += 1;
                if (errorSamples.length < 3) errorSamples.push(err instanceof Error ? err.message : String(err));
              },
            );
          }
          i += 1;
        }
        if (performance.now() >= nextSample) {
          nextSample += SAMPLE_MS;
          await sample();
        }
        if (i < total) await sleep(Math.max(0, start + i * interval - performance.now()));
      }
      const deadline = performance.now() + 30_000;
      while (done < sent && performance.now() < deadline) await sleep(10);
      const wallS = (performance.now() - start) / 1000;
      const cpuShare = (procCpuMs(target.pid) - cpuBefore) / 1000 / wallS;
      await sample();
      const outcomes = await webhookOutcomes(target.url);
      report({ samples, sent, done, skipped, signS, errors, statuses, events, inboundEvents, wallS, cpuShare, seedS, receipts, outcomes });
      if (subscriber && subscriber.interruptions() > 0)
        console.log(`  note: the subscriber's stream was interrupted ${subscriber.interruptions()}×`);
      const bad = [...statuses].filter(([code]) => code < 200 || code >= 300);
      if (errors > 0 || bad.length > 0 || done < sent)
        throw new Error(
          `soak: ${errors} request errors, ${sent - done} unanswered, non-2xx ${bad.map(([c, n]) => `${n}× ${c}`).join(', ') || 'none'}; e.g. ${errorSamples.join(' | ') || '–'}`,
        );
    } finally {
      await subscriber?.close().catch(() => undefined);
      agent.destroy();
      await target.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Outbound messages the receipts report on (status 'submitted', a provider uuid each), written in one
 * transaction before the server starts: what a busy day of sends leaves behind.
 */
function seedOutbound(databasePath: string, n: number): string[] {
  const db = openDb(databasePath);
  const ours = testConfig({ databasePath }).vonage.number;
  const uuids = Array.from({ length: n }, () => randomUUID());
  try {
    const now = Date.now();
    db.$client.transaction(() => {
      db.$client
        .prepare(
          `with recursive seq(i) as (select 1 union all select i + 1 from seq where i < :n)
           insert into contacts (phone, name, created_at) select '+4477008' || printf('%05d', i), null, :now from seq`,
        )
        .run({ n: 1000, now });
      db.$client
        .prepare(
          `insert into conversations (contact_id, our_number, provider, status, unread_count, created_at)
           select id, :ours, 'vonage', 'open', 0, :now from contacts`,
        )
        .run({ ours, now });
      const insert = db.$client.prepare(
        `insert into messages (conversation_id, direction, provider_message_uuid, "from", "to", text, encoding, segments, status, status_at, created_at)
         select c.id, 'out', :uuid, :ours, k.phone, :text, 'gsm7', 1, 'submitted', :now, :now
           from conversations c join contacts k on k.id = c.contact_id where c.id = :conversation`,
      );
      uuids.forEach((uuid, i) => insert.run({ uuid, ours, text: `Your order ${i} has shipped`, now, conversation: (i % 1000) + 1 }));
    })();
  } finally {
    db.$client.close();
  }
  return uuids;
}

async function signOne(i: number, secret: string, outbound: readonly string[]): Promise<Signed> {
  if (MIX === 'inbound' || (MIX === 'mixed' && i % 2 === 0)) {
    const uuid = randomUUID();
    const body = JSON.stringify(
      inboundPayload({
        message_uuid: uuid,
        from: `4477009${String(40_000 + (Math.floor(i / 2) % SENDERS)).padStart(5, '0')}`,
        text: `Soak #${i}: where is my parcel? It was due on Tuesday.`,
      }),
    );
    return { uuid, path: '/webhooks/inbound', body: Buffer.from(body), authorization: await signVonageWebhook(body, secret) };
  }
  const uuid = outbound[MIX === 'status' ? i : (i - 1) / 2];
  if (uuid === undefined) throw new Error(`no seeded outbound message for slot ${i}`);
  const body = JSON.stringify(statusPayload({ message_uuid: uuid, status: 'delivered' }));
  return { uuid, path: '/webhooks/status', body: Buffer.from(body), authorization: await signVonageWebhook(body, secret) };
}

async function metricsText(baseUrl: string): Promise<string | null> {
  try {
    const res = await fetch(`${baseUrl}/metrics`);
    return res.ok ? await res.text() : null;
  } catch {
    return null;
  }
}

async function heapUsed(baseUrl: string): Promise<number | null> {
  const text = await metricsText(baseUrl);
  const v = text === null ? undefined : /^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1];
  return v === undefined ? null : Number(v);
}

/** parley_webhooks_total by path and outcome (what the server made of each webhook). */
async function webhookOutcomes(baseUrl: string): Promise<string> {
  const text = await metricsText(baseUrl);
  if (text === null) return 'unavailable';
  const lines = [...text.matchAll(/^parley_webhooks_total\{([^}]*)\} (\S+)$/gm)].map((m) => {
    const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    return `${labels.path ?? '?'} ${labels.outcome ?? '?'} ${m[2] ?? '?'}`;
  });
  return lines.join(', ') || 'none';
}

function report(r: {
  samples: readonly Sample[];
  sent: number;
  done: number;
  skipped: number;
  signS: number;
  errors: number;
  statuses: ReadonlyMap<number, number>;
  events: number;
  inboundEvents: number;
  wallS: number;
  cpuShare: number;
  seedS: number;
  receipts: number;
  outcomes: string;
}): void {
  const mb = (b: number) => (b / MB).toFixed(1);
  console.log(`  RSS samples every ${SAMPLE_MS / 1000} s (MB): ${r.samples.map((s) => mb(s.rss)).join(' ')}`);
  const heap = r.samples.map((s) => s.heapUsed);
  if (heap.every((h) => h !== null)) console.log(`  V8 heap used (MB):             ${heap.map((h) => mb(h ?? 0)).join(' ')}`);
  const after = r.samples.filter((s) => s.atS >= WARMUP_S);
  const first = after[0];
  const last = after.at(-1);
  const rates = (s: Sample, prev: Sample | undefined) => (prev ? (s.done - prev.done) / Math.max(0.001, s.atS - prev.atS) : 0);
  console.log(
    `  sent ${r.sent} (${(r.sent / r.wallS).toFixed(0)}/s over ${r.wallS.toFixed(0)} s; target ${RATE}/s), answered ${r.done}, skipped ${r.skipped} (more than ${MAX_IN_FLIGHT} in flight), ` +
      `${r.errors} errors; statuses ${[...r.statuses].map(([c, n]) => `${n}× ${c}`).join(', ')}`,
  );
  console.log(`  server outcomes: ${r.outcomes}`);
  console.log(
    `  subscriber: ${r.events} events (${r.inboundEvents} inbound message.created); server cpu ${(r.cpuShare * 100).toFixed(0)}% of one core; ` +
      `answered/s per sample ${r.samples
        .map((s, i) => rates(s, r.samples[i - 1]).toFixed(0))
        .slice(1)
        .join(' ')}`,
  );
  const [one, five] = loadavg();
  console.log(
    `  ${r.receipts} outbound messages seeded in ${r.seedS.toFixed(1)} s, ${RATE * SECONDS} webhooks (${MIX}) signed ahead in ${r.signS.toFixed(1)} s${WITH_SUBSCRIBER ? '' : ', no subscriber'}; load average ${one?.toFixed(2) ?? '?'} / ${five?.toFixed(2) ?? '?'} on ${availableParallelism()} cpus (shared machine)`,
  );
  if (!first || !last) {
    console.log(`  RSS growth: no sample after the ${WARMUP_S} s warm-up: not judged`);
    return;
  }
  const rss = after.map((s) => s.rss);
  const min = Math.min(...rss);
  const max = Math.max(...rss);
  // GC makes RSS a sawtooth (tens of MB): growth is judged on the trend, the mean of the last quarter
  // of the samples after warm-up against the mean of the first quarter; max − first is printed beside it.
  const quarter = Math.max(1, Math.floor(rss.length / 4));
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
  const growth = mean(rss.slice(-quarter)) - mean(rss.slice(0, quarter));
  const minutes = (last.atS - first.atS) / 60;
  const achieved = r.sent / r.wallS;
  const atRate = achieved >= RATE * 0.95;
  const signed = (b: number) => `${b >= 0 ? '+' : ''}${mb(b)}`;
  console.log(
    `  after the ${WARMUP_S} s warm-up (${after.length} samples over ${minutes.toFixed(1)} min): first ${mb(first.rss)} MB, min ${mb(min)}, max ${mb(max)}, last ${mb(last.rss)} MB; ` +
      `max − first ${signed(max - first.rss)} MB, last − first ${signed(last.rss - first.rss)} MB`,
  );
  console.log(
    `  memory soak ${SECONDS} s at ${achieved.toFixed(0)}/s: RSS growth ${signed(growth)} MB (last quarter's mean − first quarter's; ${(Math.max(0, growth) / MB / GOAL_GROWTH_MB).toFixed(2)}× the budget): ` +
      `${growth <= GOAL_GROWTH_MB * MB && atRate && SECONDS >= 300 ? 'met' : 'MISSED'} (goal ≤ +${GOAL_GROWTH_MB} MB over ≥ 300 s at ${RATE}/s` +
      `${atRate ? '' : `; the server answered only ${achieved.toFixed(0)}/s`}${SECONDS >= 300 ? '' : `; SOAK_SECONDS=${SECONDS} is shorter than the goal's 5 minutes`})`,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
