import { MAX_CAMPAIGN_RECIPIENTS, MAX_TEXT_CHARS, countSms, normalizePhone } from '@parley/shared';
import type { CampaignPreviewDto, CampaignRecipientState } from '@parley/shared';
import { AppError } from '../errors';
import { parseRecipientsCsv, type CsvLineError, type RecipientRow } from './campaign-csv';
import { formatUtc } from './views';

/** As `campaign.create` takes them: numbers, `{ phone, name }`, or CSV text. */
export type RecipientsInput = string | (string | { phone: string; name?: string | null | undefined })[];

/** Stored lengths: what was given is kept for the report, cut to these. */
const MAX_INPUT_CHARS = 64;
const MAX_NAME_CHARS = 200;
/** Problems listed in a preview or a create answer (the rest are in `campaign.recipients`). */
export const MAX_PROBLEMS = 100;
/** Rows normalised between looks at the clock (libphonenumber costs ~5-25 µs a number). */
const CHUNK = 200;
/** Normalising yields to the event loop once it has run this long (ms): a loaded machine stays responsive. */
const SLICE_MS = 10;

const PLACEHOLDER = /\{\s*name\s*\}/gi;
const LEADING_PLACEHOLDER = /^[ \t]*\{\s*name\s*\}[ \t]*[,:;]?[ \t]*/i;
const SPACED_PLACEHOLDER = /[ \t]*\{\s*name\s*\}/gi;

export function hasPlaceholder(text: string): boolean {
  PLACEHOLDER.lastIndex = 0;
  return PLACEHOLDER.test(text);
}

/**
 * `{name}` (any case, spaces inside the braces allowed) replaced by the recipient's name; without a
 * name it is removed with the space before it ("Hi {name}, …" → "Hi, …"; "{name}, …" at the start → "…").
 */
export function personalise(text: string, name: string | null): string {
  if (!hasPlaceholder(text)) return text;
  if (name !== null && name !== '') return text.replace(PLACEHOLDER, () => name);
  return text.replace(LEADING_PLACEHOLDER, '').replace(SPACED_PLACEHOLDER, '');
}

/** A row after normalisation: E.164 or the reason it is not a number. */
export interface NormalisedRow {
  line: number;
  input: string;
  name: string | null;
  phone: string | null;
  reason: string | null;
  /** Segments of this recipient's text (personalised). */
  segments: number;
}

/** A row with its state at creation. */
export interface CheckedRow extends NormalisedRow {
  state: Extract<CampaignRecipientState, 'pending' | 'skipped' | 'invalid' | 'duplicate'>;
  contactId: number | null;
}

export interface OptedOutContact {
  id: number;
  optedOutAt: number;
  source: string | null;
}

export interface RecipientReport {
  rows: CheckedRow[];
  counts: CampaignPreviewDto['counts'];
  sendable: number;
  /** Segments of every sendable text (personalised ones counted one by one). */
  totalSegments: number;
  problems: CampaignPreviewDto['problems'];
}

/**
 * The rows of an array or CSV input, before any check, and the CSV lines that could not be read.
 * Throws BAD_REQUEST for a CSV without a header or phone column, or too many rows (a CSV stops being
 * read at the cap).
 */
export async function readRecipients(recipients: RecipientsInput): Promise<{ rows: RecipientRow[]; csvErrors: CsvLineError[] }> {
  if (typeof recipients === 'string') {
    const { rows, errors } = await parseRecipientsCsv(recipients, { maxRows: MAX_CAMPAIGN_RECIPIENTS });
    if (rows.length === 0 && errors.length === 0) throw new AppError('BAD_REQUEST', 'The CSV has a header but no recipients');
    return { rows, csvErrors: errors };
  }
  const rows = recipients.map((r, i) =>
    typeof r === 'string'
      ? { line: i + 1, phone: r.trim(), name: null }
      : { line: i + 1, phone: r.phone.trim(), name: r.name?.trim() || null },
  );
  if (rows.length === 0) throw new AppError('BAD_REQUEST', 'No recipients given');
  if (rows.length > MAX_CAMPAIGN_RECIPIENTS) {
    throw new AppError('BAD_REQUEST', `${rows.length} recipients given; a campaign takes at most ${MAX_CAMPAIGN_RECIPIENTS}`);
  }
  return { rows, csvErrors: [] };
}

