import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const serverDir = fileURLToPath(new URL('../../apps/server/', import.meta.url));
export const webDir = fileURLToPath(new URL('../../apps/web/', import.meta.url));
export const screenshotsDir = fileURLToPath(new URL('../screenshots/', import.meta.url));
