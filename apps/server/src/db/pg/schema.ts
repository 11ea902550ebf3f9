import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';

/*
 * The PostgreSQL schema: the same tables, columns, indexes, unique constraints and foreign keys as
 * ../schema.ts (SQLite), under the same names. SQLite's 64-bit integers are bigint here where they hold
 * ids, ids of other rows or epoch-millisecond times (read as JS numbers, like on SQLite); its 0/1
 * booleans are boolean. pg-schema-parity.test.ts fails while the two differ: change both together,
 * then `pnpm db:generate` and `pnpm db:generate:pg`.
 *
 * Hand-written SQL beside the generated migrations (./migrations): the stats rollup triggers
 * (SQLite's 0012) and the pg_trgm search index (SQLite's messages_fts, 0005).
 */

/** Every timestamp is epoch milliseconds (UTC); the wire converts to ISO-8601. */
const ms = (name: string) => bigint(name, { mode: 'number' });
/** Ids are 64-bit like SQLite's rowids; `by default` so a row may still be written with a given id (as on SQLite). */
const id = () => bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity();
/** A column holding another row's id (or an event id): 64-bit like the ids themselves. */
const ref = (name: string) => bigint(name, { mode: 'number' });

export const contacts = pgTable('contacts', {
  id: id(),
  phone: text('phone').notNull().unique(),
  name: text('name'),
  optedOutAt: ms('opted_out_at'),
  optOutSource: text('opt_out_source'),
  createdAt: ms('created_at').notNull(),
});

export const conversations = pgTable(
  'conversations',
  {
    id: id(),
    contactId: ref('contact_id')
      .notNull()
      .references(() => contacts.id),
    ourNumber: text('our_number').notNull(),
    /** The provider of our_number when the conversation began (replies route by the number's current provider). */
    provider: text('provider', { enum: ['vonage', 'plivo', 'sinch'] })
      .notNull()
      .default('vonage'),
    status: text('status', { enum: ['open', 'pending', 'snoozed', 'closed'] })
      .notNull()
      .default('open'),
    /** While status is 'snoozed': when it reopens by itself (the snooze waker scans for it). */
    snoozeUntil: ms('snooze_until'),
    assignedAgentId: ref('assigned_agent_id'),
    lastMessageAt: ms('last_message_at'),
    lastMessagePreview: text('last_message_preview'),
    lastMessageDirection: text('last_message_direction', { enum: ['in', 'out'] }),
    unreadCount: integer('unread_count').notNull().default(0),
    /** A text that reads like an opt-out ("please stop texting me") flagged it: when, and which message. Cleared when an agent resolves it. */
    possibleOptOutAt: ms('possible_opt_out_at'),
    possibleOptOutMessageId: ref('possible_opt_out_message_id'),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('conversations_contact_number_uq').on(t.contactId, t.ourNumber),
    index('conversations_last_message_idx').on(t.lastMessageAt, t.id),
    index('conversations_status_last_idx').on(t.status, t.lastMessageAt, t.id),
    index('conversations_number_last_idx').on(t.ourNumber, t.lastMessageAt, t.id),
    // The snooze waker's due-time scan: snoozed conversations by wake-up time.
    index('conversations_snooze_idx')
      .on(t.snoozeUntil)
      .where(sql`status = 'snoozed'`),
    // The "Possible opt-out" list: flagged conversations only, in the list's order.
    index('conversations_possible_opt_out_idx')
      .on(t.lastMessageAt, t.id)
      .where(sql`possible_opt_out_at is not null`),
  ],
);

