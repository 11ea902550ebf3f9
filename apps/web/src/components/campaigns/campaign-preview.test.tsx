import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen, within } from '@testing-library/react';
import type { CampaignPreviewDto } from '@parley/shared/campaign';
import { CampaignPreview } from './campaign-preview';

afterEach(cleanup);

const preview = (patch: Partial<CampaignPreviewDto> = {}): CampaignPreviewDto => ({
  encoding: 'gsm7',
  segments: 1,
  sendable: 3,
  totalSegments: 3,
  counts: { total: 3, invalid: 0, duplicate: 0, skipped: 0 },
  problems: [],
  csvErrors: [],
  ...patch,
});

describe('CampaignPreview', () => {
  it('shows encoding, segments and the cost as segments × recipients', () => {
    render(
      <CampaignPreview
        preview={preview({
          encoding: 'ucs2',
          segments: 2,
          sendable: 20,
          totalSegments: 40,
          counts: { total: 20, invalid: 0, duplicate: 0, skipped: 0 },
        })}
      />,
    );
    expect(screen.getByTestId('preview-encoding').textContent).toBe('Unicode');
    expect(screen.getByTestId('preview-segments').textContent).toBe('2 segments');
    expect(screen.getByTestId('preview-cost').textContent).toBe('Cost: 2 segments × 20 recipients = 40 segments');
    expect(screen.getByTestId('preview-all-valid')).toBeTruthy();
  });

  it('says when personalised texts make the total differ from the product', () => {
    render(
      <CampaignPreview
        preview={preview({ segments: 1, sendable: 2, totalSegments: 3, counts: { total: 2, invalid: 0, duplicate: 0, skipped: 0 } })}
      />,
    );
    expect(screen.getByTestId('preview-cost').textContent).toContain('= 3 segments');
    expect(screen.getByTestId('preview-cost').textContent).toContain('{name} changes the length');
  });

  it('lists each row it will not send, with line, input and reason', () => {
    render(
      <CampaignPreview
        preview={preview({
          sendable: 2,
          totalSegments: 2,
          counts: { total: 5, invalid: 1, duplicate: 1, skipped: 1 },
          problems: [
            { line: 3, input: '12', state: 'invalid', reason: 'Number is too short' },
            { line: 4, input: '+447700900001', state: 'duplicate', reason: 'Same number as line 2' },
            { line: 6, input: '+447700900123', state: 'skipped', reason: 'Opted out (STOP)' },
          ],
        })}
      />,
    );
    expect(screen.getByRole('heading', { name: /Not sent: 3 rows/ }).textContent).toContain('1 invalid, 1 duplicate, 1 opted out');
    const rows = within(screen.getByTestId('preview-problems')).getAllByRole('row').slice(1);
    expect(rows.map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent))).toEqual([
      ['3', '12', 'Invalid', 'Number is too short'],
      ['4', '+447700900001', 'Duplicate', 'Same number as line 2'],
      ['6', '+447700900123', 'Opted out', 'Opted out (STOP)'],
    ]);
    expect(screen.queryByTestId('preview-all-valid')).toBeNull();
  });

  it('says when only the first problems are listed', () => {
    render(
      <CampaignPreview
        preview={preview({
          counts: { total: 300, invalid: 250, duplicate: 0, skipped: 0 },
          sendable: 50,
          totalSegments: 50,
          problems: [{ line: 2, input: 'x', state: 'invalid', reason: 'Not a phone number' }],
        })}
      />,
    );
    expect(screen.getByText(/Showing the first 1 of 250/)).toBeTruthy();
  });

  it('lists the CSV lines that could not be read, with line and reason, above the counts', () => {
    render(
      <CampaignPreview
        preview={preview({
          sendable: 1,
          counts: { total: 1, invalid: 0, duplicate: 0, skipped: 0 },
          csvErrors: [
            {
              line: 3,
              reason:
                'A quoted field opens on line 3 and is never closed (lines 3-9 would have been read as one field): close or remove the quote',
            },
          ],
        })}
      />,
    );
    const box = screen.getByTestId('preview-csv-errors');
    expect(within(box).getByRole('heading').textContent).toBe('The CSV could not be read completely: 1 line to fix before it can be sent');
    const row = box.querySelector('tr[data-line="3"]');
    expect(row?.textContent).toContain('A quoted field opens on line 3 and is never closed');
  });
});
