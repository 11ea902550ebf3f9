import { ConfigError, loadConfig } from './config';
import { createServer } from './server';

/** postgres://user:…@host/db for the log: never the password. */
function redactedUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const parley = await createServer(config);
  parley.logger.info(
    { url: parley.url, provider: config.provider, database: config.databaseUrl ? redactedUrl(config.databaseUrl) : config.databasePath },
    'Parley is listening',
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const graceMs = config.live.shutdownGraceMs;
    parley.logger.info({ signal, graceMs }, 'shutting down: draining (healthz 503), finishing in-flight requests');
    // close() ends streams after the grace; this only guards against a step that never returns.
    const limitMs = graceMs + 10_000;
    const force = setTimeout(() => {
      parley.logger.error(`shutdown took over ${limitMs / 1000} s; exiting`);
      process.exit(1);
    }, limitMs);
    force.unref();
    parley
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        parley.logger.error({ err }, 'error during shutdown');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
