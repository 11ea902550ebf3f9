/** HTTP pieces every provider's sender shares: Retry-After, reading an answer's body, record checks. */

/** A plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Retry-After as seconds or an HTTP date → milliseconds from now. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  const trimmed = value?.trim() ?? '';
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** What `readBody` needs of an answer (fetch's Response, or the one an SDK error carries). */
export interface BodyReadable {
  text(): Promise<string>;
}

/** An answer's body: its JSON object, else a whitespace-squeezed snippet (200 chars) of its text, else nothing. */
export async function readBody(response: BodyReadable): Promise<{ json?: Record<string, unknown>; text?: string }> {
  let text: string;
  try {
    text = await response.text();
  } catch {
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (isRecord(parsed)) return { json: parsed };
  } catch {
    // not JSON: keep a short snippet below
  }
  const snippet = text.replace(/\s+/g, ' ').trim().slice(0, 200);
  return snippet === '' ? {} : { text: snippet };
}
