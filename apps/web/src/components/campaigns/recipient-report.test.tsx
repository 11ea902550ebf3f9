import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { QueryClientProvider } from '@tanstack/react-query';
import type { CampaignDto, CampaignRecipientsPageDto } from '@parley/shared/campaign';
import { queryClient, trpc } from '../../trpc';
import { RecipientReport } from './recipient-report';

afterEach(() => {
  cleanup();
  queryClient.clear();
  window.history.replaceState(null, '', '/');
});

const campaign: CampaignDto = {
  id: 3,
  name: 'Spring',
  text: 'Hi',
  status: 'running',
  ourNumber: '+447700900000',
  encoding: 'gsm7',
  segments: 1,
  counts: {
    total: 3,
    invalid: 1,
    duplicate: 0,
    skipped: 0,
    pending: 1,
    held: 0,
    queued: 0,
    submitted: 0,
    delivered: 1,
    failed: 0,
    interrupted: 0,
    cancelled: 0,
  },
  quietHours: true,
  createdByAgentId: 1,
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
  finishedAt: null,
};

const page: CampaignRecipientsPageDto = {
  items: [
    {
      id: 1,
      line: 2,
      input: '+447700900001',
      phone: '+447700900001',
      name: 'Ann',
      state: 'delivered',
      reason: null,
      heldUntil: null,
      messageId: 7,
      conversationId: 12,
    },
    {
      id: 2,
      line: 3,
      input: '+447700900002',
      phone: '+447700900002',
      name: null,
      state: 'pending',
      reason: null,
      heldUntil: null,
      messageId: null,
      conversationId: null,
    },
    {
      id: 3,
      line: 4,
      input: 'nope',
      phone: null,
      name: null,
      state: 'invalid',
      reason: 'Not a phone number',
      heldUntil: null,
      messageId: null,
      conversationId: null,
    },
  ],
  nextCursor: null,
};

describe('RecipientReport', () => {
  it('lists rows with state and reason, each sent one linking to its conversation in the inbox', () => {
    queryClient.setQueryData(trpc.campaign.recipients.queryKey({ id: 3, limit: 50 }), page);
    render(
      <QueryClientProvider client={queryClient}>
        <RecipientReport campaign={campaign} />
      </QueryClientProvider>,
    );
    const rows = within(screen.getByTestId('recipient-report')).getAllByRole('row').slice(1);
    expect(rows.map((r) => r.getAttribute('data-recipient'))).toEqual(['+447700900001', '+447700900002', 'nope']);
    expect(within(rows[2] as HTMLElement).getByText('Not a phone number')).toBeTruthy();
    expect(within(rows[1] as HTMLElement).queryByRole('link')).toBeNull();

    const link = screen.getByRole('link', { name: 'Open the conversation with +447700900001' });
    expect(link.getAttribute('href')).toBe('/c/12');
    fireEvent.click(link);
    expect(window.location.pathname).toBe('/c/12');
  });

  it('offers a filter per state with its count', () => {
    queryClient.setQueryData(trpc.campaign.recipients.queryKey({ id: 3, limit: 50 }), page);
    render(
      <QueryClientProvider client={queryClient}>
        <RecipientReport campaign={campaign} />
      </QueryClientProvider>,
    );
    const options = within(screen.getByLabelText('Show'))
      .getAllByRole('option')
      .map((o) => o.textContent);
    expect(options).toContain('All (3)');
    expect(options).toContain('Delivered (1)');
    expect(options).toContain('Invalid (1)');
  });
});
