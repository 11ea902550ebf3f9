/**
 * Parley as a child process, started the way `pnpm start` runs it (`node --import tsx src/main.ts`),
 * for tests that kill it (-9) or run several: spawn with a given environment, wait for its
 * "listening" line, kill, and call its tRPC over HTTP as a script would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { CampaignRecipientDto } from '@parley/shared';

const serverDir = fileURLToPath(new URL('../..', import.meta.url));

export interface ParleyProcess {
  name: string;
  child: ChildProcess;
  url: string;
  /** Its stdout lines and stderr chunks so far. */
  log: string[];
}

/** Starts Parley with `env` (PATH added) and resolves with its URL once it listens; rejects with its log if it exits or takes over `timeoutMs`. */
export function startParleyProcess(name: string, env: Record<string, string>, timeoutMs = 60_000): Promise<ParleyProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: serverDir,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  return new Promise<ParleyProcess>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${log.join('')}`)), timeoutMs);
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}):\n${log.join('')}`)));
    if (!child.stdout) return reject(new Error('no stdout'));
    createInterface({ input: child.stdout }).on('line', (line) => {
      log.push(line);
      if (!line.includes('Parley is listening')) return;
      clearTimeout(timer);
      resolve({ name, child, url: (JSON.parse(line) as { url: string }).url, log });
    });
  });
}

/** SIGKILL (no shutdown of any kind), resolved once it has exited. */
export async function killParley(p: ParleyProcess): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((resolve) => p.child.once('exit', resolve));
  p.child.kill('SIGKILL');
  await exited;
}

/** A tRPC call over HTTP (GET for queries, POST for mutations) with these headers (a session cookie or a Bearer token). */
export async function trpcCall<T>(
  url: string,
  headers: Record<string, string>,
  path: string,
  input: unknown,
  method: 'GET' | 'POST',
): Promise<T> {
  const query = method === 'GET' ? `?input=${encodeURIComponent(JSON.stringify(input))}` : '';
  const res = await fetch(`${url}/trpc/${path}${query}`, {
    method,
    headers: { ...headers, 'content-type': 'application/json' },
    ...(method === 'POST' ? { body: JSON.stringify(input) } : {}),
  });
  const body = (await res.json()) as { result?: { data: T }; error?: { message: string } };
  if (!body.result) throw new Error(`${path} on ${url}: ${res.status} ${body.error?.message ?? ''}`);
  return body.result.data;
}

/** Every recipient of a campaign, page by page (`campaign.recipients`). */
export async function allRecipients(url: string, headers: Record<string, string>, id: number): Promise<CampaignRecipientDto[]> {
  const recipients: CampaignRecipientDto[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: CampaignRecipientDto[]; nextCursor: string | null } = await trpcCall(
      url,
      headers,
      'campaign.recipients',
      { id, cursor, limit: 200 },
      'GET',
    );
    recipients.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return recipients;
}
