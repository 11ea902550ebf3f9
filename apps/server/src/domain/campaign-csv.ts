import { parse, type CsvError } from 'csv-parse';
import { MAX_CAMPAIGN_RECIPIENTS, normalizePhone } from '@parley/shared';
import { AppError } from '../errors';

/** One recipient as given: CSV data row or array entry. */
export interface RecipientRow {
  /** 1-based line in the CSV where the row starts (the header is line 1), or the array index + 1. */
  line: number;
  /** The phone field as given. */
  phone: string;
  /** Trimmed; null when absent or empty. */
  name: string | null;
}

/** Header names taken as the phone column (case-insensitive), in order of preference. */
export const PHONE_COLUMNS = ['phone', 'number', 'mobile', 'msisdn', 'to'] as const;

const DELIMITERS = [',', ';', '\t'] as const;

/** A line of the CSV that could not be read (the recipients on it, and any it swallowed, are not in `rows`). */
export interface CsvLineError {
  /** 1-based line where the unreadable record starts. */
  line: number;
  reason: string;
}

export interface CsvRecipients {
  rows: RecipientRow[];
  /** Empty when the whole file was read; a campaign is never created from a file with errors. */
  errors: CsvLineError[];
}

/** Characters of CSV text handed to the parser at a time (~1-3 ms of parsing). */
const CHUNK_CHARS = 16 * 1024;
/** The parser yields to the event loop once it has run this long (ms). */
const SLICE_MS = 8;
/** One record longer than this is refused (a runaway quote cannot buffer the whole upload as one field). */
const MAX_RECORD_CHARS = 256 * 1024;
/** The delimiter is detected within this many characters of the start. */
const DETECT_CHARS = 64 * 1024;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Reads recipients from CSV text with csv-parse, a chunk at a time (yielding to the event loop
 * between chunks, so a 30 MB upload never stalls webhooks), and stops as soon as the row cap is
 * passed. A header row names a phone column (`phone`, `number`, `mobile`, `msisdn`, `to`;
 * case-insensitive, surrounding spaces ignored) and optionally `name`. RFC 4180 quoting (`"a, b"`,
 * `""` for a quote, line breaks inside quotes), CRLF, LF or CR, a UTF-8 BOM, and `;` or tab as the
 * delimiter (whichever the header uses) are accepted; blank lines are ignored. A record that cannot
 * be read (a quote never closed, a runaway record) is reported in `errors` with its line, never
 * silently merged into a neighbour. Throws AppError BAD_REQUEST when there is no header or no phone
 * column, naming what it found, and when there are more than `maxRows` recipients.
 */