/** "line 2: A quoted field opens…; line 9: …" (the first few). */
export function describeCsvErrors(errors: CsvLineError[]): string {
  const shown = errors
    .slice(0, 3)
    .map((e) => `line ${e.line}: ${e.reason}`)
    .join('; ');
  return errors.length > 3 ? `${shown}; and ${errors.length - 3} more` : shown;
}

/**
 * Each row's number normalised to E.164 (possible-number rules), yielding to the event loop between
 * chunks so a 100,000-row list does not stall webhooks. Pure: reads no database.
 */
export async function normaliseRows(rows: RecipientRow[], text: string): Promise<NormalisedRow[]> {
  const personalised = hasPlaceholder(text);
  const baseSegments = Math.max(countSms(text).segments, 1);
  const seen = new Map<string, ReturnType<typeof normalizePhone>>();
  const out: NormalisedRow[] = new Array<NormalisedRow>(rows.length);
  let sliceStart = performance.now();
  for (let i = 0; i < rows.length; i++) {
    if (i > 0 && i % CHUNK === 0 && performance.now() - sliceStart >= SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
    const r = rows[i] as RecipientRow;
    let result = seen.get(r.phone);
    if (!result) {
      result = normalizePhone(r.phone);
      seen.set(r.phone, result);
    }
    const name = r.name === null ? null : r.name.slice(0, MAX_NAME_CHARS);
    let reason = result.ok ? null : result.reason;
    let segments = baseSegments;
    if (reason === null && personalised) {
      const own = personalise(text, name);
      const length = Array.from(own).length;
      if (length > MAX_TEXT_CHARS) reason = `With this name the text is ${length} characters; the limit is ${MAX_TEXT_CHARS}`;
      else if (own.trim() === '') reason = 'Without a name the text is empty';
      else segments = Math.max(countSms(own).segments, 1);
    }
    out[i] = {
      line: r.line,
      input: r.phone.slice(0, MAX_INPUT_CHARS),
      name,
      phone: result.ok && reason === null ? result.e164 : null,
      reason,
      segments,
    };
  }
  return out;
}

const HOW: Record<string, string> = { keyword: 'by texting STOP', agent: 'set by an agent', import: 'imported' };

export function optedOutReason(c: { optedOutAt: number; source: string | null }): string {
  const how = c.source === null ? '' : ` (${HOW[c.source] ?? c.source})`;
  return `Opted out on ${formatUtc(c.optedOutAt)}${how}`;
}

/**
 * States at creation (cheap: map lookups only, run inside the writing transaction): invalid (with the reason), duplicate (a number an earlier row has), skipped
 * (opted out), else pending. `optedOut` maps E.164 → contact; read it in the transaction that writes.
 */
export function classifyRows(rows: NormalisedRow[], optedOut: Map<string, OptedOutContact>): RecipientReport {
  const firstLine = new Map<string, number>();
  const counts = { total: rows.length, invalid: 0, duplicate: 0, skipped: 0 };
  const problems: CampaignPreviewDto['problems'] = [];
  let sendable = 0;
  let totalSegments = 0;

  const checked = rows.map((r): CheckedRow => {
    let state: CheckedRow['state'] = 'pending';
    let reason = r.reason;
    let contactId: number | null = null;
    if (r.phone === null) state = 'invalid';
    else {
      const earlier = firstLine.get(r.phone);
      const stopped = optedOut.get(r.phone);
      if (earlier !== undefined) {
        state = 'duplicate';
        reason = `Same number as line ${earlier}`;
      } else if (stopped) {
        state = 'skipped';
        reason = optedOutReason(stopped);
        contactId = stopped.id;
      }
      if (earlier === undefined) firstLine.set(r.phone, r.line);
    }
    if (state === 'pending') {
      sendable += 1;
      totalSegments += r.segments;
    } else {
      counts[state] += 1;
      if (problems.length < MAX_PROBLEMS) problems.push({ line: r.line, input: r.input, state, reason });
    }
    // A literal of fixed shape (not a spread): this runs 100,000 times inside the writing transaction.
    return { line: r.line, input: r.input, name: r.name, phone: r.phone, reason, segments: r.segments, state, contactId };
  });
  return { rows: checked, counts, sendable, totalSegments, problems };
}
