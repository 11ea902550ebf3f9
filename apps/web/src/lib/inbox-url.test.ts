import { afterEach, describe, expect, it } from 'vitest';
import { act, cleanup, renderHook } from '@testing-library/react';
import { inboxUrl, parseInboxUrl, useInboxState, type InboxState } from './inbox-url';

afterEach(() => {
  cleanup();
  window.history.replaceState(null, '', '/');
});

const parse = (url: string) => {
  const u = new URL(url, 'http://x');
  return parseInboxUrl(u.pathname, u.search);
};

describe('the inbox URL', () => {
  it.each<InboxState>([
    { filter: 'open', search: '', number: '', selected: null },
    { filter: 'mine', search: '', number: '', selected: 42 },
    { filter: 'closed', search: 'parcel & refund?', number: '+447700900100', selected: null },
    { filter: 'all', search: '  spaces kept ', number: '+14155550100', selected: 7 },
    { filter: 'unassigned', search: 'ünïcödé 📦 #1 %20', number: '', selected: 123456 },
  ])('round-trips %o', (state) => {
    expect(parse(inboxUrl(state))).toEqual(state);
  });

  it('leaves the defaults out and keeps a + in a number', () => {
    expect(inboxUrl({ filter: 'open', search: '', number: '', selected: null })).toBe('/');
    expect(inboxUrl({ filter: 'open', search: '', number: '', selected: 5 })).toBe('/c/5');
    expect(inboxUrl({ filter: 'mine', search: 'late', number: '+447700900100', selected: 5 })).toBe(
      '/c/5?filter=mine&q=late&number=%2B447700900100',
    );
  });

  it('reads a shared link, falling back to the defaults for what it cannot read', () => {
    expect(parse('/c/9?filter=closed&q=hi&number=%2B447700900100')).toEqual({
      filter: 'closed',
      search: 'hi',
      number: '+447700900100',
      selected: 9,
    });
    expect(parse('/?filter=bogus')).toEqual({ filter: 'open', search: '', number: '', selected: null });
    expect(parse('/?filter=toString')).toMatchObject({ filter: 'open' });
    expect(parse('/c/0')).toMatchObject({ selected: null });
    expect(parse('/c/99999999999999999999')).toMatchObject({ selected: null });
    expect(parse('/campaigns?filter=mine')).toMatchObject({ selected: null, filter: 'mine' });
  });
});

describe('useInboxState', () => {
  it('reads the address bar, writes back to it, and follows back/forward', async () => {
    window.history.replaceState(null, '', '/?filter=mine');
    const { result } = renderHook(() => useInboxState());
    expect(result.current[0]).toEqual({ filter: 'mine', search: '', number: '', selected: null });
    const before = window.history.length;

    // Typing a search replaces the entry (no history per keystroke) and keeps the filter.
    act(() => result.current[1]({ search: 'p' }));
    act(() => result.current[1]({ search: 'pa' }));
    expect(window.location.pathname + window.location.search).toBe('/?filter=mine&q=pa');
    expect(window.history.length).toBe(before);

    // Opening a conversation is a new entry, with the filter and search still on it.
    act(() => result.current[1]({ selected: 3 }));
    expect(window.location.pathname + window.location.search).toBe('/c/3?filter=mine&q=pa');
    expect(result.current[0]).toEqual({ filter: 'mine', search: 'pa', number: '', selected: 3 });
    expect(window.history.length).toBe(before + 1);

    await act(async () => {
      const popped = new Promise((resolve) => window.addEventListener('popstate', resolve, { once: true }));
      window.history.back();
      await popped;
    });
    expect(result.current[0]).toEqual({ filter: 'mine', search: 'pa', number: '', selected: null });
  });
});
