import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { serverDir } from './paths';

export const ADMIN = { email: 'admin@parley.test', password: 'e2e-password-123', name: 'admin' };

export interface RunningServer {
  url: string;
  port: number;
  child: ChildProcess;
}

/** A real Parley (`node --import tsx src/main.ts`) on a temp database; PORT 0 unless a port is given. */
export class ServerHarness {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'parley-e2e-'));
  current: RunningServer | null = null;

  /** More variables for the server (e.g. SEND_RATE_PER_SECOND), over the defaults below. */
  readonly env: Record<string, string>;

  constructor(env: Record<string, string> = {}) {
    this.env = env;
  }

  async start(port = 0): Promise<RunningServer> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: serverDir,
      env: {
        ...process.env,
        PORT: String(port),
        DATABASE_URL: `file:${path.join(this.dir, 'p.db')}`,
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        SMS_PROVIDER: 'sandbox',
        LOG_LEVEL: 'info',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log: string[] = [];
    child.stderr?.on('data', (chunk: Buffer) => log.push(chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${log.join('')}`)), 30_000);
      child.once('exit', (code) => reject(new Error(`server exited (${code}):\n${log.join('')}`)));
      if (!child.stdout) return reject(new Error('no stdout'));
      createInterface({ input: child.stdout }).on('line', (line) => {
        log.push(line);
        if (!line.includes('Parley is listening')) return;
        const parsed = JSON.parse(line) as { url?: string };
        if (!parsed.url) return;
        clearTimeout(timer);
        resolve(parsed.url);
      });
    });
    this.current = { url, port: Number(new URL(url).port), child };
    return this.current;
  }

  /** SIGKILL: no graceful close, no reconnect notification — like a crash or a pulled plug. */
  async kill(): Promise<void> {
    const child = this.current?.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Switches quiet hours off over HTTP as the admin: for tests that send campaigns or scheduled texts
 * and must not depend on the hour they run at (compliance tests keep them on).
 */
export async function switchQuietHoursOff(baseUrl: string): Promise<void> {
  const login = await fetch(`${baseUrl}/trpc/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }),
  });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const res = await fetch(`${baseUrl}/trpc/settings.update`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie },
    body: JSON.stringify({ quietHours: null }),
  });
  if (res.status !== 200) throw new Error(`settings.update: ${res.status}`);
}
