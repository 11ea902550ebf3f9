import { tracked, type TRPCRouterRecord } from '@trpc/server';
import { eventStreamInput } from '@parley/shared';
import { AppError } from '../../errors';
import { agentProcedure } from '../init';
import { paceConsumer, whileSignedIn } from '../live';

/** An object (not a primitive): the ws adapter merges the client's last seen id into it on reconnect. */

export const eventRouter = {
  /**
   * Every event after `lastEventId` from the log, then live ones, each `tracked` with its id: a client
   * that reconnects resumes where it stopped, missing nothing and seeing nothing twice. Without an id
   * it starts at the newest event. (An id beyond the log, e.g. after the database was reset, counts as none.)
   * An id whose following events were compacted away answers `appCode: 'RESYNC'`: refetch, then
   * subscribe again without an id. The replay is read page by page at the consumer's pace; the
   * stream ends when the credential does (whileSignedIn).
   */
  stream: agentProcedure.input(eventStreamInput).subscription(async ({ ctx, input, signal }) => {
    const { log } = ctx.deps;
    const requested = input?.lastEventId ? Number(input.lastEventId) : null;
    const known = requested !== null && Number.isFinite(requested) && requested <= (await log.lastId());
    if (known && !(await log.canResumeAfter(requested))) {
      throw new AppError('RESYNC', `Events after ${requested} were compacted: refetch, then subscribe again without lastEventId`);
    }
    const after = known ? requested : null;
    return await whileSignedIn(ctx, signal, async function* (s) {
      for await (const event of log.subscribe(after, s, { pace: (p) => paceConsumer(ctx, p) })) {
        yield tracked(String(event.id), event);
      }
    });
  }),
} satisfies TRPCRouterRecord;
