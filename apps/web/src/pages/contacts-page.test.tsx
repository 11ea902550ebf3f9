import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { QueryClientProvider } from '@tanstack/react-query';
import type { ContactListDto } from '@parley/shared/campaign';
import { queryClient, trpc } from '../trpc';
import { ContactsPage } from './contacts-page';

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

const list: ContactListDto = {
  items: [
    {
      id: 2,
      phone: '+447700900002',
      name: 'Bob',
      optedOutAt: null,
      optOutSource: null,
      createdAt: '2025-01-02T00:00:00.000Z',
      conversationCount: 1,
      lastMessageAt: '2025-01-02T10:00:00.000Z',
    },
    {
      id: 1,
      phone: '+447700900001',
      name: null,
      optedOutAt: '2025-01-03T09:30:00.000Z',
      optOutSource: 'keyword',
      createdAt: '2025-01-01T00:00:00.000Z',
      conversationCount: 2,
      lastMessageAt: null,
    },
  ],
  nextCursor: null,
};

function renderPage(role: 'admin' | 'agent') {
  queryClient.setQueryData(trpc.contact.list.queryKey({ limit: 50 }), list);
  return render(
    <QueryClientProvider client={queryClient}>
      <ContactsPage me={agent(role)} />
    </QueryClientProvider>,
  );
}

const row = (phone: string) => {
  const cell = screen.getByText(phone);
  const tr = cell.closest('tr');
  if (!tr) throw new Error(`no row for ${phone}`);
  return within(tr);
};

describe('ContactsPage', () => {
  it('shows each contact’s opt-out state with when and how', () => {
    renderPage('admin');
    expect(row('+447700900001').getByTestId('optout-state').textContent).toMatch(/Opted out.*2025.*texted STOP/);
    expect(row('+447700900002').getByText('Subscribed')).toBeTruthy();
    expect(row('+447700900002').getByText('Bob')).toBeTruthy();
    expect(row('+447700900001').getByText('No name')).toBeTruthy();
  });

  it('lets an admin opt out, and asks before opting someone back in', () => {
    renderPage('admin');
    expect(row('+447700900002').getByRole('button', { name: 'Opt out Bob' }).hasAttribute('disabled')).toBe(false);
    fireEvent.click(row('+447700900001').getByRole('button', { name: 'Opt in +447700900001' }));
    expect(row('+447700900001').getByText('Only with their consent.')).toBeTruthy();
    fireEvent.click(row('+447700900001').getByRole('button', { name: 'Keep' }));
    expect(row('+447700900001').queryByText('Only with their consent.')).toBeNull();
    expect(screen.getByRole('button', { name: 'Export opt-outs (CSV)' }).hasAttribute('disabled')).toBe(false);
  });

  it('shows an agent the buttons disabled, saying only an admin can', () => {
    renderPage('agent');
    const button = row('+447700900002').getByRole('button', { name: 'Opt out Bob' });
    expect(button.hasAttribute('disabled')).toBe(true);
    expect(button.parentElement?.getAttribute('title')).toBe('Only an admin can opt a contact out or back in');
    expect(button.getAttribute('aria-describedby')).toBe('admin-only-hint');
    expect(screen.getByRole('button', { name: 'Export opt-outs (CSV)' }).hasAttribute('disabled')).toBe(true);
  });

  it('edits a name in place; Escape cancels', () => {
    renderPage('agent');
    fireEvent.click(screen.getByRole('button', { name: 'Edit the name of +447700900002' }));
    const input = screen.getByLabelText('Name of +447700900002') as HTMLInputElement;
    expect(input.value).toBe('Bob');
    fireEvent.keyDown(input, { key: 'Escape' });
    expect(screen.queryByLabelText('Name of +447700900002')).toBeNull();
  });
});
