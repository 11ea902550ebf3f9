import { defineConfig } from 'drizzle-kit';

/** PostgreSQL migrations (`pnpm db:generate:pg`); SQLite's are drizzle.config.ts. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/pg/schema.ts',
  out: './src/db/pg/migrations',
});
