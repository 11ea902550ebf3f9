import { useMemo, useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { StatsSummary } from '@parley/shared/campaign';
import { errorMessage } from '../lib/errors';
import { chartPoints, formatDuration, formatRate, periodInput, PERIODS, type ChartPoint, type PeriodId } from '../lib/stats';
import { trpc } from '../trpc';

const COLORS = { inbound: '#0ea5e9', outbound: '#4f46e5', rate: '#0f8a5f', grid: '#e1e4e9', axis: '#5b6478' };
const number = new Intl.NumberFormat();
const CHART_STYLE = { width: '100%', height: 260 };
const AXIS = { stroke: COLORS.axis, fontSize: 12, tickLine: false } as const;

/** Volume and delivery over time, and why sends failed — for 24 hours, 7 or 30 days. */
export function StatsPage() {
  const [period, setPeriod] = useState<{ id: PeriodId; input: ReturnType<typeof periodInput> }>(() => ({
    id: '7d',
    input: periodInput('7d'),
  }));
  const choose = (id: PeriodId) => setPeriod({ id, input: periodInput(id) });
  const stats = useQuery({ ...trpc.stats.summary.queryOptions(period.input), placeholderData: keepPreviousData });

  return (
    <div className="page-body">
      <div className="page-head">
        <h1>Stats</h1>
        <span className="spacer" />
        <div className="filters period-filter" role="group" aria-label="Period">
          {PERIODS.map((p) => (
            <button
              key={p.id}
              type="button"
              aria-pressed={period.id === p.id}
              className={`filter${period.id === p.id ? ' active' : ''}`}
              onClick={() => choose(p.id)}
            >
              {p.label}
            </button>
          ))}
        </div>
        <button className="button ghost" type="button" onClick={() => choose(period.id)} disabled={stats.isFetching} title="Up to now">
          ↻ Refresh
        </button>
      </div>
      {stats.isError && (
        <p className="error" role="alert">
          {errorMessage(stats.error)}
        </p>
      )}
      {stats.isPending ? (
        <p className="muted">Loading stats…</p>
      ) : stats.data ? (
        <StatsView summary={stats.data} busy={stats.isFetching} />
      ) : null}
    </div>
  );
}

function StatsView({ summary, busy }: { summary: StatsSummary; busy: boolean }) {
  const points = useMemo(() => chartPoints(summary.buckets, summary.bucket), [summary]);
  return (
    <div className="stats" aria-busy={busy}>
      <dl className="stat-cards">
        <Stat label="Received" value={number.format(summary.inbound)} testId="stat-inbound" />
        <Stat label="Sent" value={number.format(summary.outbound)} testId="stat-outbound" />
        <Stat
          label="Delivery rate"
          value={formatRate(summary.deliveryRate)}
          note={`${number.format(summary.delivered)} delivered · ${number.format(summary.failed)} failed · ${number.format(summary.pending)} pending`}
          testId="stat-rate"
        />
        <Stat label="Median time to delivered" value={formatDuration(summary.medianTimeToDeliveredMs)} testId="stat-median" />
      </dl>
      <div className="chart-grid">
        <figure className="card chart" data-testid="chart-volume">
          <figcaption>Messages per {summary.bucket}</figcaption>
          <VolumeChart points={points} />
        </figure>
        <figure className="card chart" data-testid="chart-delivery">
          <figcaption>Delivery rate per {summary.bucket}</figcaption>
          {points.some((p) => p.rate !== null) ? (
            <DeliveryChart points={points} />
          ) : (
            <p className="muted chart-empty">
              No delivery receipts in this period: the rate shows once sent messages are delivered or fail.
            </p>
          )}
        </figure>
      </div>
      <FailureReasons summary={summary} />
    </div>
  );
}

function Stat({ label, value, note, testId }: { label: string; value: string; note?: string; testId: string }) {
  return (
    <div className="card stat-card">
      <dt>{label}</dt>
      <dd data-testid={testId}>{value}</dd>
      {note && <dd className="muted small">{note}</dd>}
    </div>
  );
}

function VolumeChart({ points }: { points: ChartPoint[] }) {
  return (
    <BarChart responsive style={CHART_STYLE} data={points} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
      <CartesianGrid stroke={COLORS.grid} vertical={false} />
      <XAxis dataKey="label" {...AXIS} minTickGap={16} />
      <YAxis {...AXIS} allowDecimals={false} />
      <Tooltip cursor={{ fill: 'rgb(79 70 229 / 6%)' }} />
      <Legend iconType="circle" iconSize={8} />
      <Bar dataKey="inbound" name="Received" fill={COLORS.inbound} radius={[3, 3, 0, 0]} maxBarSize={24} animationDuration={400} />
      <Bar dataKey="outbound" name="Sent" fill={COLORS.outbound} radius={[3, 3, 0, 0]} maxBarSize={24} animationDuration={400} />
    </BarChart>
  );
}

function DeliveryChart({ points }: { points: ChartPoint[] }) {
  return (
    <LineChart responsive style={CHART_STYLE} data={points} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
      <CartesianGrid stroke={COLORS.grid} vertical={false} />
      <XAxis dataKey="label" {...AXIS} minTickGap={16} />
      <YAxis {...AXIS} domain={[0, 100]} unit="%" />
      <Tooltip
        formatter={(value, _name, item) => {
          const point = (item as { payload?: ChartPoint }).payload;
          return [`${String(value)}%${point ? ` (${point.delivered} delivered, ${point.failed} failed)` : ''}`, 'Delivered'];
        }}
      />
      <Line
        type="monotone"
        dataKey="rate"
        name="Delivered"
        stroke={COLORS.rate}
        strokeWidth={2}
        dot={{ r: 3 }}
        connectNulls
        animationDuration={400}
      />
    </LineChart>
  );
}

function FailureReasons({ summary }: { summary: StatsSummary }) {
  const reasons = summary.failuresByReason;
  const most = Math.max(1, ...reasons.map((r) => r.count));
  return (
    <section className="card failures" aria-labelledby="failures-title" data-testid="failures-by-reason">
      <h2 id="failures-title">Failures by reason</h2>
      {reasons.length === 0 ? (
        <p className="muted">No failed sends in this period.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Reason</th>
              <th scope="col">Code</th>
              <th scope="col" className="num">
                Messages
              </th>
              <th scope="col" className="bar-col">
                <span className="visually-hidden">Share</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {reasons.map((r) => (
              <tr key={`${r.code ?? ''}:${r.reason}`}>
                <td>{r.reason}</td>
                <td className="mono muted">{r.code ?? '—'}</td>
                <td className="num">{number.format(r.count)}</td>
                <td className="bar-col">
                  <span className="reason-bar" style={{ width: `${(r.count / most) * 100}%` }} aria-hidden="true" />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