export const messages = pgTable(
  'messages',
  {
    id: id(),
    conversationId: ref('conversation_id')
      .notNull()
      .references(() => conversations.id),
    direction: text('direction', { enum: ['in', 'out'] }).notNull(),
    providerMessageUuid: text('provider_message_uuid').unique(),
    clientRef: text('client_ref').unique(),
    from: text('from').notNull(),
    to: text('to').notNull(),
    text: text('text').notNull(),
    encoding: text('encoding', { enum: ['gsm7', 'ucs2'] }).notNull(),
    segments: integer('segments').notNull(),
    status: text('status').notNull(),
    statusAt: ms('status_at').notNull(),
    errorCode: text('error_code'),
    errorTitle: text('error_title'),
    errorDetail: text('error_detail'),
    errorReason: text('error_reason'),
    price: text('price'),
    currency: text('currency'),
    agentId: ref('agent_id'),
    campaignId: ref('campaign_id'),
    providerTimestamp: ms('provider_timestamp'),
    /** Send later: while status is 'scheduled', when the due scan queues it. */
    sendAt: ms('send_at'),
    /** A retry: the failed message it resends (one retry per original). */
    retryOf: ref('retry_of'),
    /** A scheduled message due outside the recipient's quiet-hours window waits until then. */
    heldUntil: ms('held_until'),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [
    // The scheduled-send due scan: scheduled messages by due time.
    index('messages_scheduled_idx')
      .on(t.sendAt)
      .where(sql`status = 'scheduled'`),
    uniqueIndex('messages_retry_of_uq')
      .on(t.retryOf)
      .where(sql`retry_of is not null`),
    index('messages_conversation_created_idx').on(t.conversationId, t.createdAt, t.id),
    // stats.summary: one created_at range per (direction, status) — counts and durations that never
    // touch the table (covering), no per-row expressions.
    index('messages_stats_idx').on(t.direction, t.status, t.createdAt, t.statusAt),
    // A campaign's counts by status (covering; only campaign messages are indexed).
    index('messages_campaign_status_idx')
      .on(t.campaignId, t.status, t.errorCode)
      .where(sql`campaign_id is not null`),
  ],
);

export const messageStatusHistory = pgTable(
  'message_status_history',
  {
    id: id(),
    /** null while the status is an orphan (no message known for its uuid or client_ref yet). */
    messageId: ref('message_id').references(() => messages.id),
    providerMessageUuid: text('provider_message_uuid').notNull(),
    clientRef: text('client_ref'),
    status: text('status').notNull(),
    providerTimestamp: ms('provider_timestamp').notNull(),
    receivedAt: ms('received_at').notNull(),
    /** true when the message's own status moved because of this row. */
    applied: boolean('applied').notNull().default(false),
    raw: text('raw').notNull(),
  },
  (t) => [
    // One row per (uuid, status, provider time): a redelivery of the same webhook adds nothing.
    uniqueIndex('status_history_dedupe_uq').on(t.providerMessageUuid, t.status, t.providerTimestamp),
    index('status_history_message_idx').on(t.messageId),
    index('status_history_orphan_ref_idx')
      .on(t.clientRef)
      .where(sql`message_id is null`),
  ],
);

export const webhookLog = pgTable(
  'webhook_log',
  {
    id: id(),
    path: text('path').notNull(),
    receivedAt: ms('received_at').notNull(),
    signatureOk: boolean('signature_ok').notNull(),
    /** Request headers as JSON; credentials (Authorization, Cookie, signature headers) redacted to their length. */
    headers: text('headers').notNull(),
    /** The body, or for an unauthenticated refusal only its first bytes (WEBHOOK_LOG_EXCERPT_BYTES). */
    rawBody: text('raw_body').notNull(),
    /** Hex SHA-256 and byte length of the whole body as received (null on rows written before they were kept). */
    bodySha256: text('body_sha256'),
    bodyBytes: integer('body_bytes'),
    httpStatus: integer('http_status').notNull(),
    outcome: text('outcome').notNull(),
    error: text('error'),
    /**
     * The signature headers' full values (Authorization's JWT, X-Plivo-Signature-*, X-Sinch-Webhook-Signature)
     * as JSON, so a refusal can be verified again on replay. Per-request MACs, not our secrets; never sent to a browser.
     */
    signatureHeaders: text('signature_headers'),
    /** The last replay (webhookLog.replay): when, and what it came to (outcome, HTTP status a live request would get, why). */
    replayedAt: ms('replayed_at'),
    replayOutcome: text('replay_outcome'),
    replayStatus: integer('replay_status'),
    replayError: text('replay_error'),
    /** An admin set the refusal aside (webhookLog.dismiss): it no longer needs review. */
    dismissedAt: ms('dismissed_at'),
  },
  (t) => [index('webhook_log_received_idx').on(t.receivedAt)],
);

/** One row, rewritten by /healthz at most every few seconds: proves the database still takes writes. */
export const healthProbe = pgTable('health_probe', {
  id: bigint('id', { mode: 'number' }).primaryKey(),
  checkedAt: ms('checked_at').notNull(),
});

export const events = pgTable('events', {
  id: id(),
  type: text('type').notNull(),
  payload: text('payload').notNull(),
  createdAt: ms('created_at').notNull(),
});

export const agents = pgTable('agents', {
  id: id(),
  email: text('email').notNull().unique(),
  name: text('name').notNull(),
  passwordHash: text('password_hash').notNull(),
  role: text('role', { enum: ['admin', 'agent'] })
    .notNull()
    .default('agent'),
  disabledAt: ms('disabled_at'),
  /** Last sign-in or presence heartbeat (refreshed at most once a minute). */
  lastSeenAt: ms('last_seen_at'),
  /** The agent's notification choices as JSON (see domain/team.ts); null: the defaults. */
  preferences: text('preferences'),
  createdAt: ms('created_at').notNull(),
});

/** One-time links: an invitation or a password reset. Only the SHA-256 of the token is kept. */
export const agentInvites = pgTable(
  'agent_invites',
  {
    id: id(),
    tokenHash: text('token_hash').notNull().unique(),
    agentId: ref('agent_id')
      .notNull()
      .references(() => agents.id),
    kind: text('kind', { enum: ['invite', 'reset'] }).notNull(),
    expiresAt: ms('expires_at').notNull(),
    usedAt: ms('used_at'),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [index('agent_invites_agent_idx').on(t.agentId)],
);

/** Private notes between agents in a thread: never sent, never counted as messages. */
export const notes = pgTable(
  'notes',
  {
    id: id(),
    conversationId: ref('conversation_id')
      .notNull()
      .references(() => conversations.id),
    agentId: ref('agent_id')
      .notNull()
      .references(() => agents.id),
    text: text('text').notNull(),
    /** JSON array of the mentioned agents' ids. */
    mentions: text('mentions').notNull().default('[]'),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [index('notes_conversation_created_idx').on(t.conversationId, t.createdAt, t.id)],
);

export const sessions = pgTable(
  'sessions',
  {
    /** SHA-256 of the cookie's token; the token itself is never stored. */
    tokenHash: text('token_hash').primaryKey(),
    agentId: ref('agent_id')
      .notNull()
      .references(() => agents.id),
    expiresAt: ms('expires_at').notNull(),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [index('sessions_agent_idx').on(t.agentId)],
);

export const apiTokens = pgTable('api_tokens', {
  id: id(),
  name: text('name').notNull(),
  /** SHA-256 of the token; shown once at creation. */
  tokenHash: text('token_hash').notNull().unique(),
  /** First characters, to tell tokens apart in a list. */
  prefix: text('prefix').notNull(),
  agentId: ref('agent_id')
    .notNull()
    .references(() => agents.id),
  lastUsedAt: ms('last_used_at'),
  revokedAt: ms('revoked_at'),
  createdAt: ms('created_at').notNull(),
  /** Comma-separated scopes: read, send, admin (tokens made before scopes existed: read,send). */
  scopes: text('scopes').notNull().default('read,send'),
  /** After this the token no longer authenticates; null: it does not expire. */
  expiresAt: ms('expires_at'),
});

export const outbox = pgTable(
  'outbox',
  {
    messageId: ref('message_id')
      .primaryKey()
      .references(() => messages.id),
    /** Which provider's worker sends it (each provider has its own rate limit). */
    provider: text('provider', { enum: ['vonage', 'plivo', 'sinch'] })
      .notNull()
      .default('vonage'),
    /** Lower sends first: agents' replies (0) before campaign messages (10). */
    priority: integer('priority').notNull().default(0),
    /** queued → sending (claimed); held: a paused campaign's row, not claimed until resumed. */
    state: text('state', { enum: ['queued', 'sending', 'held'] })
      .notNull()
      .default('queued'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ms('next_attempt_at').notNull(),
    lastError: text('last_error'),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [index('outbox_due_idx').on(t.provider, t.state, t.priority, t.nextAttemptAt)],
);

/** Signature nonces already accepted (Plivo V3, Sinch HMAC), kept a day so a captured request cannot be replayed. */
export const webhookNonces = pgTable(
  'webhook_nonces',
  {
    provider: text('provider').notNull(),
    nonce: text('nonce').notNull(),
    seenAt: ms('seen_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.nonce] }), index('webhook_nonces_seen_idx').on(t.seenAt)],
);

/** One text sent to many people (issue 5). Recipients are written at creation; the feeder queues them a window at a time. */
export const campaigns = pgTable('campaigns', {
  id: id(),
  name: text('name').notNull(),
  text: text('text').notNull(),
  status: text('status', { enum: ['running', 'paused', 'done', 'cancelled'] }).notNull(),
  ourNumber: text('our_number').notNull(),
  provider: text('provider', { enum: ['vonage', 'plivo', 'sinch'] }).notNull(),
  encoding: text('encoding', { enum: ['gsm7', 'ucs2'] }).notNull(),
  segments: integer('segments').notNull(),
  /** Rows given, and how many of them were invalid, duplicates or opted out at creation. */
  totalCount: integer('total_count').notNull(),
  invalidCount: integer('invalid_count').notNull(),
  duplicateCount: integer('duplicate_count').notNull(),
  skippedCount: integer('skipped_count').notNull(),
  createdByAgentId: ref('created_by_agent_id'),
  createdAt: ms('created_at').notNull(),
  updatedAt: ms('updated_at').notNull(),
  finishedAt: ms('finished_at'),
  /** false: an admin switched quiet hours off for this campaign (audited). */
  quietHours: boolean('quiet_hours').notNull().default(true),
});

export const campaignRecipients = pgTable(
  'campaign_recipients',
  {
    id: id(),
    campaignId: ref('campaign_id')
      .notNull()
      .references(() => campaigns.id),
    /** 1-based CSV line (header = 1) or array index + 1. */
    line: integer('line').notNull(),
    /** The phone as given. */
    input: text('input').notNull(),
    /** E.164; null when invalid. */
    phone: text('phone'),
    name: text('name'),
    /**
     * pending (not handed to the outbox yet) → queued (a message exists: its status is the live
     * state), or skipped | invalid | duplicate | cancelled.
     */
    state: text('state', { enum: ['pending', 'held', 'queued', 'skipped', 'invalid', 'duplicate', 'cancelled'] }).notNull(),
    reason: text('reason'),
    /** state 'held': outside the recipient's quiet-hours window; pending again from this time. */
    heldUntil: ms('held_until'),
    messageId: ref('message_id').references(() => messages.id),
    contactId: ref('contact_id'),
  },
  (t) => [
    index('campaign_recipients_state_idx').on(t.campaignId, t.state, t.id),
    // The feeder's release of held recipients whose window opened.
    index('campaign_recipients_held_idx')
      .on(t.campaignId, t.heldUntil)
      .where(sql`state = 'held'`),
  ],
);

/** Workspace settings: one row (id 1), the document as JSON; missing fields take their defaults. */
export const settings = pgTable('settings', {
  id: bigint('id', { mode: 'number' }).primaryKey(),
  value: text('value').notNull(),
  updatedAt: ms('updated_at').notNull(),
  updatedBy: ref('updated_by').references(() => agents.id),
});

/** Canned replies, shared by the workspace: `/shortcut` in the composer inserts `text` with its fields filled. */
export const cannedReplies = pgTable('canned_replies', {
  id: id(),
  shortcut: text('shortcut').notNull().unique(),
  text: text('text').notNull(),
  createdBy: ref('created_by'),
  createdAt: ms('created_at').notNull(),
  updatedAt: ms('updated_at').notNull(),
});

/**
 * Who did what and when (admin actions, consent changed by hand, exports, erasures). Append-only:
 * rows are written by domain/audit.ts inside the write transaction of the action itself, and no
 * code path updates or deletes them.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: id(),
    at: ms('at').notNull(),
    agentId: ref('agent_id'),
    via: text('via', { enum: ['session', 'token', 'system'] }).notNull(),
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    /** JSON object, or null. */
    detail: text('detail'),
  },
  (t) => [index('audit_log_action_idx').on(t.action, t.id)],
);

/**
 * Stats rollups (stats.summary reads these, not millions of messages). Kept by triggers on
 * `messages` inside every write's own transaction (SQLite migration 0012; here a plpgsql trigger): an insert adds to its row, a
 * status change moves the count from the old row to the new one. A delete (erasure, retention)
 * subtracts nothing: aggregate counts outlive the messages they counted.
 */
export const statsHourly = pgTable(
  'stats_hourly',
  {
    /** floor(created_at / 1 h). */
    hour: bigint('hour', { mode: 'number' }).notNull(),
    direction: text('direction').notNull(),
    status: text('status').notNull(),
    n: bigint('n', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.hour, t.direction, t.status] })],
);

/** Delivered outbound messages per created day by time-to-delivered, on a log scale (1/100 decade). */
export const statsDeliveryDaily = pgTable(
  'stats_delivery_daily',
  {
    day: bigint('day', { mode: 'number' }).notNull(),
    /** round(100 · log10(max(1, status_at − created_at))). */
    bucket: integer('bucket').notNull(),
    n: bigint('n', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.day, t.bucket] })],
);

/** The same per created hour: read only for the partial days at a range's edges. */
export const statsDeliveryHourly = pgTable(
  'stats_delivery_hourly',
  {
    hour: bigint('hour', { mode: 'number' }).notNull(),
    bucket: integer('bucket').notNull(),
    n: bigint('n', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.hour, t.bucket] })],
);

