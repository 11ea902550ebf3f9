/**
 * Workspace settings: one document in the database, read by everyone, changed by admins, each change
 * an event (`settings.updated`). Each feature adds its field here with a default.
 */
import { z } from 'zod';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'Use a 24-hour time like 08:00');

export const settingsSchema = z.object({
  /** New conversations (first inbound) go to an online agent in turn, or stay unassigned. */
  autoAssign: z.enum(['off', 'round-robin']),
  /** Round-robin skips agents who already have this many open conversations. */
  maxOpenPerAgent: z.number().int().min(1, 'At least 1').max(10_000, 'At most 10000'),
  /** Marketing sends only inside this window of the recipient's local time; null: no window. */
  quietHours: z
    .object({ start: hhmm, end: hhmm })
    .refine((w) => w.start !== w.end, { message: 'Start and end must differ', path: ['end'] })
    .nullable(),
  /** Messages older than this many days are deleted by a daily job; null: kept forever. */
  retentionDays: z.number().int().min(1, 'At least 1 day').max(36_500, 'At most 36500 days').nullable(),
  /** The answer to HELP/INFO; null: the server's HELP_TEXT (or its default). */
  helpText: z.string().trim().min(1, 'Write the HELP answer').max(1000, 'At most 1000 characters').nullable(),
});

export type Settings = z.infer<typeof settingsSchema>;

export interface SettingsDto extends Settings {
  /** When an admin last changed them (ISO), and who; null while they are the defaults. */
  updatedAt: string | null;
  updatedBy: number | null;
}

/** Any subset of the fields; at least one. */
export const settingsUpdateInput = settingsSchema
  .partial()
  .refine((patch) => Object.values(patch).some((v) => v !== undefined), 'Change at least one setting');
export type SettingsUpdate = z.infer<typeof settingsUpdateInput>;
