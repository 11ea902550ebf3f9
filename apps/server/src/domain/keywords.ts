/**
 * Compliance keywords (README "Compliance"): the whole message, case-, space- and
 * punctuation-insensitive — `Stop!`, `stop all`, `Opt-Out`, `S T O P` all count. The opt-out list is
 * the FCC's (2024 consent rule: STOP, QUIT, END, REVOKE, OPT OUT, CANCEL, UNSUBSCRIBE) plus the
 * carriers' STOPALL / STOP ALL.
 */
export type Keyword = 'stop' | 'start' | 'help';

const KEYWORDS: Record<string, Keyword> = {
  STOP: 'stop',
  STOPALL: 'stop',
  UNSUBSCRIBE: 'stop',
  CANCEL: 'stop',
  END: 'stop',
  QUIT: 'stop',
  REVOKE: 'stop',
  OPTOUT: 'stop',
  START: 'start',
  UNSTOP: 'start',
  SUBSCRIBE: 'start',
  HELP: 'help',
  INFO: 'help',
};

/** Letters only, upper case, compatibility forms folded (full-width `ＳＴＯＰ` is STOP). */
function lettersOf(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}]+/gu, '')
    .toUpperCase();
}

export function matchKeyword(text: string): Keyword | null {
  return KEYWORDS[lettersOf(text)] ?? null;
}

/**
 * Free text that reads like an opt-out ("please stop texting me", "remove me from this list",
 * "don't text me again") without being a keyword. It does not opt out by itself: the conversation is
 * flagged for an agent to confirm or dismiss. Deliberately narrow — "stop by tomorrow?", "cancel my
 * appointment", "the bus stop" are ordinary messages.
 */
const CONTACTING = String.raw`(?:text(?:ing|s)?|txt(?:ing)?|messag(?:e|ing)|msg(?:ing)?|sms(?:ing)?|contact(?:ing)?|call(?:ing)?|spam(?:ming)?|bother(?:ing)?|harass(?:ing)?)`;
const SENDING = String.raw`(?:send(?:ing)?\s+(?:me\s+|us\s+)?(?:(?:any|these|this|those|the|more|your|any\s+more)\s+)?(?:texts?|txts?|messages?|sms|msgs?|stuff|junk|spam|ads|promotions|offers))`;
const OPT_OUT_WORDS = String.raw`(?:stop(?:\s*all)?|unsubscribe|cancel|end|quit|revoke|opt\s*-?\s*out)`;
const PLEASE = String.raw`(?:please|pls|plz|kindly|now|immediately|asap|thanks?|thank\s+you|it|them|this|already|again|ok|okay)`;
/** "I can't stop texting my friends" is not about us. */
const NOT_NEGATED = String.raw`(?<!(?:can't|cant|cannot|can\s+not|couldn't|won't|wont|never)\s+)`;

const POSSIBLE_OPT_OUT: RegExp[] = [
  // "stop texting me", "quit messaging us", "please stop sending me these texts", "cease contacting me"
  new RegExp(String.raw`${NOT_NEGATED}\b(?:stop|quit|cease|end)\s+(?:all\s+)?(?:${CONTACTING}|${SENDING})\b`),
  // "stop the texts", "no more messages", "stop all messages"
  new RegExp(
    String.raw`${NOT_NEGATED}\b(?:stop|no\s+more|end)\s+(?:all\s+)?(?:the\s+|these\s+|your\s+|of\s+(?:the|these|your)\s+)?(?:texts?|txts?|messages?|sms|msgs?|spam)\b`,
  ),
  // "remove me from this list", "remove my number", "take me off", "delete my number"
  /\b(?:remove|delete|erase)\s+(?:me|my\s+(?:number|phone|cell|mobile|details|info|name))\b/,
  /\btake\s+(?:me|my\s+(?:number|phone|name))\s+off\b/,
  // "don't text me again", "do not message me", "never contact me", "dont txt me", "don't send me more texts"
  new RegExp(String.raw`\b(?:do\s*n'?t|do\s+not|never)\s+(?:ever\s+)?(?:${CONTACTING}\s+(?:me|us|this\s+(?:number|phone))|${SENDING})\b`),
  // "unsubscribe me", "how do I unsubscribe", "I want to opt out", "opt me out"
  /\bunsubscribe\b/,
  /\bopt\s*-?\s*(?:me\s+)?out\b/,
  /\bleave\s+me\s+alone\b/,
  // A keyword with a courtesy around it: "stop please", "please STOP!!", "Stop it", "end it now", "quit it"
  new RegExp(String.raw`^(?:${PLEASE}\s+)*${OPT_OUT_WORDS}(?:\s+${PLEASE})*$`),
];

/** Lower case, curly quotes straightened, punctuation to spaces (apostrophes kept), spaces collapsed. */
function wordsOf(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc`´]/g, "'")
    .replace(/[^\p{L}\p{N}'\s-]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Whether free text looks like an opt-out request (never true for a keyword itself: that already acted). */
export function looksLikeOptOut(text: string): boolean {
  if (matchKeyword(text) !== null) return false;
  const words = wordsOf(text);
  if (words === '' || words.length > 500) return false;
  return POSSIBLE_OPT_OUT.some((re) => re.test(words));
}

export const STOP_CONFIRMATION = 'You have been unsubscribed and will receive no more messages from us. Reply START to resubscribe.';
export const START_CONFIRMATION = 'You have been resubscribed. Reply STOP to unsubscribe, HELP for help.';
/**
 * The HELP answer when neither the workspace setting (`helpText`) nor HELP_TEXT names one: who
 * answers, how to reach a person, the rates notice carriers require, and how to stop.
 */
export const DEFAULT_HELP_TEXT =
  'This number is answered by our support team: reply here to reach a person. Msg & data rates may apply. Reply STOP to opt out, START to opt back in.';
