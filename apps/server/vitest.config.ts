import { configDefaults, defineConfig } from 'vitest/config';

/**
 * PARLEY_TEST_DB=pg (`pnpm test:pg`): the suites again on PostgreSQL. Left out there: the tests of
 * SQLite's own machinery (its write lock held by another process, the online file
 * backup) and the PostgreSQL files themselves (db/pg, multi-instance: on PostgreSQL in every run).
 * Single tests of SQLite's files and pragmas inside other files are `itSqlite` (testing/temp-db.ts).
 */
const SQLITE_ONLY = ['src/db/busy.test.ts', 'src/ops/backup.test.ts', 'src/db/pg/**', 'src/multi-instance.test.ts'];
const onPg = process.env.PARLEY_TEST_DB === 'pg';

export default defineConfig({
  test: {
    name: 'server',
    include: ['src/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...(onPg ? SQLITE_ONLY : [])],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // A state directory for the throwaway PostgreSQL cluster the PostgreSQL tests start (testing/pg.ts).
    globalSetup: ['src/testing/pg-global-setup.ts'],
  },
});
