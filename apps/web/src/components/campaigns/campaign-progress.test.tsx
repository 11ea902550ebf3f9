import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/react';
import type { CampaignCounts } from '@parley/shared/campaign';
import { CampaignProgress, progressOf } from './campaign-progress';

afterEach(cleanup);

const counts = (patch: Partial<CampaignCounts> = {}): CampaignCounts => ({
  total: 0,
  invalid: 0,
  duplicate: 0,
  skipped: 0,
  pending: 0,
  held: 0,
  queued: 0,
  submitted: 0,
  delivered: 0,
  failed: 0,
  interrupted: 0,
  cancelled: 0,
  ...patch,
});

describe('progressOf', () => {
  it('leaves invalid and duplicate rows out and counts queued as pending, interrupted as failed', () => {
    const p = progressOf(
      counts({
        total: 14,
        invalid: 2,
        duplicate: 2,
        pending: 1,
        queued: 1,
        submitted: 2,
        delivered: 3,
        failed: 1,
        interrupted: 1,
        skipped: 1,
      }),
    );
    expect(p.total).toBe(10);
    expect(p.processed).toBe(8);
    expect(p.percent).toBe(80);
    expect(Object.fromEntries(p.parts.map((part) => [part.part, part.count]))).toEqual({
      delivered: 3,
      submitted: 2,
      failed: 2,
      skipped: 1,
      cancelled: 0,
      pending: 2,
    });
  });

  it('reaches 100 only when nothing is pending', () => {
    expect(progressOf(counts({ delivered: 199, pending: 1 })).percent).toBe(99);
    expect(progressOf(counts({ delivered: 199, failed: 1 })).percent).toBe(100);
    expect(progressOf(counts()).percent).toBe(0);
  });
});

describe('CampaignProgress', () => {
  it('draws one share per state in proportion, with the counts in the legend', () => {
    render(<CampaignProgress campaign={{ status: 'running', counts: counts({ total: 4, delivered: 2, failed: 1, pending: 1 }) }} />);
    const bar = screen.getByRole('progressbar');
    expect(bar.getAttribute('aria-valuenow')).toBe('75');
    expect(bar.getAttribute('data-status')).toBe('running');
    expect(bar.getAttribute('aria-valuetext')).toBe('3 of 4 processed (75%)');
    const widths = [...bar.querySelectorAll<HTMLElement>('.progress-part')].map((part) => [part.dataset.part, part.style.width]);
    expect(widths).toEqual([
      ['delivered', '50%'],
      ['failed', '25%'],
      ['pending', '25%'],
    ]);
    expect(screen.getByTestId('count-delivered').textContent).toBe('2');
    expect(screen.getByTestId('count-skipped').textContent).toBe('0');
    expect(screen.getByTestId('campaign-progress-summary').textContent).toBe('3 of 4 processed (75%)');
  });

  it('shows an empty bar for a campaign with nothing to send', () => {
    render(<CampaignProgress campaign={{ status: 'done', counts: counts({ total: 2, invalid: 2 }) }} compact />);
    expect(screen.getByRole('progressbar').children).toHaveLength(0);
    expect(screen.queryByRole('list')).toBeNull();
    expect(screen.getByText('0 of 0 processed (0%)')).toBeTruthy();
  });
});
