import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import type { ConversationDto, MessageDto } from '@parley/shared/dto';
import type { RouterOutputs } from '@parley/server';
import { addNote } from '../live/apply-event';
import { errorMessage } from '../lib/errors';
import { queryClient, trpc } from '../trpc';
import { SmsCounter } from './sms-counter';
import { TimeMenu } from './time-menu';
import { cannedValues, fillCanned } from '@parley/shared/canned';
import { AttachButton, AttachError, AttachmentPreview } from './composer/attachment';
import { CannedPicker, UnfilledNotice, unfilledFields, useCannedPicker } from './composer/canned-picker';
import { CollisionDialog, repliesByOthersSince } from './composer/collision';
import { ComposerModes, type ComposerMode } from './composer/composer-modes';
import { OptedOutNotice } from './composer/opted-out-notice';
import { useAttachment } from './composer/use-attachment';
import { useTypingPresence } from './composer/use-typing-presence';

type Agent = RouterOutputs['auth']['me'];

export function Composer({ conversation, me }: { conversation: ConversationDto; me: Agent }) {
  if (conversation.contactOptedOut) {
    return (
      <>
        <OptedOutNotice contactId={conversation.contactId} />
        <ComposerForm conversationId={conversation.id} me={me} notesOnly />
      </>
    );
  }
  return <ComposerForm conversationId={conversation.id} me={me} conversation={conversation} />;
}

