// `pnpm bench [name...]`: the server's benchmarks (apps/server/bench, by name) and the web app's
// render benchmark (`render`, in e2e/bench). No name: all of them. Names go to the benchmark they
// belong to, so `pnpm bench outbox` runs the outbox benchmark only.
import { spawnSync } from 'node:child_process';

const names = process.argv.slice(2).filter((a) => a !== '--');
const render = names.length === 0 || names.includes('render');
const server = names.filter((n) => n !== 'render');
const run = (args) => spawnSync('pnpm', args, { stdio: 'inherit' }).status ?? 1;

let status = 0;
if (names.length === 0 || server.length > 0) status = run(['--filter', '@parley/server', 'bench', ...server]);
if (render) status = run(['--filter', '@parley/e2e', 'exec', 'tsx', 'bench/render.ts']) || status;
process.exitCode = status;
