import type { Request, Response } from 'express';
import type { Db } from '../db/client';

export type HealthExtras = () => Record<string, unknown>;

/** GET /healthz: 200 when the database answers a query, 503 when it does not. */
export function healthHandler(db: Db, extras: HealthExtras = () => ({})) {
  return (_req: Request, res: Response): void => {
    try {
      db.$client.prepare('select 1').get();
      res.status(200).json({ status: 'ok', db: 'ok', ...extras() });
    } catch (err) {
      res.status(503).json({ status: 'unavailable', db: err instanceof Error ? err.message : 'unusable' });
    }
  };
}
