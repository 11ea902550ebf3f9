/** Compliance keywords (README "Compliance keywords"): the whole message, case- and space-insensitive. */
export type Keyword = 'stop' | 'start' | 'help';

const KEYWORDS: Record<string, Keyword> = {
  STOP: 'stop',
  STOPALL: 'stop',
  UNSUBSCRIBE: 'stop',
  CANCEL: 'stop',
  END: 'stop',
  QUIT: 'stop',
  START: 'start',
  UNSTOP: 'start',
  HELP: 'help',
  INFO: 'help',
};

export function matchKeyword(text: string): Keyword | null {
  const word = text.replace(/[\s.!]+/g, '').toUpperCase();
  return KEYWORDS[word] ?? null;
}

export const STOP_CONFIRMATION =
  'You have been unsubscribed and will receive no more messages from us. Reply START to resubscribe.';
export const START_CONFIRMATION = 'You have been resubscribed. Reply STOP to unsubscribe, HELP for help.';
export const DEFAULT_HELP_TEXT =
  'Parley: reply to this number to reach our team. Reply STOP to opt out, START to opt back in. Msg & data rates may apply.';
