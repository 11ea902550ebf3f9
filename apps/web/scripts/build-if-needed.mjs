// Builds apps/web unless dist/index.html is newer than every source it is built from
// (the web app's own sources and packages/shared). `pnpm start` and the e2e tests run it.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = fileURLToPath(new URL('..', import.meta.url));
const sharedSrc = fileURLToPath(new URL('../../../packages/shared/src', import.meta.url));

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

const index = path.join(webDir, 'dist', 'index.html');
const built = existsSync(index) ? statSync(index).mtimeMs : 0;
const sources = Math.max(
  newestMtime(path.join(webDir, 'src')),
  newestMtime(sharedSrc),
  statSync(path.join(webDir, 'index.html')).mtimeMs,
  statSync(path.join(webDir, 'vite.config.ts')).mtimeMs,
);
if (built <= sources) {
  console.log('building the web app (apps/web → apps/web/dist)…');
  execFileSync('pnpm', ['exec', 'vite', 'build', '--logLevel', 'warn'], { cwd: webDir, stdio: 'inherit' });
}
