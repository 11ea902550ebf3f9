import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { QueryClientProvider } from '@tanstack/react-query';
import type { CampaignPreviewDto } from '@parley/shared/campaign';
import { queryClient } from '../../trpc';
import { CampaignForm } from './campaign-form';

/** Answers tRPC's batched HTTP calls: campaign.preview from what was sent, number.list with nothing. */
function fakeServer() {
  const previews: unknown[] = [];
  const fetchMock = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
    const path = new URL(String(url), 'http://localhost').pathname;
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : {};
    const results = path
      .replace('/trpc/', '')
      .split(',')
      .map((procedure, index) => {
        if (procedure === 'campaign.preview') {
          const input = body[String(index)] as { text: string; recipients: unknown };
          previews.push(input);
          const count = Array.isArray(input.recipients) ? input.recipients.length : typeof input.recipients === 'string' ? 1 : 0;
          // A CSV with a quote that never closes, as the server reports it.
          const broken = typeof input.recipients === 'string' && (input.recipients.split('"').length - 1) % 2 === 1;
          const data: CampaignPreviewDto = {
            encoding: /[^\x20-\x7e]/.test(input.text) ? 'ucs2' : 'gsm7',
            segments: 1,
            sendable: count,
            totalSegments: count,
            counts: { total: count, invalid: 0, duplicate: 0, skipped: 0 },
            problems: [],
            csvErrors: broken ? [{ line: 2, reason: 'A quoted field opens on line 2 and is never closed' }] : [],
          };
          return { result: { data } };
        }
        if (procedure === 'number.list') return { result: { data: [] } };
        return { error: { message: `no ${procedure}`, code: -32004, data: { code: 'NOT_FOUND', httpStatus: 404 } } };
      });
    return new Response(JSON.stringify(results), { status: 200, headers: { 'content-type': 'application/json' } });
  });
  return { fetchMock, previews };
}

let server: ReturnType<typeof fakeServer>;

beforeEach(() => {
  server = fakeServer();
  vi.stubGlobal('fetch', server.fetchMock);
});

afterEach(() => {
  cleanup();
  queryClient.clear();
  vi.unstubAllGlobals();
});

const sendButton = () => screen.getByRole('button', { name: /^Send/ });

describe('CampaignForm', () => {
  it('shows the preview before Send, and sends only on a preview of what is in the form now', async () => {
    render(
      <QueryClientProvider client={queryClient}>
        <CampaignForm onCreated={() => undefined} />
      </QueryClientProvider>,
    );
    expect(sendButton().hasAttribute('disabled')).toBe(true);
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Spring' } });
    fireEvent.change(screen.getByLabelText('Message'), { target: { value: 'Hi {name}' } });
    fireEvent.change(screen.getByLabelText('Or paste them'), { target: { value: '+447700900001, Ann\n+447700900002' } });

    await waitFor(() => expect(screen.getByTestId('preview-cost').textContent).toBe('Cost: 1 segment × 2 recipients = 2 segments'));
    expect(sendButton().textContent).toBe('Send to 2 recipients');
    expect(sendButton().hasAttribute('disabled')).toBe(false);
    expect(server.previews.at(-1)).toEqual({ text: 'Hi {name}', recipients: [{ phone: '+447700900001', name: 'Ann' }, '+447700900002'] });

    // A change makes the preview stale: no Send until the new one is back.
    fireEvent.change(screen.getByLabelText('Message'), { target: { value: 'Hi {name} 😀' } });
    expect(sendButton().hasAttribute('disabled')).toBe(true);
    expect(screen.getByTestId('campaign-preview').getAttribute('aria-busy')).toBe('true');
    await waitFor(() => expect(screen.getByTestId('preview-encoding').textContent).toBe('Unicode'));
    expect(sendButton().hasAttribute('disabled')).toBe(false);
  });

  it('reads an uploaded CSV file and shows its name and rows', async () => {
    render(
      <QueryClientProvider client={queryClient}>
        <CampaignForm onCreated={() => undefined} />
      </QueryClientProvider>,
    );
    const csv = 'phone,name\n+447700900001,Ann\n+447700900002,Bob\n';
    const file = new File([csv], 'people.csv', { type: 'text/csv' });
    // jsdom's File has no text() (browsers do).
    Object.defineProperty(file, 'text', { value: () => Promise.resolve(csv) });
    fireEvent.change(screen.getByLabelText('Upload CSV…'), { target: { files: [file] } });
    await waitFor(() => expect(screen.getByTestId('campaign-file').textContent).toContain('people.csv · 2 rows'));
    expect(screen.queryByLabelText('Or paste them')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Remove people.csv' }));
    expect(screen.getByLabelText('Or paste them')).toBeTruthy();
  });

  it('a CSV with unreadable lines shows them and cannot be sent', async () => {
    render(
      <QueryClientProvider client={queryClient}>
        <CampaignForm onCreated={() => undefined} />
      </QueryClientProvider>,
    );
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Spring' } });
    fireEvent.change(screen.getByLabelText('Message'), { target: { value: 'Hi' } });
    const csv = 'phone,name\n+447700900001,"Ann\n+447700900002,Bob\n';
    const file = new File([csv], 'people.csv', { type: 'text/csv' });
    Object.defineProperty(file, 'text', { value: () => Promise.resolve(csv) });
    fireEvent.change(screen.getByLabelText('Upload CSV…'), { target: { files: [file] } });
    await waitFor(() =>
      expect(screen.getByTestId('preview-csv-errors').textContent).toContain('A quoted field opens on line 2 and is never closed'),
    );
    expect(sendButton().hasAttribute('disabled')).toBe(true);
    expect(screen.getByText('Fix the CSV lines listed above first')).toBeTruthy();
  });
});
