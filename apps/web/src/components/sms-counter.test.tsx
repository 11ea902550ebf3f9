import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/react';
import { SmsCounter } from './sms-counter';

afterEach(cleanup);

describe('SmsCounter', () => {
  it('counts an empty message as GSM-7, no segments', () => {
    render(<SmsCounter text="" />);
    expect(screen.getByTestId('sms-characters').textContent).toBe('0 chars');
    expect(screen.getByTestId('sms-encoding').textContent).toBe('GSM-7');
    expect(screen.getByTestId('sms-segments').textContent).toBe('0 segments');
    expect(screen.queryByTestId('sms-unicode-warning')).toBeNull();
  });

  it('fits 160 GSM-7 characters in one segment and warns at 161', () => {
    const { rerender } = render(<SmsCounter text={'a'.repeat(160)} />);
    expect(screen.getByTestId('sms-segments').textContent).toBe('1 segment');
    expect(screen.queryByTestId('sms-segments-warning')).toBeNull();
    rerender(<SmsCounter text={'a'.repeat(161)} />);
    expect(screen.getByTestId('sms-segments').textContent).toBe('2 segments');
    expect(screen.getByTestId('sms-segments-warning').textContent).toContain('2 segments');
  });

  it('counts GSM-7 extension characters as two', () => {
    render(<SmsCounter text={'€'.repeat(80)} />);
    expect(screen.getByTestId('sms-encoding').textContent).toBe('GSM-7');
    expect(screen.getByTestId('sms-segments').textContent).toBe('1 segment');
  });

  it('switches to Unicode and names the characters that caused it', () => {
    render(<SmsCounter text="Thanks 😀 ✓" />);
    expect(screen.getByTestId('sms-encoding').textContent).toBe('Unicode');
    const warning = screen.getByTestId('sms-unicode-warning').textContent ?? '';
    expect(warning).toContain('😀');
    expect(warning).toContain('✓');
    expect(warning).toContain('70 characters per segment');
  });

  it('uses 67 per segment for long Unicode texts', () => {
    render(<SmsCounter text={'й'.repeat(71)} />);
    expect(screen.getByTestId('sms-segments').textContent).toBe('2 segments');
    expect(screen.getByTestId('sms-unicode-warning').textContent).toContain('67 characters per segment');
  });
});
