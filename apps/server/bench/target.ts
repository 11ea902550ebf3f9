import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * A server under test runs in its own process, so the load generator never shares its event loop
 * (on a 2-core machine: one core each). `spawnTarget` starts a module that calls `serveTarget`.
 *
 * BENCH_CPU_PROF=<dir> starts every target with `--cpu-prof --cpu-prof-dir=<dir>` (open the
 * .cpuprofile files in Chrome DevTools or speedscope).
 */

export interface RunningTarget {
  url: string;
  close(): Promise<void>;
}

export interface Target {
  url: string;
  /** The target's process id (its RSS is in /proc/<pid>/status). */
  pid: number;
  /** Asks the target to close (finish in flight, close its database) and waits for its process to exit. */
  stop(): Promise<void>;
}

type ParentMessage = { type: 'stop' };
type ChildMessage = { type: 'ready'; url: string } | { type: 'stopped' };

function isChildMessage(m: unknown): m is ChildMessage {
  return typeof m === 'object' && m !== null && 'type' in m && (m.type === 'ready' || m.type === 'stopped');
}

/** Forks `entry` (a module calling `serveTarget`) with `args` and resolves once it is listening. */
export function spawnTarget(entry: URL, args: unknown): Promise<Target> {
  const profileDir = process.env.BENCH_CPU_PROF;
  const child: ChildProcess = fork(fileURLToPath(entry), [JSON.stringify(args)], {
    // process.execArgv carries tsx's loader flags, so the child runs TypeScript too.
    execArgv: [...process.execArgv, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  return new Promise<Target>((resolve, reject) => {
    const onEarlyExit = (code: number | null) => reject(new Error(`target ${entry.pathname} exited (code ${code}) before listening`));
    child.once('exit', onEarlyExit);
    child.once('error', reject);
    child.on('message', function onReady(m: unknown) {
      if (!isChildMessage(m) || m.type !== 'ready') return;
      child.off('message', onReady);
      child.off('exit', onEarlyExit);
      resolve({
        url: m.url,
        pid: child.pid ?? -1,
        async stop() {
          if (child.exitCode === null && child.connected) child.send({ type: 'stop' } satisfies ParentMessage);
          const code = await exited;
          if (code !== 0) throw new Error(`target ${entry.pathname} exited with code ${code}`);
        },
      });
    });
  });
}

/** The child side: reads its args, starts, reports its url, and closes when asked (or when the parent goes). */
export async function serveTarget<A>(start: (args: A) => Promise<RunningTarget>): Promise<void> {
  const send = process.send?.bind(process);
  if (!send) throw new Error('a bench target must be started by spawnTarget (no IPC channel)');
  process.once('disconnect', () => process.exit(1));
  const target = await start(JSON.parse(process.argv[2] ?? 'null') as A);
  process.on('message', (m: unknown) => {
    if (typeof m !== 'object' || m === null || !('type' in m) || m.type !== 'stop') return;
    target.close().then(
      () => {
        process.removeAllListeners('disconnect');
        send({ type: 'stopped' } satisfies ChildMessage, () => process.exit(0));
      },
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
  send({ type: 'ready', url: target.url } satisfies ChildMessage);
}
