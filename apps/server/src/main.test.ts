import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const serverDir = fileURLToPath(new URL('..', import.meta.url));

/** Starts `tsx src/main.ts` as `pnpm start` does; resolves with its URL once it logs that it listens. */
function startMain(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: serverDir,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const m = /"url":"(http:[^"]+)"/.exec(output);
      if (m?.[1]) resolve(m[1]);
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, url, exited, output: () => output };
}

describe('main (pnpm start)', () => {
  it('starts on the embedded defaults, answers /healthz, and shuts down cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-main-'));
    try {
      const p = startMain({ PORT: '0', DATABASE_URL: `file:${join(dir, 'parley.db')}` });
      const url = await p.url;
      const res = await fetch(`${url}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ok', db: 'ok' });
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
      expect(p.output()).toContain('shutting down');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start with a clear message per bad variable', async () => {
    const p = startMain({ PORT: 'abc', SMS_PROVIDER: 'vonage' });
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/PORT: must be a port number/);
    await p.url.catch(() => undefined);
  });
});
