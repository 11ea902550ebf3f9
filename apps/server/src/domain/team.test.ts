import { describe, expect, it } from 'vitest';
import { handlesOf, mentionTokens } from './notes';

describe('@mentions', () => {
  it('an agent answers to their first name, whole name and email local part, without case or punctuation', () => {
    expect(handlesOf({ name: 'Ann-Marie O’Neil', email: 'am.oneil@x.test' })).toEqual(['annmarie', 'annmarieoneil', 'amoneil']);
    expect(handlesOf({ name: 'Bob', email: 'bob@x.test' })).toEqual(['bob']);
  });

  it('finds @words, not email addresses; a trailing full stop is not part of the name', () => {
    expect(mentionTokens('@Ann please ask @bob.stone. cc ops@parley.test and @Zoë!')).toEqual(['ann', 'bobstone', 'zoë']);
    expect(mentionTokens('no mentions here, mail me@x.test')).toEqual([]);
  });
});
