const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const weekday = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const shortDate = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const longDate = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });

const DAY_MS = 24 * 60 * 60 * 1000;

function startOfDay(date: Date): number {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

export function formatTime(iso: string): string {
  return time.format(new Date(iso));
}

/** List times: 14:05 today, Tue this week, 3 Mar before that. */
export function formatListTime(iso: string, now = new Date()): string {
  const date = new Date(iso);
  const days = (startOfDay(now) - startOfDay(date)) / DAY_MS;
  if (days < 1) return time.format(date);
  if (days < 7) return weekday.format(date);
  return shortDate.format(date);
}

/** Local calendar day, as a grouping key. */
export function dayKey(iso: string): string {
  const date = new Date(iso);
  return `${date.getFullYear()}-${date.getMonth() + 1}-${date.getDate()}`;
}

export function formatDay(iso: string, now = new Date()): string {
  const days = Math.round((startOfDay(now) - startOfDay(new Date(iso))) / DAY_MS);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  return longDate.format(new Date(iso));
}

export function displayName(c: { contactName: string | null; contactPhone: string }): string {
  return c.contactName ?? c.contactPhone;
}
