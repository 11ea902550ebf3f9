/** The team inbox (issue 12): agents and roles, private notes, presence and notification preferences. */
import { z } from 'zod';
import { MAX_NOTE_CHARS, MIN_PASSWORD_CHARS } from './team-constants';

export { DEFAULT_PREFERENCES, MAX_NOTE_CHARS, MIN_PASSWORD_CHARS } from './team-constants';

/** A new password: at least 10 characters (the message says so). */
export const newPasswordSchema = z
  .string()
  .min(MIN_PASSWORD_CHARS, `Use at least ${MIN_PASSWORD_CHARS} characters for the password`)
  .max(1024, 'The password is too long (1024 characters at most)');

export const agentRoleSchema = z.enum(['admin', 'agent']);
export type AgentRole = z.infer<typeof agentRoleSchema>;

const agentName = z.string().trim().min(1, 'Enter a name').max(100, 'The name is too long (100 characters at most)');
const agentId = z.number().int().positive();

export const inviteAgentInput = z.object({
  email: z
    .string()
    .trim()
    .max(320)
    .pipe(z.email({ message: 'Enter a valid email address' })),
  name: agentName,
  role: agentRoleSchema.default('agent'),
});

export const acceptInviteInput = z.object({
  token: z.string().min(1, 'The link has no token').max(200),
  password: newPasswordSchema,
});

export const updateAgentInput = z
  .object({ id: agentId, name: agentName.optional(), role: agentRoleSchema.optional() })
  .refine((v) => v.name !== undefined || v.role !== undefined, { message: 'Give a new name or role' });

export const setAgentDisabledInput = z.object({ id: agentId, disabled: z.boolean() });
export const agentIdInput = z.object({ id: agentId });

export const changePasswordInput = z.object({
  currentPassword: z.string().min(1, 'Enter your current password').max(1024),
  newPassword: newPasswordSchema,
});

export const addNoteInput = z.object({
  conversationId: z.number().int().positive(),
  text: z.string().trim().min(1, 'Write a note').max(MAX_NOTE_CHARS, `A note is at most ${MAX_NOTE_CHARS} characters`),
});
export const listNotesInput = z.object({ conversationId: z.number().int().positive() });

export const presenceUpdateInput = z.object({
  conversationId: z.number().int().positive().nullable(),
  typing: z.boolean(),
});

export interface NoteDto {
  id: number;
  conversationId: number;
  agentId: number;
  text: string;
  /** Ids of the agents the note @mentions. */
  mentions: number[];
  createdAt: string;
}

/** One agent's presence: online (conversationId null), viewing a conversation, or typing a reply in it. */
export interface PresenceEntry {
  agentId: number;
  name: string;
  conversationId: number | null;
  typing: boolean;
}

export const preferencesSchema = z.object({
  /** Desktop notifications (the browser also has to grant the permission). */
  desktop: z.boolean(),
  /** A short sound with each notification. */
  sound: z.boolean(),
});
export type AgentPreferences = z.infer<typeof preferencesSchema>;
export const setPreferencesInput = preferencesSchema.partial();
