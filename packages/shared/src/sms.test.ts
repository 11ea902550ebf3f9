import { describe, it, expect } from 'vitest';
import { countSms, isGsm7, nonGsmCharacters } from './sms';

/** The GSM 03.38 basic table per unicode.org GSM0338.TXT, by GSM code; null = ESC. */
const BASIC_TABLE: (number | null)[] = [
  0x40,
  0xa3,
  0x24,
  0xa5,
  0xe8,
  0xe9,
  0xf9,
  0xec,
  0xf2,
  0xc7,
  0x0a,
  0xd8,
  0xf8,
  0x0d,
  0xc5,
  0xe5,
  0x394,
  0x5f,
  0x3a6,
  0x393,
  0x39b,
  0x3a9,
  0x3a0,
  0x3a8,
  0x3a3,
  0x398,
  0x39e,
  null,
  0xc6,
  0xe6,
  0xdf,
  0xc9,
  0x20,
  0x21,
  0x22,
  0x23,
  0xa4,
  0x25,
  0x26,
  0x27,
  0x28,
  0x29,
  0x2a,
  0x2b,
  0x2c,
  0x2d,
  0x2e,
  0x2f,
  0x30,
  0x31,
  0x32,
  0x33,
  0x34,
  0x35,
  0x36,
  0x37,
  0x38,
  0x39,
  0x3a,
  0x3b,
  0x3c,
  0x3d,
  0x3e,
  0x3f,
  0xa1,
  0x41,
  0x42,
  0x43,
  0x44,
  0x45,
  0x46,
  0x47,
  0x48,
  0x49,
  0x4a,
  0x4b,
  0x4c,
  0x4d,
  0x4e,
  0x4f,
  0x50,
  0x51,
  0x52,
  0x53,
  0x54,
  0x55,
  0x56,
  0x57,
  0x58,
  0x59,
  0x5a,
  0xc4,
  0xd6,
  0xd1,
  0xdc,
  0xa7,
  0xbf,
  0x61,
  0x62,
  0x63,
  0x64,
  0x65,
  0x66,
  0x67,
  0x68,
  0x69,
  0x6a,
  0x6b,
  0x6c,
  0x6d,
  0x6e,
  0x6f,
  0x70,
  0x71,
  0x72,
  0x73,
  0x74,
  0x75,
  0x76,
  0x77,
  0x78,
  0x79,
  0x7a,
  0xe4,
  0xf6,
  0xf1,
  0xfc,
  0xe0,
];
const BASIC_CHARS = BASIC_TABLE.filter((cp): cp is number => cp !== null).map((cp) => String.fromCodePoint(cp));
const EXTENSION_CHARS = ['\f', '^', '{', '}', '\\', '[', '~', ']', '|', '€'];

const EMOJI = '😀'; // U+1F600, a surrogate pair
const CYRILLIC = 'ж'; // BMP, not GSM: forces UCS-2 at 1 unit

describe('GSM 03.38 tables', () => {
  it('has the full 128-entry reference table', () => {
    expect(BASIC_TABLE).toHaveLength(128);
    expect(BASIC_CHARS).toHaveLength(127);
  });

  it.each(BASIC_CHARS.map((c) => [JSON.stringify(c), c]))('basic char %s is gsm7 and 1 septet', (_, c) => {
    expect(isGsm7(c)).toBe(true);
    expect(countSms(c)).toMatchObject({ encoding: 'gsm7', units: 1, characters: 1 });
  });

  it.each(EXTENSION_CHARS.map((c) => [JSON.stringify(c), c]))('extension char %s is gsm7 and 2 septets', (_, c) => {
    expect(isGsm7(c)).toBe(true);
    expect(countSms(c)).toMatchObject({ encoding: 'gsm7', units: 2, characters: 1, segments: 1, remaining: 158 });
  });

  it('accepts the whole basic table as one text', () => {
    const all = BASIC_CHARS.join('');
    expect(isGsm7(all)).toBe(true);
    expect(nonGsmCharacters(all)).toEqual([]);
    expect(countSms(all)).toMatchObject({ encoding: 'gsm7', units: 127, segments: 1 });
  });

  it.each([
    ['ç', 'lowercase c-cedilla (only Ç is in the table)'],
    ['á', 'a-acute (é is in the table, á is not)'],
    ['í', 'i-acute'],
    ['ó', 'o-acute'],
    ['ú', 'u-acute'],
    ['â', 'a-circumflex'],
    ['ê', 'e-circumflex'],
    ['ã', 'a-tilde'],
    ['õ', 'o-tilde'],
    ['È', 'capital E-grave'],
    ['Ì', 'capital I-grave'],
    ['À', 'capital A-grave'],
    ['\u2019', 'right single quotation mark'],
    ['\u201C', 'left double quotation mark'],
    ['\u2013', 'en dash'],
    ['\u2026', 'ellipsis'],
    ['\u00A0', 'no-break space'],
    ['\t', 'tab'],
    ['`', 'backtick'],
    ['\u0391', 'Greek capital Alpha (looks like A)'],
    ['\u03B4', 'Greek small delta (only capital Δ is in the table)'],
    ['\u00A2', 'cent sign'],
    [CYRILLIC, 'Cyrillic'],
    ['中', 'CJK'],
    [EMOJI, 'emoji'],
    ['\u001B', 'raw ESC'],
  ])('%s (%s) is not gsm7', (c) => {
    expect(isGsm7(c)).toBe(false);
    expect(nonGsmCharacters(`a${c}b`)).toEqual([c]);
    expect(countSms(c).encoding).toBe('ucs2');
  });

  it('has the accented letters that ARE in the table', () => {
    expect(isGsm7('èéùìòÇØøÅåÆæßÉÄÖÑÜäöñüà¡¿§¤£¥ΔΦΓΛΩΠΨΣΘΞ')).toBe(true);
  });
});

