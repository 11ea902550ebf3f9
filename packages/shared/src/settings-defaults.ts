/** Settings defaults, without zod (the web app imports them; see team-constants.ts for why). */
import type { Settings } from './settings';

export const DEFAULT_SETTINGS: Settings = {
  autoAssign: 'off',
  maxOpenPerAgent: 20,
  quietHours: { start: '08:00', end: '21:00' },
  retentionDays: null,
  helpText: null,
};
