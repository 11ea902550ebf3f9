/** The media store: attachments as files in one folder (MEDIA_DIR), each under a random name, written whole or not at all. */
import { randomUUID, createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, existsSync } from 'node:fs';
import { rename, writeFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Config } from '../config';

export interface MediaStore {
  readonly dir: string;
  /** Writes the bytes (temp file, then rename) and answers the key and its SHA-256. */
  put(bytes: Uint8Array, ext: string): Promise<{ key: string; sha256: string }>;
  /** The file's path for a key written by put (null for a key that is not one of ours). */
  pathOf(key: string): string | null;
  /** Deletes the file of a key (erasure, retention); a file already gone is fine. */
  remove(key: string): Promise<void>;
}

/** MEDIA_DIR, else `media` beside the database (a fresh temp folder for `:memory:`). */
export function resolveMediaDir(config: Config): string {
  if (config.media.dir) return config.media.dir;
  // PostgreSQL: ./data/media (several instances need one shared MEDIA_DIR: README, Operations).
  if (config.databaseUrl) return join('data', 'media');
  if (config.databasePath === ':memory:') return mkdtempSync(join(tmpdir(), 'parley-media-'));
  return join(dirname(config.databasePath), 'media');
}

const KEY = /^[0-9a-f-]{36}\.[a-z0-9]{1,8}$/;

export function createMediaStore(dir: string): MediaStore {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  return {
    dir,
    async put(bytes, ext) {
      const key = `${randomUUID()}.${
        ext
          .toLowerCase()
          .replace(/[^a-z0-9]/g, '')
          .slice(0, 8) || 'bin'
      }`;
      const tmp = join(dir, `.${key}.tmp`);
      try {
        await writeFile(tmp, bytes, { mode: 0o600 });
        await rename(tmp, join(dir, key));
      } catch (err) {
        await unlink(tmp).catch(() => {});
        throw err;
      }
      return { key, sha256: createHash('sha256').update(bytes).digest('hex') };
    },
    pathOf(key) {
      return KEY.test(key) ? join(dir, key) : null;
    },
    async remove(key) {
      if (!KEY.test(key)) return;
      await unlink(join(dir, key)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    },
  };
}
