/**
 * Procedure inputs that clients also validate with (forms use the same schema as the server).
 * The server declares them with `.input()`; the web app imports them for its forms.
 */
import { z } from 'zod';
import { CONVERSATION_FILTERS } from './conversation-filters';
import { e164Schema } from './phone';

export const MAX_TEXT_CHARS = 1000;
export const MAX_PAGE = 200;

export const loginInput = z.object({
  email: z.string().trim().min(1, 'Enter your email').max(320),
  password: z.string().min(1, 'Enter your password').max(1024),
});

/** `{ to, text }` starts (or continues) a conversation with a number; `{ conversationId, text }` replies in one. */
export const sendMessageInput = z
  .strictObject({
    to: e164Schema.optional(),
    conversationId: z.number().int().positive().optional(),
    text: z.string(),
    /** With `to`: which of our numbers starts the conversation (default: the configured default). */
    from: e164Schema.optional(),
    /** Send later: an ISO time, in the future and at most a year ahead; the message is `scheduled` until then. */
    sendAt: z.string().max(40).optional(),
    /** MMS: an attachment uploaded with `POST /media` (one per message; the text may then be empty). */
    mediaIds: z.array(z.number().int().positive()).max(1, 'One attachment per message').optional(),
  })
  .refine((v) => (v.to === undefined) !== (v.conversationId === undefined), {
    message: 'Give either `to` (a phone number) or `conversationId`, not both',
  });

export const simulateInboundInput = z
  .object({
    from: e164Schema,
    /** Which of our numbers it is sent to (default: the default number); its provider's webhook path is used. */
    to: e164Schema.optional(),
    text: z.string().max(MAX_TEXT_CHARS),
    /** MMS: attachments as base64 (within the 1 MB tRPC body limit), or `sample: true` for a built-in picture. */
    media: z
      .array(
        z.strictObject({
          contentType: z.string().min(1).max(100),
          base64: z.string().min(1).max(2_000_000),
          name: z.string().max(200).optional(),
        }),
      )
      .max(3)
      .optional(),
    sample: z.boolean().optional(),
  })
  .refine((v) => v.text.trim() !== '' || (v.media?.length ?? 0) > 0 || v.sample === true, {
    message: 'Type a message or attach a picture',
    path: ['text'],
  });

/** Control characters (C0, DEL, C1: a NUL among them) removed: they never belong in a search. */
export function stripControlChars(text: string): string {
  return text.replace(/\p{Cc}+/gu, '');
}

/** A search box's text: up to 200 characters, control characters removed. */
export const searchText = z.string().max(200).transform(stripControlChars);

export const pageCursor = z.string().max(200).nullish();
export const pageLimit = z.number().int().min(1).max(MAX_PAGE).optional();

export const conversationFilter = z.enum(CONVERSATION_FILTERS);

export const conversationListInput = z
  .object({
    filter: conversationFilter.optional(),
    search: searchText.optional(),
    /** Only conversations on this number of ours. */
    number: z.string().max(32).optional(),
    cursor: pageCursor,
    limit: pageLimit,
  })
  .optional();

export const eventStreamInput = z.object({ lastEventId: z.string().regex(/^\d+$/, 'lastEventId is an event id').nullish() }).optional();
