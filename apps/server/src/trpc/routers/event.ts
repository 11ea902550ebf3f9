import { tracked, type TRPCRouterRecord } from '@trpc/server';
import { eventStreamInput } from '@parley/shared';
import { agentProcedure } from '../init';

/** An object (not a primitive): the ws adapter merges the client's last seen id into it on reconnect. */

export const eventRouter = {
  /**
   * Every event after `lastEventId` from the log, then live ones, each `tracked` with its id: a client
   * that reconnects resumes where it stopped, missing nothing and seeing nothing twice. Without an id
   * it starts at the newest event. (An id beyond the log, e.g. after the database was reset, counts as none.)
   */
  stream: agentProcedure.input(eventStreamInput).subscription(async function* ({ ctx, input, signal }) {
    const { log } = ctx.deps;
    const requested = input?.lastEventId ? Number(input.lastEventId) : null;
    const after = requested !== null && requested <= log.lastId() ? requested : null;
    for await (const event of log.subscribe(after, signal)) {
      yield tracked(String(event.id), event);
    }
  }),
} satisfies TRPCRouterRecord;
