/**
 * Sandbox only: stands in for a provider's media storage. A simulated inbound MMS's files are kept
 * here (in memory, the newest few) and served at `/sandbox/media/:key`, so the media fetcher downloads
 * them over HTTP exactly as it would from a provider.
 */
import { randomUUID } from 'node:crypto';
import express, { type Router } from 'express';

const KEEP = 50;

export interface SandboxMediaHost {
  router: Router;
  /** Keeps the bytes and answers the URL they are served at. */
  host(bytes: Buffer, contentType: string): string;
}

export function createSandboxMediaHost(baseUrl: string): SandboxMediaHost {
  const files = new Map<string, { bytes: Buffer; contentType: string }>();
  const router = express.Router();
  router.get('/sandbox/media/:key', (req, res) => {
    const file = files.get(String(req.params.key));
    if (!file) return void res.status(404).json({ error: 'no such sandbox file' });
    // Served as the "provider" claims it is: Parley must judge it by its bytes.
    res.status(200).set({ 'Content-Type': file.contentType, 'X-Content-Type-Options': 'nosniff' }).send(file.bytes);
  });
  return {
    router,
    host(bytes, contentType) {
      const key = randomUUID();
      files.set(key, { bytes, contentType });
      while (files.size > KEEP) files.delete(files.keys().next().value as string);
      return `${baseUrl}/sandbox/media/${key}`;
    },
  };
}
