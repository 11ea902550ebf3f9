import { describe, expect, it } from 'vitest';
import { matchKeyword } from './keywords';

describe('matchKeyword', () => {
  it.each([
    ['STOP', 'stop'],
    ['stop', 'stop'],
    [' Stop ', 'stop'],
    ['S T O P', 'stop'],
    ['stop.', 'stop'],
    ['StopAll', 'stop'],
    ['unsubscribe', 'stop'],
    ['CANCEL', 'stop'],
    ['end', 'stop'],
    ['quit', 'stop'],
    ['START', 'start'],
    ['unstop', 'start'],
    ['help', 'help'],
    ['Info', 'help'],
  ])('%j → %s', (text, kw) => expect(matchKeyword(text)).toBe(kw));

  it.each(['please stop texting me', 'stopping by later', 'HELP ME', 'started', '', 'top'])('%j is not a keyword', (text) =>
    expect(matchKeyword(text)).toBeNull(),
  );
});
