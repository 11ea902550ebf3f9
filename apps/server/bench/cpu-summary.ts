/**
 * `tsx bench/cpu-summary.ts <file.cpuprofile | dir> [top]`: a text flame summary of a V8 CPU profile
 * (as `BENCH_CPU_PROF=<dir> pnpm bench …` writes them; a directory: its largest .cpuprofile).
 * Prints self time by package, the top frames by self time, and Parley's own frames by total time.
 * Native SQLite time counts under the JS frame that called it (V8 samples only JS frames).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A frame's package: the pnpm store name without its version suffix, node's module, or Parley's folder. */
function packageOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : 'other';
  const store = /node_modules\/\.pnpm\/((?:@[^+/]+\+)?[^@/]+)@/.exec(url);
  if (store?.[1]) return store[1].replace('+', '/');
  const mod = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (mod?.[1]) return mod[1];
  if (url.startsWith('node:')) return url.split('/').slice(0, 3).join('/');
  const own = /(?:apps\/server\/src|packages\/shared\/src)\/([^/]+)\//.exec(url);
  if (own?.[1]) return `parley:${url.includes('packages/shared') ? 'shared' : own[1]}`;
  if (/apps\/server\/src\/[^/]+$/.test(url)) return 'parley:server';
  return 'other';
}

/** A short location: the package (with version) or Parley's path, and the line. */
function where(f: CallFrame): string {
  const store = /node_modules\/\.pnpm\/([^/]+)\/node_modules\//.exec(f.url);
  const loc = store?.[1] ?? /(apps\/server\/|packages\/shared\/)(.*)$/.exec(f.url)?.[2] ?? f.url;
  return `${f.functionName || '(anon)'} ${loc}:${f.lineNumber + 1}`;
}

function load(path: string): Profile {
  let file = path;
  if (statSync(path).isDirectory()) {
    const files = readdirSync(path)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(path, f))
      .sort((a, b) => statSync(b).size - statSync(a).size);
    if (!files[0]) throw new Error(`no .cpuprofile in ${path}`);
    file = files[0];
  }
  return JSON.parse(readFileSync(file, 'utf8')) as Profile;
}

export function summarise(profile: Profile, top = 15): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfMs = new Map<number, number>();
  let totalMs = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    totalMs += dt;
    selfMs.set(id, (selfMs.get(id) ?? 0) + dt);
  });
  const pct = (ms: number) => `${((100 * ms) / totalMs).toFixed(1).padStart(5)}%`;
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

  const pkgSelf = new Map<string, number>();
  const frameSelf = new Map<string, number>();
  const ownTotal = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    const node = byId.get(id);
    if (!node) continue;
    add(pkgSelf, packageOf(node.callFrame.url, node.callFrame.functionName), ms);
    add(frameSelf, where(node.callFrame), ms);
    // Total: each of Parley's frames on the stack once per sample.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)?.callFrame;
      if (!f || !packageOf(f.url, f.functionName).startsWith('parley:')) continue;
      const key = where(f);
      if (!seen.has(key)) {
        seen.add(key);
        add(ownTotal, key, ms);
      }
    }
  }
  const list = (m: Map<string, number>, n: number, min = 0) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .filter(([, ms]) => ms / totalMs >= min)
      .slice(0, n)
      .map(([k, ms]) => `  ${pct(ms)} ${k}`)
      .join('\n');
  return [
    `profile: ${(totalMs / 1000).toFixed(1)} s sampled`,
    'self by package:',
    list(pkgSelf, 25, 0.005),
    'top self:',
    list(frameSelf, top),
    'top total (parley):',
    list(ownTotal, top),
  ].join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const [path, top] = process.argv.slice(2);
  if (!path) {
    console.error('usage: tsx bench/cpu-summary.ts <file.cpuprofile | dir> [top]');
    process.exit(2);
  }
  console.log(summarise(load(path), top ? Number(top) : 15));
}
