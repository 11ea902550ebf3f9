/**
 * SMS encoding detection and segment counting (GSM 03.38 / UCS-2).
 *
 * GSM-7: one segment holds 160 septets; a concatenated message holds 153 per
 * segment (the user data header takes the rest). Extension-table characters
 * are sent as ESC + char (2 septets) and that pair is never split across
 * segments. UCS-2: 70 code units in one segment, 67 per segment otherwise; a
 * surrogate pair (emoji etc.) is never split across segments.
 */

export type SmsEncoding = 'gsm7' | 'ucs2';

export interface SmsCount {
  encoding: SmsEncoding;
  /** User-visible length in code points. */
  characters: number;
  /** GSM septets (extension chars count 2) or UCS-2 code units (surrogate pairs count 2). */
  units: number;
  /** Number of SMS parts; 0 for empty text. */
  segments: number;
  /** 160/153 for gsm7, 70/67 for ucs2: the limit applying to the current segment count. */
  perSegment: number;
  /** Units left in the current last segment before another segment is needed. */
  remaining: number;
}

/** GSM 03.38 basic character set, in table order (0x00–0x7F), without ESC (0x1B). */
const GSM7_BASIC_CHARS =
  '@\u00A3$\u00A5\u00E8\u00E9\u00F9\u00EC\u00F2\u00C7\n\u00D8\u00F8\r\u00C5\u00E5' +
  '\u0394_\u03A6\u0393\u039B\u03A9\u03A0\u03A8\u03A3\u0398\u039E\u00C6\u00E6\u00DF\u00C9' +
  ' !"#\u00A4%&\'()*+,-./' +
  '0123456789:;<=>?' +
  '\u00A1ABCDEFGHIJKLMNOPQRSTUVWXYZ\u00C4\u00D6\u00D1\u00DC\u00A7' +
  '\u00BFabcdefghijklmnopqrstuvwxyz\u00E4\u00F6\u00F1\u00FC\u00E0';

/** GSM 03.38 extension table: each is sent as ESC + char, 2 septets. */
const GSM7_EXTENSION_CHARS = '\f^{}\\[~]|\u20AC';

const GSM7_BASIC: ReadonlySet<string> = new Set(GSM7_BASIC_CHARS);
const GSM7_EXTENSION: ReadonlySet<string> = new Set(GSM7_EXTENSION_CHARS);

const LIMITS = {
  gsm7: { single: 160, multi: 153 },
  ucs2: { single: 70, multi: 67 },
} as const satisfies Record<SmsEncoding, { single: number; multi: number }>;

function isGsm7Char(char: string): boolean {
  return GSM7_BASIC.has(char) || GSM7_EXTENSION.has(char);
}

/** True when every character of `text` is in the GSM 03.38 basic or extension table. */
export function isGsm7(text: string): boolean {
  for (const char of text) {
    if (!isGsm7Char(char)) return false;
  }
  return true;
}

/** Distinct characters that force UCS-2, in order of first appearance. */
export function nonGsmCharacters(text: string): string[] {
  const found = new Set<string>();
  for (const char of text) {
    if (!isGsm7Char(char)) found.add(char);
  }
  return [...found];
}

function unitWidth(char: string, encoding: SmsEncoding): number {
  if (encoding === 'ucs2') return char.length; // 2 for a surrogate pair
  return GSM7_EXTENSION.has(char) ? 2 : 1;
}

export function countSms(text: string): SmsCount {
  const chars = Array.from(text);
  const encoding: SmsEncoding = chars.every(isGsm7Char) ? 'gsm7' : 'ucs2';
  const widths = chars.map((char) => unitWidth(char, encoding));
  const units = widths.reduce((sum, width) => sum + width, 0);
  const { single, multi } = LIMITS[encoding];
  const base = { encoding, characters: chars.length, units };

  if (units === 0) return { ...base, segments: 0, perSegment: single, remaining: single };
  if (units <= single) return { ...base, segments: 1, perSegment: single, remaining: single - units };

  // Concatenated: fill segments greedily; an indivisible unit (ESC pair or
  // surrogate pair) that does not fit moves whole to the next segment.
  let segments = 1;
  let used = 0;
  for (const width of widths) {
    if (used + width > multi) {
      segments += 1;
      used = width;
    } else {
      used += width;
    }
  }
  return { ...base, segments, perSegment: multi, remaining: multi - used };
}
