import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { webDir } from './paths';

/** Builds apps/web unless dist is newer than every source file (the same script `pnpm start` runs). */
export function ensureWebBuilt(): void {
  execFileSync(process.execPath, [path.join(webDir, 'scripts', 'build-if-needed.mjs')], { stdio: 'inherit' });
}
