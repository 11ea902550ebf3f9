/**
 * The repository stands on its own: a user clones it alone, so nothing in it may read or point at
 * files outside it, and `.env.example` lists every variable config.ts reads.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SKIP = new Set(['node_modules', '.git', 'dist', 'data', 'screenshots', 'coverage']);
const TEXT = /\.(ts|tsx|mts|mjs|js|json|md|yml|yaml|css|html|sh)$|^run$|^node-suite$|^\.env\.example$/;

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (TEXT.test(name) && name !== 'pnpm-lock.yaml') yield path;
  }
}

describe('the repository is self-contained', () => {
  it('no file reads or points at ../shared, a build machine path or a design document outside the repo', () => {
    const outside = /\.\.\/shared\/|\/work\/|[^.\w]\/\w+\/shared\/|DESIGN\.md/;
    const self = relative(ROOT, fileURLToPath(import.meta.url));
    const hits: string[] = [];
    for (const path of files(ROOT)) {
      const rel = relative(ROOT, path);
      if (rel === self) continue;
      readFileSync(path, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (outside.test(line)) hits.push(`${rel}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(hits).toEqual([]);
  });

  it('keeps the provider fixtures the tests use, each folder with a README naming its source', () => {
    for (const provider of ['vonage', 'plivo', 'sinch']) {
      const dir = join(ROOT, 'apps/server/test/fixtures', provider);
      expect(readFileSync(join(dir, 'README.md'), 'utf8')).toMatch(/Where these files come from/);
      expect(readdirSync(join(dir, 'examples')).length).toBeGreaterThan(3);
    }
  });

  it('names its package manager and supports Node 20 and Node 26 (the active LTS)', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { packageManager?: string; engines?: { node?: string } };
    expect(pkg.packageManager).toMatch(/^pnpm@12\./);
    expect(pkg.engines?.node).toBe('>=20.19 <27');
    // CI runs the server and shared suites on Node 26 too.
    expect(readFileSync(join(ROOT, '.ci/run'), 'utf8')).toMatch(/node-suite 26\./);
  });

  it('.env.example lists every variable config.ts reads, with its default', () => {
    const source = readFileSync(join(ROOT, 'apps/server/src/config.ts'), 'utf8');
    const schema = source.slice(source.indexOf('const envSchema = z.object({'), source.indexOf('\n});', source.indexOf('const envSchema')));
    const variables = [...schema.matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]);
    expect(variables.length).toBeGreaterThan(20);
    const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
    const listed = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    expect(variables.filter((v) => !listed.has(v))).toEqual([]);
  });
});
