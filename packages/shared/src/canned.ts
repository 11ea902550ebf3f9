/**
 * Canned-reply fields (zod-free: the web bundle imports this). `{name}` `{first_name}` `{agent}`
 * `{our_number}` are filled when a reply is inserted; any other `{word}` is refused at save.
 */
export const CANNED_FIELDS = ['name', 'first_name', 'agent', 'our_number'] as const;
export type CannedField = (typeof CANNED_FIELDS)[number];

export const CANNED_SHORTCUT_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;
export const MAX_CANNED_TEXT_CHARS = 1000;

const FIELD = /\{([A-Za-z0-9_]+)\}/g;

/** The `{fields}` in `text` that are not one of CANNED_FIELDS, each once, in order. */
export function unknownCannedFields(text: string): string[] {
  const known = new Set<string>(CANNED_FIELDS);
  const out: string[] = [];
  for (const m of text.matchAll(FIELD)) {
    const f = m[1] ?? '';
    if (!known.has(f) && !out.includes(f)) out.push(f);
  }
  return out;
}

export type CannedPart = { kind: 'text'; text: string } | { kind: 'missing'; field: string; text: string };

/**
 * `text` with its fields filled from `values`; a field with no value stays as `{field}` (a
 * `missing` part, so the composer can highlight it) — never silently emptied.
 */
export function fillCanned(
  text: string,
  values: Partial<Record<CannedField, string | null | undefined>>,
): { text: string; parts: CannedPart[]; missing: string[] } {
  const parts: CannedPart[] = [];
  const missing: string[] = [];
  let last = 0;
  const push = (t: string) => {
    if (t === '') return;
    const prev = parts.at(-1);
    if (prev?.kind === 'text') prev.text += t;
    else parts.push({ kind: 'text', text: t });
  };
  for (const m of text.matchAll(FIELD)) {
    const at = m.index ?? 0;
    push(text.slice(last, at));
    const field = m[1] ?? '';
    const value = (values as Record<string, string | null | undefined>)[field];
    if (value !== undefined && value !== null && value.trim() !== '') push(value);
    else {
      parts.push({ kind: 'missing', field, text: m[0] });
      if (!missing.includes(field)) missing.push(field);
    }
    last = at + m[0].length;
  }
  push(text.slice(last));
  return { text: parts.map((p) => p.text).join(''), parts, missing };
}

/** The values for a conversation: first name is the name's first word. */
export function cannedValues(opts: {
  contactName: string | null;
  agentName: string | null;
  ourNumber: string | null;
}): Record<CannedField, string | null> {
  const name = opts.contactName?.trim() || null;
  return {
    name,
    first_name: name ? (name.split(/\s+/)[0] ?? null) : null,
    agent: opts.agentName?.trim() || null,
    our_number: opts.ourNumber,
  };
}
