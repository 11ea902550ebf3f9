import type { Request, Response } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricSources {
  events: () => { appended: number; subscribers: number };
  outbox: () => Promise<{ depth: number; oldestQueuedAgeMs: number | null; inFlight: number } | null>;
  /** Refused webhooks still needing review (webhook_log). */
  refusalsNeedingReview?: () => Promise<number>;
}

/**
 * Parley's Prometheus metrics, in a registry of this server's own (no global state). Counters are
 * live from the start (webhook routes count before anything else is wired); the gauges read the
 * parts `observe` names, once those exist (0 before).
 */
export function createMetrics() {
  let sources: MetricSources | null = null;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const webhooks = new Counter({
    name: 'parley_webhooks_total',
    help: 'Webhook requests by path and outcome',
    labelNames: ['path', 'outcome'] as const,
    registers: [registry],
  });
  const providerLatency = new Histogram({
    name: 'parley_provider_send_seconds',
    help: 'Provider send call latency',
    labelNames: ['provider', 'outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const providerErrors = new Counter({
    name: 'parley_provider_errors_total',
    help: 'Provider send errors by provider and code',
    labelNames: ['provider', 'code'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'parley_events_appended_total',
    help: 'Events appended to the event log since start',
    registers: [registry],
    collect() {
      this.set(sources?.events().appended ?? 0);
    },
  });
  new Gauge({
    name: 'parley_live_subscribers',
    help: 'Live event-stream subscribers',
    registers: [registry],
    collect() {
      this.set(sources?.events().subscribers ?? 0);
    },
  });
  new Gauge({
    name: 'parley_outbox_depth',
    help: 'Messages waiting in the outbox (queued or being sent)',
    registers: [registry],
    async collect() {
      this.set((await sources?.outbox())?.depth ?? 0);
    },
  });
  new Gauge({
    name: 'parley_outbox_oldest_queued_age_seconds',
    help: 'Age of the oldest queued outbox row (0 when empty)',
    registers: [registry],
    async collect() {
      this.set(((await sources?.outbox())?.oldestQueuedAgeMs ?? 0) / 1000);
    },
  });

  new Gauge({
    name: 'parley_webhook_refusals_needing_review',
    help: 'Refused provider webhooks kept in webhook_log that are neither replayed successfully nor dismissed',
    registers: [registry],
    async collect() {
      this.set((await sources?.refusalsNeedingReview?.()) ?? 0);
    },
  });

  return {
    registry,
    /** The parts the gauges read (called once, when they are built). */
    observe(parts: MetricSources) {
      sources = parts;
    },
    webhook(path: string, outcome: string) {
      webhooks.inc({ path, outcome });
    },
    providerSend(provider: string, durationMs: number, outcome: string) {
      providerLatency.observe({ provider, outcome: outcome === 'ok' ? 'ok' : 'error' }, durationMs / 1000);
      if (outcome !== 'ok') providerErrors.inc({ provider, code: outcome });
    },
    async handler(_req: Request, res: Response) {
      res.set('Content-Type', registry.contentType).send(await registry.metrics());
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
