import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen, within } from '@testing-library/react';
import { QueryClientProvider } from '@tanstack/react-query';
import { queryClient, trpc } from '../trpc';
import { TeamPage } from './team-page';

afterEach(() => {
  cleanup();
  queryClient.clear();
});

const member = (
  id: number,
  name: string,
  role: 'admin' | 'agent',
  extra: Partial<{ disabledAt: string; invitePending: boolean }> = {},
) => ({
  id,
  email: `${name.toLowerCase()}@parley.test`,
  name,
  role,
  disabledAt: extra.disabledAt ?? null,
  lastSeenAt: null,
  createdAt: '2025-01-01T00:00:00.000Z',
  invitePending: extra.invitePending ?? false,
});
const team = [
  member(1, 'Ada', 'admin'),
  member(2, 'Bea', 'agent', { invitePending: true }),
  member(3, 'Cy', 'agent', { disabledAt: '2025-02-01T00:00:00.000Z' }),
];

function renderAs(me: (typeof team)[number]) {
  queryClient.setQueryData(trpc.agent.list.queryKey(), team);
  return render(
    <QueryClientProvider client={queryClient}>
      <TeamPage me={me} />
    </QueryClientProvider>,
  );
}
const row = (name: string) => {
  const tr = screen.getByText(name).closest('tr');
  if (!tr) throw new Error(`no row for ${name}`);
  return within(tr);
};

describe('TeamPage', () => {
  it('gives an admin the invite form and each agent’s actions (not disabling themselves)', () => {
    renderAs(team[0] as (typeof team)[number]);
    expect(screen.getByRole('form', { name: 'Invite an agent' })).toBeTruthy();
    expect(row('Bea').getByText('Invited')).toBeTruthy();
    expect(row('Cy').getByText('Disabled')).toBeTruthy();
    expect(row('Cy').getByRole('button', { name: 'Enable' })).toBeTruthy();
    expect(row('Bea').getByRole('button', { name: 'Disable' })).toBeTruthy();
    expect(row('Bea').getByRole('combobox', { name: 'Role of Bea' })).toBeTruthy();
    expect(row('Ada').queryByRole('button', { name: 'Disable' })).toBeNull();
  });

  it('shows an agent the team read-only: no form, no actions, roles as text', () => {
    renderAs(team[1] as (typeof team)[number]);
    expect(screen.queryByRole('form', { name: 'Invite an agent' })).toBeNull();
    expect(screen.queryAllByRole('button')).toHaveLength(0);
    expect(screen.queryAllByRole('combobox')).toHaveLength(0);
    expect(row('Ada').getByText('Admin')).toBeTruthy();
  });
});
