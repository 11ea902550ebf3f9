import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'server',
    include: ['src/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // A state directory for the throwaway PostgreSQL cluster the PostgreSQL tests start (testing/pg.ts).
    globalSetup: ['src/testing/pg-global-setup.ts'],
  },
});
