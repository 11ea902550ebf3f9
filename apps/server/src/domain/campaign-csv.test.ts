import { describe, expect, it } from 'vitest';
import { AppError } from '../errors';
import { parseRecipientsCsv } from './campaign-csv';

const rowsOf = async (text: string) => {
  const { rows, errors } = await parseRecipientsCsv(text);
  expect(errors).toEqual([]);
  return rows;
};

async function badRequest(text: string): Promise<string> {
  try {
    await parseRecipientsCsv(text);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('BAD_REQUEST');
    return (error as AppError).message;
  }
  throw new Error('expected BAD_REQUEST');
}

describe('parseRecipientsCsv', () => {
  it('reads the phone and name columns with their lines (the header is line 1)', async () => {
    expect(await rowsOf('phone,name\n+447700900001,Ann\n+447700900002,\n')).toEqual([
      { line: 2, phone: '+447700900001', name: 'Ann' },
      { line: 3, phone: '+447700900002', name: null },
    ]);
  });

  it('takes number, mobile, msisdn or to as the phone column, any case, in any position', async () => {
    for (const header of ['Number', 'MOBILE', ' msisdn ', 'To']) {
      expect(await rowsOf(`id,${header},Name\n7,447700900001,Bo`)).toEqual([{ line: 2, phone: '447700900001', name: 'Bo' }]);
    }
    // `phone` wins when several are present.
    expect((await rowsOf('to,phone\n+1,+2'))[0]?.phone).toBe('+2');
  });

  it('handles quotes, escaped quotes, delimiters and line breaks inside quotes; lines count physical lines', async () => {
    const csv = 'name,phone\n"Smith, Jo","+44 7700 900001"\n"Say ""hi""",+447700900002\n"Two\nlines",+447700900003\n+447700900004';
    expect(await rowsOf(csv)).toEqual([
      { line: 2, phone: '+44 7700 900001', name: 'Smith, Jo' },
      { line: 3, phone: '+447700900002', name: 'Say "hi"' },
      { line: 4, phone: '+447700900003', name: 'Two\nlines' },
      { line: 6, phone: '', name: '+447700900004' },
    ]);
  });

  it('tolerates a BOM, CRLF, blank lines, missing trailing fields and spaces', async () => {
    const csv = '\uFEFFPhone , Name\r\n\r\n +447700900001 , Ann \r\n\r\n+447700900002\r\n   \r\n,\r\n"",x\r\n';
    expect(await rowsOf(csv)).toEqual([
      { line: 3, phone: '+447700900001', name: 'Ann' },
      { line: 5, phone: '+447700900002', name: null },
      // Spaces-only and delimiters-only lines are blank; a quoted empty phone is a row (reported invalid).
      { line: 8, phone: '', name: 'x' },
    ]);
  });

  it('detects ; and tab delimiters from the header', async () => {
    expect(await rowsOf('name;phone\n"A; B";+447700900001\n')).toEqual([{ line: 2, phone: '+447700900001', name: 'A; B' }]);
    expect(await rowsOf('phone\tname\n+447700900001\tAnn, Jr')).toEqual([{ line: 2, phone: '+447700900001', name: 'Ann, Jr' }]);
  });

  it('without a phone column: BAD_REQUEST naming the columns found', async () => {
    expect(await badRequest('email,name\na@b.c,Ann\n')).toBe(
      'The CSV has no phone column: its header has "email", "name". Name the column phone, number, mobile, msisdn or to',
    );
    expect(await badRequest('+447700900001\n+447700900002')).toMatch(
      /no header row: its first line \("\+447700900001"\) looks like a recipient/,
    );
    expect(await badRequest('')).toMatch(/The CSV is empty/);
    expect(await badRequest('\n\n')).toMatch(/The CSV is empty/);
  });

  it('reads a header with no rows as no recipients', async () => {
    expect(await rowsOf('phone,name\n')).toEqual([]);
  });

  it('an unclosed quote is a per-line error, never a name that swallows the rest of the file', async () => {
    const { rows, errors } = await parseRecipientsCsv('phone,name\n+447700900001,"Ann\n+447700900002,Bob\n+447700900003,Cy\n');
    expect(rows).toEqual([]);
    expect(errors).toEqual([{ line: 2, reason: expect.stringMatching(/A quoted field opens on line 2 and is never closed \(lines 2-4/) }]);
    // Rows before the bad one are read, with their lines; CRLF counts the same.
    const crlf = await parseRecipientsCsv('phone,name\r\n+447700900001,Ann\r\n\r\n+447700900002,"Bo\r\n+447700900003,Cy\r\n');
    expect(crlf.rows).toEqual([{ line: 2, phone: '+447700900001', name: 'Ann' }]);
    expect(crlf.errors.map((e) => e.line)).toEqual([4]);
  });

  it('stops reading at the row cap, long before the end of the file', async () => {
    const rows = Array.from({ length: 50_000 }, (_, i) => `+4477009${String(i).padStart(5, '0')},n${i}`).join('\n');
    const csv = `phone,name\n${rows}\n`;
    await expect(parseRecipientsCsv(csv, { maxRows: 1000 })).rejects.toThrow(/More than 1000 recipients: reading stopped at line 1002/);
  });

  it('a quote left open in a large file stops the reading there with one error, not a cascade', async () => {
    const rows = Array.from({ length: 40_000 }, (_, i) => `+4477009${String(i).padStart(5, '0')},n${i}`);
    const { rows: read, errors } = await parseRecipientsCsv(`phone,name\n+447700900001,Ann\n+447700900002,"Bo\n${rows.join('\n')}\n`);
    expect(read).toEqual([{ line: 2, phone: '+447700900001', name: 'Ann' }]);
    expect(errors).toEqual([
      { line: 3, reason: 'The record starting on line 3 runs past 256 KB (a quote left open?): the file was not read beyond it' },
    ]);
  });
});
