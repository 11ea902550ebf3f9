/**
 * The team inbox's constants, in a module without zod: the web app imports these values, and a
 * value import from team.ts would pull its schemas (and zod, whose JIT probes `new Function`, which
 * the Content-Security-Policy forbids) into the browser bundle.
 */
import type { AgentPreferences } from './team';

export const MIN_PASSWORD_CHARS = 10;
export const MAX_NOTE_CHARS = 4000;
export const DEFAULT_PREFERENCES: AgentPreferences = { desktop: false, sound: false };
