import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** The throwaway PostgreSQL cluster of a test run (see pg.ts). */
export const PG_MISSING_HELP =
  'PostgreSQL is needed for the PostgreSQL tests and was not found. Install it (Debian/Ubuntu: `apt-get install -y postgresql`; ' +
  'its binaries are looked for in /usr/lib/postgresql/<version>/bin, or set PARLEY_PG_BIN to the directory holding initdb and pg_ctl), ' +
  'or set PARLEY_TEST_PG_URL=postgres://user:password@host:port/db for a server where that role may create databases.';

/** The names of one test run's databases start with this (lower case: PostgreSQL folds unquoted names). */
export function runDatabasePrefix(run: string): string {
  return `parley_test_${run.toLowerCase()}_`;
}

export interface ClusterInfo {
  url: string;
  binDir: string;
  dataDir: string;
  /** The user the cluster runs as ('' for the current one). */
  runAs: string;
}

function findBinDir(): string {
  const fromEnv = process.env.PARLEY_PG_BIN;
  if (fromEnv) {
    if (existsSync(join(fromEnv, 'initdb'))) return fromEnv;
    throw new Error(`PARLEY_PG_BIN=${fromEnv} holds no initdb. ${PG_MISSING_HELP}`);
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0]) return join(root, versions[0], 'bin');
  try {
    const bin = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(join(bin, 'initdb'))) return bin;
  } catch {
    // no pg_config either
  }
  throw new Error(PG_MISSING_HELP);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function run(info: Pick<ClusterInfo, 'binDir' | 'runAs'>, tool: string, args: string[]): string {
  const bin = join(info.binDir, tool);
  const [cmd, argv] = info.runAs ? ['runuser', ['-u', info.runAs, '--', bin, ...args]] : [bin, args];
  try {
    return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${tool} failed: ${e.stderr || e.stdout || e.message}`);
  }
}

/** Starts a cluster in `stateDir` (which must be empty of one). Runs as `postgres` when we are root (PostgreSQL refuses root). */
async function startCluster(stateDir: string): Promise<ClusterInfo> {
  const binDir = findBinDir();
  let runAs = '';
  let owner: { uid: number; gid: number } | undefined;
  if (process.getuid?.() === 0) {
    let uid: number;
    let gid: number;
    try {
      uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    } catch {
      throw new Error(`Running as root, the throwaway cluster runs as the user postgres, which does not exist. ${PG_MISSING_HELP}`);
    }
    chownSync(stateDir, uid, gid);
    owner = { uid, gid };
    runAs = 'postgres';
  }
  const dataDir = join(stateDir, 'data');
  const password = randomBytes(18).toString('hex');
  const pwfile = join(stateDir, 'pw');
  writeFileSync(pwfile, password, { mode: 0o600 });
  if (owner) chownSync(pwfile, owner.uid, owner.gid);
  const info = { binDir, runAs };
  run(info, 'initdb', [
    '-D',
    dataDir,
    '-U',
    'parley',
    `--pwfile=${pwfile}`,
    '--auth=scram-sha-256',
    '--encoding=UTF8',
    '--locale=C.UTF-8',
    '--no-sync',
    '--no-instructions',
  ]);
  rmSync(pwfile, { force: true });
  // A free port can be taken between our probe and the server's bind: try a few.
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const options = [
      `-p ${port}`,
      '-c listen_addresses=127.0.0.1',
      `-c unix_socket_directories=${stateDir}`,
      // Throwaway: durability off (the cluster is deleted after the run).
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=200',
    ].join(' ');
    try {
      run(info, 'pg_ctl', ['-D', dataDir, '-l', join(stateDir, 'server.log'), '-w', '-t', '60', '-o', options, 'start']);
      return { url: `postgres://parley:${password}@127.0.0.1:${port}/postgres`, binDir, dataDir, runAs };
    } catch (err) {
      if (attempt >= 3) {
        let log = '';
        try {
          log = readFileSync(join(stateDir, 'server.log'), 'utf8').slice(-2000);
        } catch {
          // no log
        }
        throw new Error(`${(err as Error).message}\n${log}`);
      }
    }
  }
}

/** Stops the cluster described in `stateDir` (if one was started) and removes the directory. */
export function stopCluster(stateDir: string): void {
  const file = join(stateDir, 'cluster.json');
  if (existsSync(file)) {
    const info = JSON.parse(readFileSync(file, 'utf8')) as ClusterInfo;
    try {
      run(info, 'pg_ctl', ['-D', info.dataDir, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // already gone
    }
  }
  rmSync(stateDir, { recursive: true, force: true });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The run's cluster: the first caller (in any test worker) starts it under a directory lock, the others wait and share it. */
export async function sharedCluster(stateDir: string): Promise<ClusterInfo> {
  const file = join(stateDir, 'cluster.json');
  const lock = join(stateDir, 'lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as ClusterInfo;
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for another test worker to start PostgreSQL (${lock})`);
      await sleep(100);
    }
  }
  try {
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as ClusterInfo;
    const info = await startCluster(stateDir);
    writeFileSync(file, JSON.stringify(info), { mode: 0o600 });
    return info;
  } finally {
    rmdirSync(lock);
  }
}
