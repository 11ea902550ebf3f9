import { sql, type SQL } from 'drizzle-orm';
import { conversations, messages } from './schema';

/** A LIKE pattern matching `text` anywhere (\ escapes %, _ and itself: PostgreSQL's default LIKE escape). */
export const containingPattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * PostgreSQL's counterpart of the inbox search's message condition (domain/conversation.ts,
 * textCondition): conversations with a message containing `text`, case-insensitively. ILIKE is served
 * by the pg_trgm GIN index messages_text_trgm_idx for three characters or more (SQLite: the
 * messages_fts trigram table); shorter patterns have no trigram and are a scan, as on SQLite. Note
 * ILIKE, not LIKE: PostgreSQL's LIKE is case-sensitive where SQLite's folds ASCII.
 */
export function pgMessageTextCondition(text: string): SQL {
  return sql`${conversations.id} in (select ${messages.conversationId} from ${messages} where ${messages.text} ilike ${containingPattern(text)})`;
}
