import { useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { errorMessage } from '../lib/errors';
import { useDialogFocus } from '../lib/use-dialog-focus';
import { trpc } from '../trpc';
import { PhoneInput, phoneOrNull } from './phone-input';
import { NumberSelect } from '../lib/numbers';
import { SmsCounter } from './sms-counter';

export function NewConversationDialog({ onClose, onSent }: { onClose: () => void; onSent: (conversationId: number) => void }) {
  const [to, setTo] = useState('');
  const [text, setText] = useState('');
  const [from, setFrom] = useState('');
  const dialog = useRef<HTMLFormElement>(null);
  // Focus stays inside while it is open, starts on "To", Escape closes, and focus goes back to the opener.
  useDialogFocus(dialog, onClose, { initialFocus: '#new-to' });
  const send = useMutation(trpc.message.send.mutationOptions({ onSuccess: (message) => onSent(message.conversationId) }));
  const e164 = phoneOrNull(to);
  const ready = e164 !== null && text.trim() !== '' && !send.isPending;

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    if (ready) send.mutate({ to: e164, text, ...(from ? { from } : {}) });
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) submit(event);
  };

  return (
    <div className="sheet-backdrop" onClick={onClose}>
      <form
        ref={dialog}
        className="sheet"
        role="dialog"
        aria-modal="true"
        aria-labelledby="new-title"
        onSubmit={submit}
        onClick={(e) => e.stopPropagation()}
      >
        <h2 id="new-title">New conversation</h2>
        <PhoneInput id="new-to" label="To" value={to} onChange={setTo} />
        <NumberSelect id="new-from" label="From" value={from} onChange={setFrom} allLabel="Default number" />
        <label className="field" htmlFor="new-text">
          <span>Message</span>
          <textarea id="new-text" rows={4} value={text} onChange={(e) => setText(e.target.value)} onKeyDown={onKeyDown} />
        </label>
        <SmsCounter text={text} />
        {send.error && (
          <p className="error" role="alert">
            {errorMessage(send.error)}
          </p>
        )}
        <div className="sheet-actions">
          <button className="button ghost" type="button" onClick={onClose}>
            Cancel
          </button>
          <button className="button primary" type="submit" disabled={!ready}>
            {send.isPending ? 'Sending…' : 'Send'}
          </button>
        </div>
      </form>
    </div>
  );
}
