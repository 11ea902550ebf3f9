import { countSms, nonGsmCharacters } from '@parley/shared/sms';

/** Characters, encoding and segments as the text is typed, with a warning when it costs more. */
export function SmsCounter({ text }: { text: string }) {
  const count = countSms(text);
  const unicode = count.encoding === 'ucs2';
  const culprits = unicode ? nonGsmCharacters(text) : [];
  const segmentsLabel = `${count.segments} ${count.segments === 1 ? 'segment' : 'segments'}`;
  return (
    <div className="sms-counter" aria-live="polite" data-testid="sms-counter">
      <span className="counter-line">
        <span data-testid="sms-characters">{count.characters} chars</span>
        <span aria-hidden="true"> · </span>
        <span data-testid="sms-encoding" className={unicode ? 'warn-text' : undefined}>
          {unicode ? 'Unicode' : 'GSM-7'}
        </span>
        <span aria-hidden="true"> · </span>
        <span data-testid="sms-segments" className={count.segments > 1 ? 'warn-text' : undefined}>
          {segmentsLabel}
        </span>
        {count.segments > 0 && <span className="muted"> ({count.remaining} left)</span>}
      </span>
      {unicode && (
        <span className="warning" role="note" data-testid="sms-unicode-warning">
          Unicode because of{' '}
          {culprits
            .slice(0, 5)
            .map((c) => `“${c}”`)
            .join(' ')}
          {culprits.length > 5 ? '…' : ''}: {count.perSegment} characters per segment instead of {count.segments > 1 ? 153 : 160}.
        </span>
      )}
      {count.segments > 1 && (
        <span className="warning" role="note" data-testid="sms-segments-warning">
          Longer than one SMS: sent as {count.segments} segments, each billed.
        </span>
      )}
    </div>
  );
}