describe('nonGsmCharacters', () => {
  it('lists distinct offenders in order of first appearance', () => {
    expect(nonGsmCharacters('Ça va? ça va… oui — ça va 😀😀')).toEqual(['ç', '…', '—', '😀']);
  });

  it('returns an empty list for gsm text and for empty text', () => {
    expect(nonGsmCharacters('Hello {world} €5')).toEqual([]);
    expect(nonGsmCharacters('')).toEqual([]);
  });

  it('keeps an emoji as one character, not two halves', () => {
    expect(nonGsmCharacters('👍🏽')).toEqual(['👍', '🏽']);
  });
});

describe('countSms: empty', () => {
  it('is zero segments of gsm7', () => {
    expect(countSms('')).toEqual({
      encoding: 'gsm7',
      characters: 0,
      units: 0,
      segments: 0,
      perSegment: 160,
      remaining: 160,
    });
    expect(isGsm7('')).toBe(true);
  });
});

describe('countSms: gsm7 boundaries', () => {
  it.each([
    [1, 1, 160, 159],
    [160, 1, 160, 0],
    [161, 2, 153, 145],
    [306, 2, 153, 0],
    [307, 3, 153, 152],
    [459, 3, 153, 0],
    [460, 4, 153, 152],
  ])('%i septets → %i segment(s) of %i, %i left', (n, segments, perSegment, remaining) => {
    expect(countSms('a'.repeat(n))).toEqual({
      encoding: 'gsm7',
      characters: n,
      units: n,
      segments,
      perSegment,
      remaining,
    });
  });
});

describe('countSms: gsm7 extension characters', () => {
  it('counts each extension char as 2 septets', () => {
    expect(countSms('{}')).toMatchObject({ characters: 2, units: 4, segments: 1, remaining: 156 });
  });

  it('fits 80 extension chars in one segment, 81 need two', () => {
    expect(countSms('€'.repeat(80))).toMatchObject({ units: 160, segments: 1, remaining: 0 });
    expect(countSms('€'.repeat(81))).toMatchObject({ units: 162, segments: 2, perSegment: 153 });
  });

  it('puts an extension char at 159 + 2 = 161 into a second segment', () => {
    expect(countSms('a'.repeat(158) + '€')).toMatchObject({ units: 160, segments: 1, remaining: 0 });
    expect(countSms('a'.repeat(159) + '€')).toMatchObject({ units: 161, segments: 2, remaining: 145 });
  });

  it('does not split an escape pair that would straddle the 153 boundary', () => {
    // 152 + [ESC €] would occupy septets 153–154: the pair moves whole to segment 2.
    const text = 'a'.repeat(152) + '€' + 'a'.repeat(7);
    expect(countSms(text)).toEqual({
      encoding: 'gsm7',
      characters: 160,
      units: 161,
      segments: 2,
      perSegment: 153,
      remaining: 153 - 9, // segment 2 holds ESC € + 7
    });
  });

  it('adds a segment when the moved pair overflows the last one', () => {
    // 306 septets would be 2 × 153, but the straddling pair wastes one septet.
    const text = 'a'.repeat(152) + '€' + 'a'.repeat(152);
    expect(countSms(text)).toMatchObject({ units: 306, segments: 3, remaining: 153 - 1 });
    // One less septet and it fits in two.
    expect(countSms('a'.repeat(152) + '€' + 'a'.repeat(151))).toMatchObject({ units: 305, segments: 2, remaining: 0 });
  });

  it('keeps a pair that ends exactly on the boundary in the first segment', () => {
    const text = 'a'.repeat(151) + '€' + 'a'.repeat(10);
    expect(countSms(text)).toMatchObject({ units: 163, segments: 2, remaining: 143 });
  });

  it('handles a pair at the second boundary (306)', () => {
    const fits = 'a'.repeat(304) + '€'; // 306 septets, the pair ends segment 2 exactly
    expect(countSms(fits)).toMatchObject({ units: 306, segments: 2, remaining: 0 });
    const straddles = 'a'.repeat(305) + '€'; // pair at 306–307 moves to segment 3
    expect(countSms(straddles)).toMatchObject({ units: 307, segments: 3, remaining: 151 });
  });

  it('counts form feed as an extension char', () => {
    expect(countSms('\f')).toMatchObject({ encoding: 'gsm7', units: 2 });
  });
});

