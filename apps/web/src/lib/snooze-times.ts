/** Snooze and send-later presets, in the agent's own time zone (the browser's). */
export interface TimePreset {
  key: string;
  label: string;
  at: Date;
}

function at(base: Date, days: number, hour: number): Date {
  const d = new Date(base);
  d.setDate(d.getDate() + days);
  d.setHours(hour, 0, 0, 0);
  return d;
}

/** 1 h, tonight 18:00 (while it is before 18:00), tomorrow 9:00, next Monday 9:00. */
export function timePresets(now: Date = new Date()): TimePreset[] {
  const presets: TimePreset[] = [{ key: '1h', label: 'In 1 hour', at: new Date(now.getTime() + 3_600_000) }];
  const tonight = at(now, 0, 18);
  if (tonight.getTime() > now.getTime()) presets.push({ key: 'tonight', label: 'Tonight 18:00', at: tonight });
  presets.push({ key: 'tomorrow', label: 'Tomorrow 9:00', at: at(now, 1, 9) });
  const toMonday = (8 - now.getDay()) % 7 || 7;
  presets.push({ key: 'monday', label: 'Next Monday 9:00', at: at(now, toMonday, 9) });
  return presets;
}

/** A `datetime-local` input's value (local time, minutes) for a date. */
export function toLocalInput(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "Tue 3 Mar, 09:00" in the agent's locale and zone. */
export function formatWhen(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}
