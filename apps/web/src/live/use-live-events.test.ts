import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderHook, cleanup } from '@testing-library/react';
import { TRPCClientError } from '@trpc/client';
import type * as TrpcModule from '../trpc';

interface Callbacks {
  onStarted?: () => void;
  onData?: (value: { id: string; data: unknown }) => void;
  onError?: (error: unknown) => void;
}
const calls: Array<{ input: { lastEventId: string | null }; callbacks: Callbacks; unsubscribe: ReturnType<typeof vi.fn> }> = [];

vi.mock('../trpc', async (importOriginal) => {
  const actual = await importOriginal<typeof TrpcModule>();
  return {
    ...actual,
    trpcClient: {
      event: {
        stream: {
          subscribe: (input: { lastEventId: string | null }, callbacks: Callbacks) => {
            const unsubscribe = vi.fn();
            calls.push({ input, callbacks, unsubscribe });
            return { unsubscribe };
          },
        },
      },
    },
  };
});

const { queryClient } = await import('../trpc');
const { useLiveEvents, resetLiveCursor } = await import('./use-live-events');
const { onSessionExpired } = await import('../auth/session-events');

/** The error the server's RESYNC answer becomes on the client (appCode in data, as the errorFormatter puts it). */
function serverError(code: string, httpStatus: number, appCode: string | null): TRPCClientError<never> {
  return new TRPCClientError('from the server', {
    result: { error: { code: -32000, message: 'from the server', data: { code, httpStatus, appCode } } },
  } as never);
}

afterEach(() => {
  cleanup();
  calls.length = 0;
  resetLiveCursor();
  vi.restoreAllMocks();
});

describe('useLiveEvents', () => {
  it('on RESYNC drops its position, subscribes again from the tail and refetches once started', async () => {
    const invalidate = vi.spyOn(queryClient, 'invalidateQueries').mockResolvedValue();
    renderHook(() => useLiveEvents(1));
    expect(calls).toHaveLength(1);
    calls[0]?.callbacks.onStarted?.();
    calls[0]?.callbacks.onData?.({ id: '41', data: { id: 41, type: 'unknown.kind', payload: {} } });
    expect(invalidate).toHaveBeenCalledTimes(1);

    calls[0]?.callbacks.onError?.(serverError('CONFLICT', 409, 'RESYNC'));
    // At once (no retry delay), without the compacted id.
    expect(calls).toHaveLength(2);
    expect(calls[0]?.unsubscribe).toHaveBeenCalled();
    expect(calls[1]?.input.lastEventId).toBeNull();
    expect(invalidate).toHaveBeenCalledTimes(1);
    calls[1]?.callbacks.onStarted?.();
    // Everything refetched, after the new stream started.
    expect(invalidate).toHaveBeenCalledTimes(2);
  });

  it('other errors retry from the last id; UNAUTHORIZED signs out', async () => {
    vi.useFakeTimers();
    try {
      vi.spyOn(queryClient, 'invalidateQueries').mockResolvedValue();
      let signedOut = 0;
      const off = onSessionExpired(() => (signedOut += 1));
      renderHook(() => useLiveEvents(1));
      calls[0]?.callbacks.onStarted?.();
      calls[0]?.callbacks.onData?.({ id: '7', data: { id: 7, type: 'unknown.kind', payload: {} } });
      calls[0]?.callbacks.onError?.(serverError('INTERNAL_SERVER_ERROR', 500, null));
      expect(calls).toHaveLength(1);
      vi.advanceTimersByTime(2_000);
      expect(calls).toHaveLength(2);
      expect(calls[1]?.input.lastEventId).toBe('7');
      calls[1]?.callbacks.onError?.(serverError('UNAUTHORIZED', 401, null));
      expect(signedOut).toBe(1);
      vi.advanceTimersByTime(10_000);
      expect(calls).toHaveLength(2);
      off();
    } finally {
      vi.useRealTimers();
    }
  });
});