describe('countSms: ucs2 boundaries', () => {
  it.each([
    [1, 1, 70, 69],
    [70, 1, 70, 0],
    [71, 2, 67, 63],
    [134, 2, 67, 0],
    [135, 3, 67, 66],
    [201, 3, 67, 0],
    [202, 4, 67, 66],
  ])('%i units → %i segment(s) of %i, %i left', (n, segments, perSegment, remaining) => {
    expect(countSms(CYRILLIC.repeat(n))).toEqual({
      encoding: 'ucs2',
      characters: n,
      units: n,
      segments,
      perSegment,
      remaining,
    });
  });

  it('switches a long gsm text to ucs2 with one non-gsm char', () => {
    const text = 'a'.repeat(100) + 'ç';
    expect(countSms(text)).toMatchObject({ encoding: 'ucs2', units: 101, segments: 2, perSegment: 67 });
  });

  it('counts extension chars as 1 unit in ucs2', () => {
    expect(countSms('€{ç')).toMatchObject({ encoding: 'ucs2', characters: 3, units: 3 });
  });
});

describe('countSms: emoji (surrogate pairs)', () => {
  it('counts an emoji as 1 character and 2 units', () => {
    expect(countSms(EMOJI)).toEqual({
      encoding: 'ucs2',
      characters: 1,
      units: 2,
      segments: 1,
      perSegment: 70,
      remaining: 68,
    });
  });

  it('fits 35 emoji in one segment, 36 need two', () => {
    expect(countSms(EMOJI.repeat(35))).toMatchObject({ units: 70, segments: 1, remaining: 0 });
    expect(countSms(EMOJI.repeat(36))).toMatchObject({ characters: 36, units: 72, segments: 2 });
  });

  it('an emoji at 69 + 2 = 71 makes two segments', () => {
    expect(countSms(CYRILLIC.repeat(68) + EMOJI)).toMatchObject({ units: 70, segments: 1, remaining: 0 });
    expect(countSms(CYRILLIC.repeat(69) + EMOJI)).toMatchObject({ units: 71, segments: 2, remaining: 63 });
  });

  it('does not split a surrogate pair that would straddle the 67 boundary', () => {
    // 66 + pair at units 67–68: the pair moves whole to segment 2.
    const text = CYRILLIC.repeat(66) + EMOJI + CYRILLIC.repeat(3);
    expect(countSms(text)).toEqual({
      encoding: 'ucs2',
      characters: 70,
      units: 71,
      segments: 2,
      perSegment: 67,
      remaining: 67 - 5,
    });
  });

  it('adds a segment when the moved pair overflows the last one', () => {
    const text = CYRILLIC.repeat(66) + EMOJI + CYRILLIC.repeat(66); // 134 units
    expect(countSms(text)).toMatchObject({ units: 134, segments: 3, remaining: 66 });
    expect(countSms(CYRILLIC.repeat(66) + EMOJI + CYRILLIC.repeat(65))).toMatchObject({ units: 133, segments: 2, remaining: 0 });
  });

  it('67 emoji (134 units) need 3 segments because 67 is odd', () => {
    // Each segment holds 33 pairs (66 units); the 67th unit cannot take half a pair.
    expect(countSms(EMOJI.repeat(67))).toMatchObject({ units: 134, segments: 3, remaining: 67 - 2 });
    expect(countSms(EMOJI.repeat(66))).toMatchObject({ units: 132, segments: 2, remaining: 1 });
  });

  it('handles a pair at the second boundary (134)', () => {
    const fits = CYRILLIC.repeat(66) + EMOJI + CYRILLIC.repeat(65); // seg1 66, seg2 2+65=67
    expect(countSms(fits)).toMatchObject({ segments: 2, remaining: 0 });
    const straddles = CYRILLIC.repeat(133) + EMOJI; // seg1 67, seg2 66, pair → seg3
    expect(countSms(straddles)).toMatchObject({ units: 135, segments: 3, remaining: 65 });
  });

  it('counts a skin-tone emoji as two code points and four units', () => {
    expect(countSms('👍🏽')).toMatchObject({ characters: 2, units: 4 });
  });
});
