export type RecipientsInput = string | (string | { phone: string; name?: string | null })[];

const PHONE_LIKE = /^\+?[\d\s().-]+$/;

function firstLine(text: string): string | undefined {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return body.split(/\r?\n/).find((line) => line.trim() !== '');
}

/**
 * True when the text is a bare list (its first line starts with a number, not a header). Anything else
 * goes to the server as CSV, which reads the header (phone/number/mobile/msisdn/to, name) and says
 * what is wrong with it when it cannot.
 */
export function isBareList(text: string): boolean {
  const first = firstLine(text);
  if (first === undefined) return false;
  const cell = (first.split(/[,;\t]/)[0] ?? '').trim().replace(/^"(.*)"$/, '$1');
  return PHONE_LIKE.test(cell) && (cell.match(/\d/g)?.length ?? 0) >= 3;
}

/**
 * What the form sends as `recipients`: CSV text as it is; numbers pasted one a line (optionally
 * "number, name") as a list, blank lines dropped. null when there is nothing.
 */
export function parseRecipients(text: string): RecipientsInput | null {
  if (text.trim() === '') return null;
  if (!isBareList(text)) return text;
  return text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const match = /^([^,;\t]*)[,;\t](.*)$/.exec(line);
      if (!match) return line.trim();
      const name = (match[2] ?? '').trim().replace(/^"(.*)"$/, '$1');
      return { phone: (match[1] ?? '').trim(), name: name === '' ? null : name };
    });
}

/** Data rows in what the user gave (for "1,234 rows" beside a file name). */
export function countRows(text: string): number {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '').length;
  return isBareList(text) ? lines : Math.max(0, lines - 1);
}
