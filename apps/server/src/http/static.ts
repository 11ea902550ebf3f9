import { existsSync } from 'node:fs';
import path from 'node:path';
import express from 'express';

/** Paths that belong to the API, webhooks and probes: never answered with the web app. */
const NOT_THE_APP = /^\/(trpc|webhooks|healthz|metrics)(\/|$)/;

/**
 * Serves the built web inbox from `distDir`: hashed assets cached for a year, index.html never, and a
 * single-page fallback (index.html) for any other GET that accepts HTML. Returns false, adding
 * nothing, when the web app has not been built.
 */
export function serveWebApp(app: express.Express, distDir: string): boolean {
  const index = path.join(distDir, 'index.html');
  if (!existsSync(index)) return false;

  app.use('/assets', express.static(path.join(distDir, 'assets'), { immutable: true, maxAge: '1y', index: false, fallthrough: true }));
  app.use(
    express.static(distDir, {
      index: false,
      setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache'),
    }),
  );
  app.use((req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || NOT_THE_APP.test(req.path) || !(req.headers.accept ?? '').includes('text/html'))
      return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  return true;
}
