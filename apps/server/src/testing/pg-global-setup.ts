import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { runDatabasePrefix, stopCluster } from './pg-cluster';

/**
 * vitest global setup of the server project: a state directory for the run's throwaway PostgreSQL
 * cluster. Nothing starts here — the first test file that asks for PostgreSQL starts the cluster
 * (testing/pg.ts), so runs without PostgreSQL tests pay nothing; the teardown stops it and removes it.
 */
export default function setup(project: TestProject): () => Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), 'parley-pg-'));
  const run = randomBytes(4).toString('hex');
  project.provide('parleyPgStateDir', stateDir);
  project.provide('parleyPgRun', run);
  return async () => {
    stopCluster(stateDir);
    // A server of the user's (PARLEY_TEST_PG_URL) outlives the run: drop what the run left there (a
    // test server restarted on a directory of its own keeps its database until now).
    const external = process.env.PARLEY_TEST_PG_URL;
    if (external) await dropRunDatabases(external, run);
  };
}

async function dropRunDatabases(url: string, run: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const { rows } = await client.query<{ datname: string }>('select datname from pg_database where datname like $1', [
      `${runDatabasePrefix(run)}%`,
    ]);
    for (const { datname } of rows) await client.query(`drop database if exists "${datname}" with (force)`);
  } catch (err) {
    console.warn(`parley tests: could not drop this run's test databases: ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
