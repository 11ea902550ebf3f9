import { describe, expect, it } from 'vitest';
import { countRows, isBareList, parseRecipients } from './recipients';

describe('parseRecipients', () => {
  it('sends a CSV with a header as it is, for the server to read', () => {
    const csv = 'phone,name\n+447700900001,Ann\n+447700900002,Bob\n';
    expect(parseRecipients(csv)).toBe(csv);
    expect(countRows(csv)).toBe(2);
  });

  it('leaves an unknown header to the server too (it says what is wrong)', () => {
    expect(parseRecipients('email,name\na@b.c,Ann')).toBe('email,name\na@b.c,Ann');
    expect(isBareList('\uFEFFphone\n+447700900001')).toBe(false);
  });

  it('turns pasted numbers, one a line, into a list; "number, name" keeps the name', () => {
    expect(parseRecipients('+44 7700 900001\n\n07700 900002, Bob\n(415) 555-0100;"Ann Lee"\n')).toEqual([
      '+44 7700 900001',
      { phone: '07700 900002', name: 'Bob' },
      { phone: '(415) 555-0100', name: 'Ann Lee' },
    ]);
    expect(countRows('+447700900001\n+447700900002\n')).toBe(2);
  });

  it('is null with nothing in it', () => {
    expect(parseRecipients('  \n ')).toBeNull();
  });
});
