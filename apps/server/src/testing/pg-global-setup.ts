import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { stopCluster } from './pg-cluster';

/**
 * vitest global setup of the server project: a state directory for the run's throwaway PostgreSQL
 * cluster. Nothing starts here — the first test file that asks for PostgreSQL starts the cluster
 * (testing/pg.ts), so runs without PostgreSQL tests pay nothing; the teardown stops it and removes it.
 */
export default function setup(project: TestProject): () => void {
  const stateDir = mkdtempSync(join(tmpdir(), 'parley-pg-'));
  project.provide('parleyPgStateDir', stateDir);
  return () => stopCluster(stateDir);
}
