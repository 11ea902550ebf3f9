import { describe, expect, it } from 'vitest';
import { DEFAULT_HELP_TEXT, looksLikeOptOut, matchKeyword } from './keywords';

describe('matchKeyword', () => {
  const forms = (word: string) => [
    word,
    word.toLowerCase(),
    ` ${word[0]}${word.slice(1).toLowerCase()} `,
    `${word}!`,
    `${word}.`,
    `"${word}"`,
  ];
  it.each(['STOP', 'STOPALL', 'STOP ALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT', 'OPT OUT', 'OPT-OUT'].flatMap(forms))(
    '%j opts out',
    (text) => expect(matchKeyword(text)).toBe('stop'),
  );
  it.each(['START', 'UNSTOP', 'SUBSCRIBE'].flatMap(forms))('%j opts in', (text) => expect(matchKeyword(text)).toBe('start'));
  it.each(['HELP', 'INFO'].flatMap(forms))('%j asks for help', (text) => expect(matchKeyword(text)).toBe('help'));
  it.each(['S T O P', 'opt - out', 'Opt_Out', 'stop all!!!', 'ＳＴＯＰ', '  end\n', 'Stop-All'])(
    '%j opts out (spacing, punctuation, width)',
    (text) => expect(matchKeyword(text)).toBe('stop'),
  );

  it.each([
    'please stop texting me',
    'stop by tomorrow?',
    'stopping by later',
    'HELP ME',
    'started',
    '',
    'top',
    'stop 2',
    'cancel my appointment',
    'the end',
    'opt in',
    'subscribed',
  ])('%j is not a keyword', (text) => expect(matchKeyword(text)).toBeNull());
});

describe('looksLikeOptOut', () => {
  it.each([
    'please stop texting me',
    'Please stop texting me.',
    'remove me from this list',
    "don't text me again",
    'don’t text me again',
    'dont txt me',
    'Do not message me',
    'never contact me again',
    'stop sending me these messages',
    'Stop messaging me!!',
    'STOP PLEASE',
    'please stop',
    'Stop it',
    'no more texts please',
    'stop the messages',
    'How do I unsubscribe?',
    'I want to opt out',
    'opt me out',
    'take me off your list',
    'remove my number',
    'leave me alone',
    'quit calling me',
    "don't send me any more texts",
  ])('%j is a possible opt-out', (text) => expect(looksLikeOptOut(text)).toBe(true));

  it.each([
    'stop by tomorrow?',
    'Can you stop by tomorrow?',
    'I will stop at the shop',
    'the bus stop is closed',
    "I can't stop laughing",
    "I can't stop texting my friends",
    'cancel my appointment please',
    'see you at the end of the day',
    'please send me the invoice',
    "don't forget my order",
    'Don’t send me the invoice yet, I will call',
    'start on monday',
    'thanks!',
    'STOP', // a keyword: it opted out already, no flag
    'unstop',
    'Where do I stop the car?',
    'when does the sale end',
  ])('%j is not flagged', (text) => expect(looksLikeOptOut(text)).toBe(false));
});

describe('the default HELP answer', () => {
  it('names who answers, the rates notice and how to stop, with no placeholder', () => {
    expect(DEFAULT_HELP_TEXT).toMatch(/Msg & data rates may apply/);
    expect(DEFAULT_HELP_TEXT).toMatch(/Reply STOP to opt out/);
    expect(DEFAULT_HELP_TEXT).not.toMatch(/[{}<>[\]]/);
  });
});
