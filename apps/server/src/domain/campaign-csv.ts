import { normalizePhone } from '@parley/shared';
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

/**
 * Reads recipients from CSV text: a header row naming a phone column (`phone`, `number`, `mobile`,
 * `msisdn`, `to`; case-insensitive, surrounding spaces ignored) and optionally `name`. RFC 4180
 * quoting (`"a, b"`, `""` for a quote, line breaks inside quotes), CRLF or LF, a UTF-8 BOM, and `;`
 * or tab as the delimiter (whichever the header uses) are all accepted; blank lines are ignored.
 * Throws AppError BAD_REQUEST when there is no header or no phone column, naming what it found.
 */
export function parseRecipientsCsv(text: string): RecipientRow[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const delimiter = detectDelimiter(body);
  const records = readRecords(body, delimiter);
  const header = records.shift();
  if (!header) throw new AppError('BAD_REQUEST', 'The CSV is empty: expected a header row such as "phone,name" and one row per recipient');

  const names = header.fields.map((f) => f.trim().toLowerCase());
  const phoneAt = firstIndex(names, PHONE_COLUMNS);
  if (phoneAt < 0) {
    const found = header.fields.map((f) => `"${f.trim()}"`).join(', ');
    const looksLikeData = header.fields.some((f) => normalizePhone(f).ok);
    throw new AppError(
      'BAD_REQUEST',
      looksLikeData
        ? `The CSV has no header row: its first line (${found}) looks like a recipient. Add a first line such as "phone,name"`
        : `The CSV has no phone column: its header has ${found}. Name the column phone, number, mobile, msisdn or to`,
    );
  }
  const nameAt = names.indexOf('name');

  return records.map((r) => {
    const name = nameAt < 0 ? '' : (r.fields[nameAt] ?? '').trim();
    return { line: r.line, phone: (r.fields[phoneAt] ?? '').trim(), name: name === '' ? null : name };
  });
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

interface CsvRecord {
  line: number;
  fields: string[];
}

/** RFC 4180 records with the line each starts on; blank records are dropped. */
function readRecords(text: string, delimiter: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  /** The current record had a quoted field (so a record of one quoted "" is not blank). */
  let hadQuote = false;
  let line = 1;
  let start = 1;

  const endRecord = () => {
    fields.push(field);
    // Blank: nothing but spaces and delimiters (spreadsheets export empty rows as ',,').
    if (hadQuote || fields.some((f) => f.trim() !== '')) records.push({ line: start, fields });
    fields = [];
    field = '';
    hadQuote = false;
  };

  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        else if (c === '\r' && text[i + 1] !== '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field.trim() === '') {
      // A quote opens a quoted field only at its start (spaces before it are dropped).
      field = '';
      quoted = true;
      hadQuote = true;
    } else if (c === delimiter) {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      start = line;
    } else {
      field += c;
    }
  }
  if (field !== '' || fields.length > 0 || hadQuote) endRecord();
  return records;
}
