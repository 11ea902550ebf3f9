/**
 * The tables domain code queries, as live bindings: SQLite's (db/schema.ts) by default, PostgreSQL's
 * (db/pg/schema.ts, the same tables, columns and names) once `useTables('pg')` ran, which opening a
 * PostgreSQL store does. One dialect per process. The types stay SQLite's: the two schemas are kept
 * column for column alike (db/pg/schema-parity.test.ts), and drizzle's query builders share their API.
 */
import * as lite from './schema';
import * as pgs from './pg/schema';
import type { Dialect } from './store';

export let contacts = lite.contacts;
export let conversations = lite.conversations;
export let messages = lite.messages;
export let messageStatusHistory = lite.messageStatusHistory;
export let webhookLog = lite.webhookLog;
export let healthProbe = lite.healthProbe;
export let events = lite.events;
export let agents = lite.agents;
export let agentInvites = lite.agentInvites;
export let notes = lite.notes;
export let sessions = lite.sessions;
export let apiTokens = lite.apiTokens;
export let outbox = lite.outbox;
export let webhookNonces = lite.webhookNonces;
export let campaigns = lite.campaigns;
export let campaignRecipients = lite.campaignRecipients;
export let settings = lite.settings;
export let cannedReplies = lite.cannedReplies;
export let auditLog = lite.auditLog;
export let statsHourly = lite.statsHourly;
export let statsDeliveryDaily = lite.statsDeliveryDaily;
export let statsDeliveryHourly = lite.statsDeliveryHourly;
export let statsFailuresHourly = lite.statsFailuresHourly;
export let media = lite.media;
export let consentLedger = lite.consentLedger;
export let suppressionList = lite.suppressionList;
export let appSecrets = lite.appSecrets;
export let erasedMessageRefs = lite.erasedMessageRefs;
export let webhookEndpoints = lite.webhookEndpoints;
export let webhookDeliveries = lite.webhookDeliveries;
export let jobRuns = lite.jobRuns;
export let leases = lite.leases;
export let loginWindows = lite.loginWindows;

let current: Dialect = 'sqlite';

/** Which dialect's tables the bindings above hold. */
export function tablesDialect(): Dialect {
  return current;
}

/** Points every binding at one dialect's tables. */
export function useTables(dialect: Dialect): void {
  current = dialect;
  const from = (dialect === 'pg' ? pgs : lite) as unknown as typeof lite;
  contacts = from.contacts;
  conversations = from.conversations;
  messages = from.messages;
  messageStatusHistory = from.messageStatusHistory;
  webhookLog = from.webhookLog;
  healthProbe = from.healthProbe;
  events = from.events;
  agents = from.agents;
  agentInvites = from.agentInvites;
  notes = from.notes;
  sessions = from.sessions;
  apiTokens = from.apiTokens;
  outbox = from.outbox;
  webhookNonces = from.webhookNonces;
  campaigns = from.campaigns;
  campaignRecipients = from.campaignRecipients;
  settings = from.settings;
  cannedReplies = from.cannedReplies;
  auditLog = from.auditLog;
  statsHourly = from.statsHourly;
  statsDeliveryDaily = from.statsDeliveryDaily;
  statsDeliveryHourly = from.statsDeliveryHourly;
  statsFailuresHourly = from.statsFailuresHourly;
  media = from.media;
  consentLedger = from.consentLedger;
  suppressionList = from.suppressionList;
  appSecrets = from.appSecrets;
  erasedMessageRefs = from.erasedMessageRefs;
  webhookEndpoints = from.webhookEndpoints;
  webhookDeliveries = from.webhookDeliveries;
  jobRuns = from.jobRuns;
  leases = from.leases;
  loginWindows = from.loginWindows;
}
