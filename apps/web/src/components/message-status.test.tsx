import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import type { MessageStatus } from '@parley/shared/dto';
import { MessageStatusBadge } from './message-status';

afterEach(cleanup);

const message = (status: MessageStatus, error: Partial<{ errorCode: string; errorReason: string; errorDetail: string }> = {}) => ({
  status,
  errorCode: error.errorCode ?? null,
  errorReason: error.errorReason ?? null,
  errorDetail: error.errorDetail ?? null,
});

describe('MessageStatusBadge', () => {
  it.each([
    ['queued', 'Queued'],
    ['submitted', 'Sent'],
    ['delivered', 'Delivered'],
    ['read', 'Read'],
  ] as const)('shows %s as %s', (status, label) => {
    render(<MessageStatusBadge message={message(status)} />);
    expect(screen.getByText(label).getAttribute('data-status')).toBe(status);
    expect(screen.queryByRole('button')).toBeNull();
  });

  it.each(['failed', 'rejected', 'undeliverable', 'interrupted'] as const)('shows %s with its reason on hover and tap', (status) => {
    render(<MessageStatusBadge message={message(status, { errorCode: '1170', errorReason: 'Invalid or missing number' })} />);
    const badge = screen.getByRole('button');
    expect(badge.getAttribute('data-status')).toBe(status);
    expect(badge.getAttribute('title')).toBe('Invalid or missing number (error 1170)');
    expect(screen.queryByRole('note')).toBeNull();
    fireEvent.click(badge);
    expect(screen.getByRole('note').textContent).toBe('Invalid or missing number (error 1170)');
  });

  it('says so when the provider gave no reason', () => {
    render(<MessageStatusBadge message={message('failed')} />);
    expect(screen.getByRole('button').getAttribute('title')).toBe('No reason given');
  });
});
