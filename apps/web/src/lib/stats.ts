import type { StatsBucket, StatsSummary } from '@parley/shared/campaign';

export const PERIODS = [
  { id: '24h', label: '24 hours', hours: 24, bucket: 'hour' },
  { id: '7d', label: '7 days', hours: 7 * 24, bucket: 'day' },
  { id: '30d', label: '30 days', hours: 30 * 24, bucket: 'day' },
] as const;

export type PeriodId = (typeof PERIODS)[number]['id'];

export function periodInput(id: PeriodId, now = Date.now()): { since: string; bucket: 'hour' | 'day' } {
  const period = PERIODS.find((p) => p.id === id) ?? PERIODS[0];
  return { since: new Date(now - period.hours * 3_600_000).toISOString(), bucket: period.bucket };
}

/** "850 ms", "4.2 s", "3 min 20 s", "2 h 5 min"; "—" without a value. */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  const s = ms / 1_000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) {
    const rest = Math.round(s - minutes * 60);
    return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
  }
  const hours = Math.floor(minutes / 60);
  const rest = minutes - hours * 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/** "97.5%"; "—" without a value (nothing delivered or failed yet). */
export function formatRate(rate: number | null): string {
  if (rate === null) return '—';
  const percent = rate * 100;
  return `${percent === 100 || percent === 0 ? percent.toFixed(0) : percent.toFixed(1)}%`;
}

export interface ChartPoint {
  start: string;
  label: string;
  inbound: number;
  outbound: number;
  delivered: number;
  failed: number;
  /** 0–100, null when nothing was delivered or failed in the bucket (the line has a gap). */
  rate: number | null;
}

const hour = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const day = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });

export function chartPoints(buckets: StatsBucket[], bucket: StatsSummary['bucket']): ChartPoint[] {
  return buckets.map((b) => {
    const settled = b.delivered + b.failed;
    return {
      start: b.start,
      label: (bucket === 'hour' ? hour : day).format(new Date(b.start)),
      inbound: b.inbound,
      outbound: b.outbound,
      delivered: b.delivered,
      failed: b.failed,
      rate: settled === 0 ? null : Math.round((b.delivered / settled) * 1000) / 10,
    };
  });
}
