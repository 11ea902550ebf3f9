import { useState, type FormEvent, type KeyboardEvent } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import type { ConversationDto } from '@parley/shared/dto';
import { errorMessage } from '../lib/errors';
import { trpc } from '../trpc';
import { SmsCounter } from './sms-counter';

export function Composer({ conversation }: { conversation: ConversationDto }) {
  if (conversation.contactOptedOut) return <OptedOutNotice contactId={conversation.contactId} />;
  return <ComposerForm conversationId={conversation.id} />;
}

function OptedOutNotice({ contactId }: { contactId: number }) {
  const contact = useQuery(trpc.contact.get.queryOptions({ id: contactId }));
  const source = contact.data?.optOutSource;
  const how = source === 'agent' ? 'An agent opted this contact out' : 'This contact opted out (they texted STOP)';
  return (
    <div className="composer composer-locked" role="status" data-testid="composer-locked">
      <strong>Messaging is locked.</strong> {how}
      {contact.data?.optedOutAt ? ` on ${new Date(contact.data.optedOutAt).toLocaleString()}` : ''}. Parley will not send to
      this number until they text START.
    </div>
  );
}

export function ComposerForm({ conversationId }: { conversationId: number }) {
  const [text, setText] = useState('');
  const send = useMutation(trpc.message.send.mutationOptions({ onSuccess: () => setText('') }));

  const submit = () => {
    if (text.trim() === '' || send.isPending) return;
    send.mutate({ conversationId, text });
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    submit();
  };

  return (
    <form className="composer" onSubmit={onSubmit}>
      <label className="visually-hidden" htmlFor={`composer-${conversationId}`}>
        Reply
      </label>
      <textarea
        id={`composer-${conversationId}`}
        className="composer-input"
        rows={3}
        placeholder="Write a reply — Enter sends, Shift+Enter for a new line"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          if (send.error) send.reset();
        }}
        onKeyDown={onKeyDown}
      />
      <div className="composer-footer">
        <SmsCounter text={text} />
        <button className="button primary" type="submit" disabled={send.isPending || text.trim() === ''}>
          {send.isPending ? 'Sending…' : 'Send'}
        </button>
      </div>
      {send.error && (
        <p className="error" role="alert" data-testid="send-error">
          {errorMessage(send.error)}
        </p>
      )}
    </form>
  );
}
