import { afterEach, describe, expect, it } from 'vitest';
import { testConfig } from '../config';
import { openTempDb, type TempDb } from '../testing/temp-db';
import { SYSTEM_ACTOR } from './audit';
import { DELIVERIES_KEPT, listDeliveries, recordDelivery } from './webhook-deliveries';
import { createEndpoint, openSecret, secretKey, sealSecret } from './webhook-endpoints';

let t: TempDb | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

describe('webhook endpoints (domain)', () => {
  it('keep only the newest delivery rows of each endpoint, and page them newest first', async () => {
    t = openTempDb();
    const config = testConfig({ databasePath: t.path });
    const { endpoint } = await createEndpoint({
      log: t.log,
      config,
      actor: SYSTEM_ACTOR,
      url: 'https://a.example/x',
      events: ['message.created'],
      createdBy: null,
    });
    for (let i = 1; i <= DELIVERIES_KEPT + 100; i++) {
      await recordDelivery(t.log, {
        endpointId: endpoint.id,
        eventId: i,
        webhookId: String(i),
        eventType: 'message.created',
        attempt: 1,
        status: 'succeeded',
        responseStatus: 200,
        responseExcerpt: 'ok',
        error: null,
        latencyMs: 1,
        at: Date.now(),
      });
    }
    const count = t.db.$client.prepare('select count(*) as n, min(event_id) as oldest from webhook_deliveries').get() as {
      n: number;
      oldest: number;
    };
    expect(count.n).toBeLessThanOrEqual(DELIVERIES_KEPT + 20);
    expect(count.n).toBeGreaterThanOrEqual(DELIVERIES_KEPT);
    expect(count.oldest).toBeGreaterThan(100);
    const first = await listDeliveries(t.db, endpoint.id);
    expect(first.items[0]?.eventId).toBe(DELIVERIES_KEPT + 100);
    expect(first.items).toHaveLength(50);
    const second = await listDeliveries(t.db, endpoint.id, first.nextCursor ?? undefined);
    expect(second.items[0]?.eventId).toBe(DELIVERIES_KEPT + 50);
  });

  it('seal secrets with AES-256-GCM: a changed byte or another key does not open them', () => {
    t = openTempDb();
    const key = secretKey(testConfig({ databasePath: t.path }));
    const sealed = sealSecret(key, 'whsec_abc');
    expect(sealed).not.toContain('abc');
    expect(openSecret(key, sealed)).toBe('whsec_abc');
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3] ?? '', 'base64');
    body[0] = (body[0] ?? 0) ^ 0xff;
    const tampered = [...parts.slice(0, 3), body.toString('base64')].join('.');
    expect(() => openSecret(key, tampered)).toThrow();
    expect(() => openSecret(Buffer.alloc(32, 1), sealed)).toThrow();
  });
});
