/**
 * CPU profiles of the bench process itself (node:inspector), and a plain-text summary: self time by
 * package and the top frames. Open the .cpuprofile files in Chrome DevTools or speedscope for more.
 */
import { Session } from 'node:inspector/promises';
import type { Profiler } from 'node:inspector';

export interface RunningProfile {
  stop(): Promise<Profiler.Profile>;
}

/** Starts sampling this process (every 100 µs by default) until `stop()`. */
export async function startProfile(intervalUs = 100): Promise<RunningProfile> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      return profile;
    },
  };
}

/** Where a frame's code lives: a package name, `parley <folder>`, `node:internal`, or a V8 bucket. */
function ownerOf(frame: Profiler.ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (functionName === '(idle)' || functionName === '(garbage collector)' || functionName === '(program)') return functionName;
  if (url === '') return '(native)';
  const pnpm = /node_modules\/\.pnpm\/([^/]+)\//.exec(url);
  if (pnpm?.[1]) return (/^(@?[^@]+)@/.exec(pnpm[1])?.[1] ?? pnpm[1]).replace('+', '/');
  const plain = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (plain?.[1]) return plain[1];
  if (url.startsWith('node:')) return 'node:internal';
  const src = /\/src\/([^/]+)\//.exec(url);
  if (src?.[1]) return `parley ${src[1]}`;
  return url.split('/').slice(-2).join('/');
}

/** Self time by owner (share of the non-idle time) and the heaviest frames. */
export function summarizeProfile(profile: Profiler.Profile, top = { owners: 10, frames: 12 }): string {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i];
    if (id !== undefined) selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i] ?? 0));
  }
  const owners = new Map<string, number>();
  const frames = new Map<string, number>();
  const parents = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parents.set(c, n.id);
  /** Native frames (no url: a binding, a syscall) count for the package that called them. */
  const ownerOfNode = (id: number): string => {
    const own = ownerOf(nodes.get(id)?.callFrame ?? { functionName: '', url: '', scriptId: '', lineNumber: 0, columnNumber: 0 });
    if (own !== '(native)') return own;
    for (let p = parents.get(id); p !== undefined; p = parents.get(p)) {
      const up = nodes.get(p)?.callFrame;
      if (up && up.url !== '') return `${ownerOf(up)} (native)`;
    }
    return own;
  };
  for (const [id, us] of selfUs) {
    const frame = nodes.get(id)?.callFrame;
    if (!frame) continue;
    const owner = ownerOfNode(id);
    owners.set(owner, (owners.get(owner) ?? 0) + us);
    const name = `${frame.functionName || '(anonymous)'} · ${owner} ${frame.url.split('/').pop() ?? ''}:${frame.lineNumber + 1}`;
    frames.set(name, (frames.get(name) ?? 0) + us);
  }
  const total = [...owners.values()].reduce((a, b) => a + b, 0);
  const busy = total - (owners.get('(idle)') ?? 0);
  const line = ([k, us]: [string, number]) =>
    `${(us / 1000).toFixed(0).padStart(6)} ms ${((100 * us) / Math.max(1, busy)).toFixed(1).padStart(5)} %  ${k}`;
  const sorted = (m: Map<string, number>, n: number) =>
    [...m]
      .filter(([k]) => k !== '(idle)' && !k.startsWith('(idle)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n);
  return [
    `busy ${(busy / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms sampled; self time by package (share of busy):`,
    ...sorted(owners, top.owners).map(line),
    'top frames (self):',
    ...sorted(frames, top.frames).map(line),
  ].join('\n');
}