export function ComposerForm({
  conversationId,
  me,
  notesOnly = false,
  conversation,
}: {
  conversationId: number;
  me: Agent;
  notesOnly?: boolean;
  /** For canned replies' fields ({name}, {our_number}). */
  conversation?: ConversationDto;
}) {
  const [mode, setMode] = useState<ComposerMode>(notesOnly ? 'note' : 'reply');
  const [text, setText] = useState('');
  const [laterOpen, setLaterOpen] = useState(false);
  const textarea = useRef<HTMLTextAreaElement>(null);
  const picker = useCannedPicker({
    text,
    enabled: mode === 'reply',
    onChoose: (replyText) => {
      const filled = fillCanned(
        replyText,
        cannedValues({ contactName: conversation?.contactName ?? null, agentName: me.name, ourNumber: conversation?.ourNumber ?? null }),
      );
      setText(filled.text);
      textarea.current?.focus();
    },
  });
  const unfilled = mode === 'reply' ? unfilledFields(text) : [];
  const [collision, setCollision] = useState<MessageDto[] | null>(null);
  // When this agent began writing this reply (or last acknowledged a colleague's reply).
  const openedAt = useRef(Date.now());
  const typing = useTypingPresence();
  const agents = useQuery({ ...trpc.agent.list.queryOptions(), staleTime: 60_000 });
  const attach = useAttachment();
  const [dragging, setDragging] = useState(false);
  const mediaIds = attach.attachment ? [attach.attachment.id] : undefined;
  // Enter while the last one is still on its way: this one goes next, in order (never two at once,
  // never a keypress silently dropped).
  const [queued, setQueued] = useState(false);
  // Cleared once sent — unless the agent has already begun the next one (the live view can show a
  // sent reply before its own request answers): what they typed since is theirs, not the sent text.
  const clearIfSent = (sent: string) => setText((current) => (current === sent ? '' : current));
  const send = useMutation(
    trpc.message.send.mutationOptions({
      onSuccess: (_sent, input) => {
        clearIfSent(input.text);
        attach.clear();
        openedAt.current = Date.now();
      },
      // Refused: its error shows, and what was typed next waits for the agent to send it again.
      onError: () => setQueued(false),
    }),
  );
  const note = useMutation(
    trpc.note.add.mutationOptions({
      onSuccess: (added, input) => {
        clearIfSent(input.text);
        addNote(queryClient, added);
      },
      onError: () => setQueued(false),
    }),
  );
  const pending = send.isPending || note.isPending || attach.uploading;
  /** Nothing to send: no text (and, for a reply, no picture). */
  const empty = text.trim() === '' && (mode === 'note' || !attach.attachment);
  const error = mode === 'reply' ? send.error : note.error;

  const sendReply = () => {
    typing.stop();
    send.mutate({ conversationId, text, ...(mediaIds ? { mediaIds } : {}) });
  };
  const submit = () => {
    if (empty) return;
    if (pending) {
      setQueued(true);
      return;
    }
    if (mode === 'note') {
      note.mutate({ conversationId, text });
      return;
    }
    const others = repliesByOthersSince(conversationId, me.id, openedAt.current);
    if (others.length > 0) {
      setCollision(others);
      return;
    }
    sendReply();
  };
  const latestSubmit = useRef(submit);
  useEffect(() => {
    latestSubmit.current = submit;
  });
  useEffect(() => {
    if (!queued || pending) return;
    setQueued(false);
    latestSubmit.current();
  }, [queued, pending]);
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (picker.onKeyDown(event)) return;
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    submit();
  };
  const nameOf = (id: number | null) => agents.data?.find((a) => a.id === id)?.name ?? 'Another agent';

  return (
    <form
      className={`composer${mode === 'note' ? ' composer-note' : ''}${dragging ? ' composer-drop' : ''}`}
      onSubmit={onSubmit}
      data-testid="composer"
      onDragOver={(e) => {
        if (mode !== 'reply' || !e.dataTransfer.types.includes('Files')) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        setDragging(false);
        if (mode !== 'reply') return;
        const file = e.dataTransfer.files[0];
        if (!file) return;
        e.preventDefault();
        attach.upload(file);
      }}
    >
      {!notesOnly && (
        <ComposerModes
          mode={mode}
          onChange={(next) => {
            setMode(next);
            if (next === 'note') typing.stop();
          }}
        />
      )}
      <label className="visually-hidden" htmlFor={`composer-${conversationId}`}>
        {mode === 'reply' ? 'Reply' : 'Private note'}
      </label>
      {picker.open && <CannedPicker picker={picker} listId={`canned-${conversationId}`} />}
      <textarea
        ref={textarea}
        id={`composer-${conversationId}`}
        aria-controls={picker.open ? `canned-${conversationId}` : undefined}
        className="composer-input"
        rows={3}
        placeholder={
          mode === 'reply'
            ? 'Write a reply — Enter sends, Shift+Enter for a new line'
            : 'A private note for your team (never sent) — @name mentions a teammate'
        }
        value={text}
        onChange={(e) => {
          // A reply begins when the box stops being empty: colleagues' replies after that are news to me.
          if (text.trim() === '' && e.target.value.trim() !== '') openedAt.current = Date.now();
          setText(e.target.value);
          picker.edited();
          if (send.error) send.reset();
          if (note.error) note.reset();
          if (mode === 'reply') typing.typed(e.target.value);
        }}
        onBlur={typing.stop}
        onKeyDown={onKeyDown}
      />
      {collision && (
        <CollisionDialog
          id={`collision-${conversationId}`}
          names={[...new Set(collision.map((m) => nameOf(m.agentId)))]}
          replies={collision}
          returnFocus={() => textarea.current}
          onSend={() => {
            setCollision(null);
            openedAt.current = Date.now();
            sendReply();
          }}
          onDismiss={() => {
            setCollision(null);
            openedAt.current = Date.now();
          }}
        />
      )}
      {unfilled.length > 0 && <UnfilledNotice fields={unfilled} />}
      {mode === 'reply' && attach.attachment && <AttachmentPreview attachment={attach.attachment} onRemove={attach.clear} />}
      {mode === 'reply' && attach.error && <AttachError error={attach.error} />}
      <div className="composer-footer">
        {mode === 'reply' ? <SmsCounter text={text} /> : <span className="muted small">Only your team sees notes.</span>}
        {mode === 'reply' && <AttachButton disabled={pending} uploading={attach.uploading} onFile={attach.upload} />}
        {mode === 'reply' && (
          <TimeMenu
            label="Send later"
            title="Send later at"
            open={laterOpen}
            onOpenChange={setLaterOpen}
            disabled={pending || empty || collision !== null}
            testId="send-later"
            onPick={(at) => {
              typing.stop();
              send.mutate({ conversationId, text, sendAt: at.toISOString(), ...(mediaIds ? { mediaIds } : {}) });
            }}
          />
        )}
        <button className="button primary" type="submit" disabled={pending || empty || collision !== null}>
          {mode === 'reply' ? (send.isPending ? 'Sending…' : 'Send') : note.isPending ? 'Adding…' : 'Add note'}
        </button>
      </div>
      {error && (
        <p className="error" role="alert" data-testid="send-error">
          {errorMessage(error)}
        </p>
      )}
    </form>
  );
}
