/**
 * Leadership: on PostgreSQL several Parley instances share one database, and the background work —
 * the outbox (so each provider's rate holds for all instances together, and each row is sent once),
 * campaign feeding, due scans, outbound webhooks, media downloads, retention, compaction — must run
 * once. One instance at a time holds the `background` lease (a row in `leases`, renewed every quarter
 * of its length, timed by the database's clock) and runs it; the others serve HTTP, webhooks and
 * live streams, and take over when the holder stops renewing (a crash: after at most one lease) or
 * lets go (a clean shutdown: at once).
 *
 * A holder that cannot renew in time stops its work before its lease can have passed to another
 * (it counts half a lease from when it last asked), so two instances never work at once.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';

export interface Leadership {
  readonly instanceId: string;
  held(): boolean;
  /** Holds the lease when it can; calls `onGain` when it starts holding and `onLose` when it stops. */
  start(handlers: { onGain(): Promise<void>; onLose(): Promise<void> }): Promise<void>;
  /** Stops renewing, runs `onLose` if held, and lets the lease go. */
  stop(): Promise<void>;
}

const NAME = 'background';

export function createLeadership(opts: { db: Db; leaseMs: number; logger: Logger }): Leadership {
  const { db, leaseMs, logger } = opts;
  const instanceId = randomUUID();
  let holdsUntil = 0; // local clock: when this instance must consider its hold ended
  let holding = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let handlers: { onGain(): Promise<void>; onLose(): Promise<void> } | undefined;
  let turn: Promise<void> = Promise.resolve();

  /** One attempt to take or renew the lease: whether this instance holds it now. */
  async function claim(): Promise<boolean> {
    const rows = await db.$store.rows<{ holder: string }>(sql`
      insert into leases (name, holder, until)
      values (${NAME}, ${instanceId}, ${dbNow()} + ${leaseMs})
      on conflict (name) do update set holder = excluded.holder, until = excluded.until
      where leases.holder = excluded.holder or leases.until < ${dbNow()}
      returning holder`);
    return rows[0]?.holder === instanceId;
  }

  async function tick(): Promise<void> {
    const askedAt = Date.now();
    let got = false;
    try {
      got = await claim();
    } catch (err) {
      logger.warn({ err }, 'leadership: could not reach the database to renew the lease');
    }
    // Half the lease, counted from before asking: renewed every quarter, a holder that stops getting
    // through gives up at most three quarters of a lease after its last success, before it can pass on.
    if (got) holdsUntil = askedAt + leaseMs / 2;
    const nowHolds = got || (holding && Date.now() < holdsUntil);
    if (nowHolds && !holding && !stopped) {
      holding = true;
      logger.info({ instanceId }, 'leadership: this instance runs the background work');
      await handlers?.onGain();
    } else if (!nowHolds && holding) {
      holding = false;
      logger.warn({ instanceId }, 'leadership: lease lost; background work stopped');
      await handlers?.onLose();
    }
  }

  function next(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      turn = turn.then(tick).finally(next);
    }, leaseMs / 4);
    timer.unref();
  }

  return {
    instanceId,
    held: () => holding && Date.now() < holdsUntil,
    async start(h) {
      handlers = h;
      turn = tick();
      await turn;
      next();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await turn;
      if (holding) {
        holding = false;
        await handlers?.onLose();
      }
      await db.$store.execute(sql`delete from leases where name = ${NAME} and holder = ${instanceId}`).catch(() => undefined);
    },
  };
}

/** The database's clock in epoch ms (every instance judges leases by the same clock). */
function dbNow() {
  return sql`(extract(epoch from clock_timestamp()) * 1000)::bigint`;
}
