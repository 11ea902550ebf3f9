/**
 * A long-lived subscription must not keep what it already delivered: each value becomes garbage
 * once the consumer has taken it, while the stream is still open (a stream that held every event
 * grew the server by hundreds of MB over a 5-minute soak).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentDto } from '../domain/agents';
import { openTestDb, type TempDb } from '../testing/temp-db';
import { testAppDeps } from '../testing/app-deps';
import { createContextInner } from './context';
import { whileSignedIn } from './live';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const tick = () => new Promise((resolve) => setImmediate(resolve));

let t: TempDb | undefined;
afterEach(async () => await t?.dispose());

describe('whileSignedIn', () => {
  it('lets go of each delivered value while the stream stays open', async () => {
    t = await openTestDb();
    const deps = testAppDeps(t);
    const ctx = createContextInner({ deps, agent: { id: 1 } as AgentDto });
    const refs: WeakRef<object>[] = [];
    let more!: () => void;
    async function* source(signal: AbortSignal): AsyncGenerator<{ payload: Buffer }> {
      for (let i = 0; i < 50 && !signal.aborted; i++) {
        const value = { payload: Buffer.alloc(64 * 1024, i) };
        refs.push(new WeakRef(value));
        yield value;
      }
      // Then stay open, as a live stream does between events.
      await new Promise<void>((resolve) => {
        more = resolve;
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    const stream = await whileSignedIn(ctx, undefined, source);
    for (let i = 0; i < 50; i++) {
      const r = await stream.next();
      expect(r.done).toBe(false);
    }
    // The 51st value is being waited for: the stream is open, every earlier value was taken.
    const waiting = stream.next();
    for (let i = 0; i < 3; i++) {
      await tick();
      gc();
    }
    await tick();
    const alive = refs.filter((r) => r.deref() !== undefined).length;
    expect(alive).toBeLessThanOrEqual(1);
    more();
    await stream.return(undefined);
    await waiting.catch(() => undefined);
    deps.credentials.close();
    deps.presence.close();
  });
});
