import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/react';
import { QueryClientProvider } from '@tanstack/react-query';
import { queryClient, trpc } from '../trpc';
import { CAMPAIGN_ADMIN_HINT } from '../lib/roles';
import { CampaignsPage, NewCampaignPage } from './campaigns-page';

afterEach(() => {
  cleanup();
  queryClient.clear();
});

const agent = (role: 'admin' | 'agent') => ({
  id: 1,
  email: 'a@parley.test',
  name: 'A',
  role,
  disabledAt: null,
  lastSeenAt: null,
  createdAt: '2025-01-01T00:00:00.000Z',
});

function renderPage(page: 'list' | 'new', role: 'admin' | 'agent') {
  queryClient.setQueryData(trpc.campaign.list.infiniteQueryKey({ limit: 50 }), {
    pages: [{ items: [], nextCursor: null }],
    pageParams: [null],
  });
  const me = agent(role);
  return render(
    <QueryClientProvider client={queryClient}>
      {page === 'list' ? <CampaignsPage me={me} /> : <NewCampaignPage me={me} />}
    </QueryClientProvider>,
  );
}

describe('campaigns by role', () => {
  it('offers an admin "New campaign"', () => {
    renderPage('list', 'admin');
    expect(screen.getAllByRole('link', { name: /New campaign/ }).length).toBeGreaterThan(0);
  });

  it('tells an agent that only an admin can create campaigns, with no create link or form', () => {
    renderPage('list', 'agent');
    expect(screen.queryByRole('link', { name: /New campaign/ })).toBeNull();
    expect(screen.getByText(CAMPAIGN_ADMIN_HINT)).toBeTruthy();
    cleanup();
    renderPage('new', 'agent');
    expect(screen.queryByRole('form')).toBeNull();
    expect(screen.getByText(`${CAMPAIGN_ADMIN_HINT}.`)).toBeTruthy();
  });
});