/** Failed outbound messages per created hour by error code ('' for none) and reason. */
export const statsFailuresHourly = pgTable(
  'stats_failures_hourly',
  {
    hour: bigint('hour', { mode: 'number' }).notNull(),
    code: text('code').notNull(),
    reason: text('reason').notNull(),
    n: bigint('n', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.hour, t.code, t.reason] })],
);

/**
 * MMS attachments (issue 15): one row per attachment. Inbound: written `pending` with the provider's
 * URL in the webhook's own transaction, then downloaded by the media fetcher (retried with backoff)
 * into the media store → `stored`, or `refused` with a reason (the message is kept either way).
 * Outbound: uploaded by an agent (`POST /media`, stored at once, no message yet), attached by
 * message.send.
 */
export const media = pgTable(
  'media',
  {
    id: id(),
    /** null: uploaded, not attached to a message yet. */
    messageId: ref('message_id').references(() => messages.id),
    direction: text('direction', { enum: ['in', 'out'] }).notNull(),
    state: text('state', { enum: ['pending', 'stored', 'refused'] }).notNull(),
    reason: text('reason'),
    /** Inbound: whose URL it is (the download authenticates as that provider's account). */
    provider: text('provider', { enum: ['vonage', 'plivo', 'sinch'] }),
    sourceUrl: text('source_url'),
    /** What the provider or uploader said it is (kept for the record; the stored type is sniffed). */
    claimedType: text('claimed_type'),
    /** The type found in the bytes (stored only). */
    contentType: text('content_type'),
    size: integer('size').notNull().default(0),
    name: text('name'),
    sha256: text('sha256'),
    /** File name inside MEDIA_DIR (stored only). */
    storageKey: text('storage_key'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ms('next_attempt_at'),
    /** Outbound: who uploaded it. */
    agentId: ref('agent_id'),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [
    index('media_message_idx').on(t.messageId),
    index('media_pending_idx')
      .on(t.nextAttemptAt)
      .where(sql`state = 'pending'`),
  ],
);

/**
 * The consent ledger: every opt-out and opt-in of a contact, one row each, appended in the same
 * transaction as the change (domain/consent.ts) and never updated. Rows outlive an erased contact
 * (they hold no number, no text: only ids, times and how).
 */
export const consentLedger = pgTable(
  'consent_ledger',
  {
    id: id(),
    contactId: ref('contact_id').notNull(),
    at: ms('at').notNull(),
    state: text('state', { enum: ['opted_out', 'opted_in'] }).notNull(),
    source: text('source', { enum: ['keyword', 'agent', 'import', 'api', 'erasure'] }).notNull(),
    /** keyword: the inbound message that carried it. */
    messageId: ref('message_id'),
    /** agent: who. */
    agentId: ref('agent_id'),
  },
  (t) => [index('consent_ledger_contact_idx').on(t.contactId, t.id)],
);

/**
 * What erasure keeps of a number: its keyed hash (HMAC-SHA256 with the suppression key, see
 * domain/suppression.ts) and its opt-out state, so an erased number that had opted out is still
 * never texted. Nothing readable of the number remains.
 */
export const suppressionList = pgTable('suppression_list', {
  hash: text('hash').primaryKey(),
  state: text('state', { enum: ['opted_out', 'opted_in'] }).notNull(),
  /** When it opted out (null when opted in). */
  optedOutAt: ms('opted_out_at'),
  updatedAt: ms('updated_at').notNull(),
});

/** Secrets Parley generates for itself and keeps with its data (the suppression key when SUPPRESSION_SECRET is unset; the key's check value). */
export const appSecrets = pgTable('app_secrets', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
  createdAt: ms('created_at').notNull(),
});

/**
 * Provider ids and client refs of erased messages, as keyed hashes (like the suppression list), for
 * a week: a delivery report that arrives after the erasure is dropped instead of being kept as an
 * orphan with the number in its payload.
 */
export const erasedMessageRefs = pgTable(
  'erased_message_refs',
  {
    hash: text('hash').primaryKey(),
    erasedAt: ms('erased_at').notNull(),
  },
  (t) => [index('erased_message_refs_at_idx').on(t.erasedAt)],
);

/**
 * Outbound webhook endpoints (admin-registered). `cursor` is the last event id delivered (or passed
 * over as not wanted): delivery resumes after it, also after a restart. Secrets are kept encrypted
 * (AES-256-GCM, the key in a file beside the database; domain/webhook-endpoints.ts) and never read back
 * to a client after creation or rotation.
 */
export const webhookEndpoints = pgTable('webhook_endpoints', {
  id: id(),
  url: text('url').notNull(),
  /** JSON array of event types. */
  events: text('events').notNull(),
  description: text('description').notNull().default(''),
  enabled: boolean('enabled').notNull().default(true),
  disabledReason: text('disabled_reason'),
  cursor: ref('cursor').notNull().default(0),
  /** Consecutive failed attempts at the event after `cursor`, and when the next one is due. */
  failures: integer('failures').notNull().default(0),
  nextAttemptAt: ms('next_attempt_at'),
  secret: text('secret').notNull(),
  /** After a rotation: the old secret, still signing (beside the new one) until `previous_secret_until`. */
  previousSecret: text('previous_secret'),
  previousSecretUntil: ms('previous_secret_until'),
  createdBy: ref('created_by'),
  createdAt: ms('created_at').notNull(),
  updatedAt: ms('updated_at').notNull(),
});

/** Delivery attempts, the newest few hundred per endpoint (older ones are pruned). */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: id(),
    endpointId: ref('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    eventId: ref('event_id'),
    webhookId: text('webhook_id').notNull(),
    eventType: text('event_type').notNull(),
    attempt: integer('attempt').notNull(),
    status: text('status', { enum: ['succeeded', 'failed'] }).notNull(),
    responseStatus: integer('response_status'),
    responseExcerpt: text('response_excerpt'),
    error: text('error'),
    latencyMs: integer('latency_ms').notNull(),
    at: ms('at').notNull(),
  },
  (t) => [index('webhook_deliveries_endpoint_idx').on(t.endpointId, t.id)],
);

/** Durable bookkeeping of periodic jobs (the retention job's last run), so a restart knows what is overdue. */
export const jobRuns = pgTable('job_runs', {
  name: text('name').primaryKey(),
  lastRunAt: ms('last_run_at').notNull(),
  /** What the last run did, as JSON (e.g. rows deleted, batches, longest batch). */
  result: text('result'),
});

/** Leases (see db/schema.ts). */
export const leases = pgTable('leases', {
  name: text('name').primaryKey(),
  holder: text('holder').notNull(),
  until: ms('until').notNull(),
});

/** Failed sign-in counts (see db/schema.ts). */
export const loginWindows = pgTable('login_windows', {
  key: text('key').primaryKey(),
  failures: integer('failures').notNull(),
  startedAt: ms('started_at').notNull(),
});