export async function parseRecipientsCsv(text: string, opts: { maxRows?: number } = {}): Promise<CsvRecipients> {
  const maxRows = opts.maxRows ?? MAX_CAMPAIGN_RECIPIENTS;
  const bom = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const delimiter = detectDelimiter(text.slice(bom, bom + DETECT_CHARS));

  let header: string[] | undefined;
  let phoneAt = -1;
  let nameAt = -1;
  const rows: RecipientRow[] = [];
  const errors: CsvLineError[] = [];
  let prevEnd = 0;
  let prevEmpty = 0;
  let quotedInRecord = false;
  let overCap: number | undefined;
  let headerProblem: AppError | undefined;
  let runaway = false;

  const parser = parse({
    delimiter,
    record_delimiter: '\n',
    ltrim: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: MAX_RECORD_CHARS,
    cast: (value, context) => {
      if (context.quoting) quotedInRecord = true;
      return value;
    },
    on_record: (record: string[], context) => {
      const line = prevEnd + 1 + (context.empty_lines - prevEmpty);
      prevEnd = context.lines;
      prevEmpty = context.empty_lines;
      const hadQuote = quotedInRecord;
      quotedInRecord = false;
      if (overCap !== undefined || headerProblem !== undefined) return null;
      if (header === undefined) {
        header = record;
        const names = record.map((f) => f.trim().toLowerCase());
        phoneAt = firstIndex(names, PHONE_COLUMNS);
        nameAt = names.indexOf('name');
        if (phoneAt < 0) headerProblem = noPhoneColumn(record);
        return null;
      }
      // Blank: nothing but spaces and delimiters (spreadsheets export empty rows as ',,').
      if (!hadQuote && record.every((f) => f.trim() === '')) return null;
      if (rows.length >= maxRows) {
        overCap = line;
        return null;
      }
      const name = nameAt < 0 ? '' : (record[nameAt] ?? '').trim();
      rows.push({ line, phone: (record[phoneAt] ?? '').trim(), name: name === '' ? null : name });
      return null;
    },
    on_skip: (err: CsvError | undefined) => {
      if (!err || runaway) return;
      const line = prevEnd + 1 + ((numberOf(err, 'empty_lines') ?? prevEmpty) - prevEmpty);
      errors.push({ line, reason: describeCsvError(err, line) });
      // Past a runaway record the parser is still inside its quote: nothing after it can be trusted.
      if (err.code === 'CSV_MAX_RECORD_SIZE') runaway = true;
      prevEnd = numberOf(err, 'lines') ?? prevEnd;
      quotedInRecord = false;
    },
  });
  const ended = new Promise<void>((resolve, reject) => {
    parser.on('end', resolve);
    parser.on('close', resolve);
    parser.on('error', reject);
  });
  parser.resume();

  try {
    // CRLF and lone CR become LF (a CR at a chunk's end waits for the next chunk), so lines count exactly.
    let carry = '';
    let sliceStart = performance.now();
    for (let at = bom; at < text.length; at += CHUNK_CHARS) {
      let chunk = carry + text.slice(at, at + CHUNK_CHARS);
      carry = '';
      if (chunk.endsWith('\r') && at + CHUNK_CHARS < text.length) {
        carry = '\r';
        chunk = chunk.slice(0, -1);
      }
      parser.write(chunk.replace(/\r\n?/g, '\n'));
      if (overCap !== undefined || headerProblem !== undefined || runaway) break;
      if (performance.now() - sliceStart >= SLICE_MS) {
        await nextTurn();
        sliceStart = performance.now();
      }
    }
    if (overCap !== undefined || headerProblem !== undefined || runaway) parser.destroy();
    else {
      if (carry !== '') parser.write('\n');
      parser.end();
      await ended;
    }
  } catch (err) {
    const line = prevEnd + 1;
    throw new AppError('BAD_REQUEST', `The CSV could not be read at line ${line}: ${err instanceof Error ? err.message : String(err)}`);
  }

  if (headerProblem) throw headerProblem;
  if (overCap !== undefined) {
    throw new AppError(
      'BAD_REQUEST',
      `More than ${maxRows} recipients: reading stopped at line ${overCap}. A campaign takes at most ${maxRows}`,
    );
  }
  if (header === undefined) {
    if (errors[0]) return { rows, errors };
    throw new AppError('BAD_REQUEST', 'The CSV is empty: expected a header row such as "phone,name" and one row per recipient');
  }
  return { rows, errors };
}

function numberOf(err: CsvError, key: string): number | undefined {
  const v = (err as unknown as Record<string, unknown>)[key];
  return typeof v === 'number' ? v : undefined;
}

/** What went wrong on a line, said so a person can fix the file. */
function describeCsvError(err: CsvError, line: number): string {
  const end = numberOf(err, 'lines');
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return `A quoted field opens on line ${line} and is never closed${end !== undefined && end > line ? ` (lines ${line}-${end} would have been read as one field)` : ''}: close or remove the quote`;
    case 'CSV_MAX_RECORD_SIZE':
      return `The record starting on line ${line} runs past ${MAX_RECORD_CHARS / 1024} KB (a quote left open?): the file was not read beyond it`;
    default:
      return err.message;
  }
}

function noPhoneColumn(fields: string[]): AppError {
  const found = fields.map((f) => `"${f.trim()}"`).join(', ');
  const looksLikeData = fields.some((f) => normalizePhone(f).ok);
  return new AppError(
    'BAD_REQUEST',
    looksLikeData
      ? `The CSV has no header row: its first line (${found}) looks like a recipient. Add a first line such as "phone,name"`
      : `The CSV has no phone column: its header has ${found}. Name the column phone, number, mobile, msisdn or to`,
  );
}

function firstIndex(names: string[], wanted: readonly string[]): number {
  for (const w of wanted) {
    const i = names.indexOf(w);
    if (i >= 0) return i;
  }
  return -1;
}

/** The delimiter used most often in the first line, outside quotes (',' when none is). */
function detectDelimiter(text: string): string {
  const counts = new Map<string, number>();
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '\n' || c === '\r')) break;
    else if (!quoted && c !== undefined && (DELIMITERS as readonly string[]).includes(c)) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let best = ',';
  let most = 0;
  for (const d of DELIMITERS) {
    const n = counts.get(d) ?? 0;
    if (n > most) {
      best = d;
      most = n;
    }
  }
  return best;
}
