import { afterEach, describe, expect, it } from 'vitest';
import { act, cleanup, renderHook } from '@testing-library/react';
import { navigate, parseRoute, sectionOf, useRoute } from './navigation';

afterEach(() => {
  cleanup();
  window.history.replaceState(null, '', '/');
});

describe('parseRoute', () => {
  it.each([
    ['/', { page: 'inbox' }],
    ['/c/12', { page: 'inbox' }],
    ['/campaigns', { page: 'campaigns' }],
    ['/campaigns/', { page: 'campaigns' }],
    ['/campaigns/new', { page: 'campaign-new' }],
    ['/campaigns/42', { page: 'campaign', id: 42 }],
    ['/contacts', { page: 'contacts' }],
    ['/contacts/7', { page: 'contact', id: 7 }],
    ['/stats', { page: 'stats' }],
    ['/team', { page: 'team' }],
    ['/account', { page: 'account' }],
    ['/invite', { page: 'invite' }],
    ['/nope', { page: 'not-found' }],
  ])('%s', (path, route) => {
    expect(parseRoute(path)).toEqual(route);
  });

  it('puts a campaign and the new-campaign form under Campaigns', () => {
    expect(sectionOf({ page: 'campaign', id: 1 })).toBe('campaigns');
    expect(sectionOf({ page: 'campaign-new' })).toBe('campaigns');
    expect(sectionOf({ page: 'not-found' })).toBeNull();
  });
});

describe('navigate and useRoute', () => {
  it('pushes a history entry, re-renders the route, and follows back', async () => {
    const { result } = renderHook(() => useRoute());
    expect(result.current).toEqual({ page: 'inbox' });
    act(() => navigate('/campaigns/7'));
    expect(window.location.pathname).toBe('/campaigns/7');
    expect(result.current).toEqual({ page: 'campaign', id: 7 });
    act(() => navigate('/stats', { replace: true }));
    expect(result.current).toEqual({ page: 'stats' });
    await act(async () => {
      window.history.back();
      await new Promise((resolve) => window.addEventListener('popstate', resolve, { once: true }));
    });
    expect(result.current).toEqual({ page: 'inbox' });
  });

  it('tells other popstate listeners (the inbox selection) about it', () => {
    let heard = '';
    const listener = () => (heard = window.location.pathname);
    window.addEventListener('popstate', listener);
    navigate('/c/5');
    window.removeEventListener('popstate', listener);
    expect(heard).toBe('/c/5');
  });
});
