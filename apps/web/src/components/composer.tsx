import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useMutation, useQuery, type InfiniteData } from '@tanstack/react-query';
import type { ConversationDto, MessageDto } from '@parley/shared/dto';
import type { RouterOutputs } from '@parley/server';
import { addNote } from '../live/apply-event';
import { reportPresence } from '../live/presence';
import { errorMessage } from '../lib/errors';
import { formatTime } from '../lib/format';
import { queryClient, trpc } from '../trpc';
import { SmsCounter } from './sms-counter';
import { TimeMenu } from './time-menu';
import { useDialogFocus } from '../lib/use-dialog-focus';
import { CANNED_FIELDS, cannedValues, fillCanned } from '@parley/shared/canned';
import { formatSize } from './message-media';

/** What the composer may attach (every provider sends these; the server checks the bytes again). */
const SENDABLE_IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif'];

interface Attached {
  id: number;
  contentType: string;
  size: number;
  name: string | null;
  url: string;
}

/** One picture for the next reply: uploaded at once (POST /media), shown as a thumbnail, removable; readable errors. */
function useAttachment() {
  const [attachment, setAttachment] = useState<Attached | null>(null);
  const [uploading, setUploading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const upload = (file: File) => {
    setError(null);
    if (file.type !== '' && !SENDABLE_IMAGE_TYPES.includes(file.type)) {
      setError(`“${file.name}” is not a picture Parley can send: attach a JPEG, PNG or GIF image.`);
      return;
    }
    const form = new FormData();
    form.append('file', file, file.name);
    setUploading(true);
    void fetch('/media', { method: 'POST', body: form, credentials: 'same-origin' })
      .then(async (res) => {
        const body = (await res.json().catch(() => ({}))) as {
          id?: number;
          contentType?: string;
          size?: number;
          name?: string | null;
          error?: string;
        };
        if (!res.ok || body.id === undefined) {
          setError(body.error ?? `The picture could not be attached (HTTP ${res.status}).`);
          return;
        }
        setAttachment({
          id: body.id,
          contentType: body.contentType ?? file.type,
          size: body.size ?? file.size,
          name: body.name ?? file.name,
          url: `/media/${body.id}`,
        });
      })
      .catch(() => setError('The picture could not be attached: the server did not answer.'))
      .finally(() => setUploading(false));
  };
  return {
    attachment,
    uploading,
    error,
    upload,
    clear: () => {
      setAttachment(null);
      setError(null);
    },
  };
}

type Agent = RouterOutputs['auth']['me'];
type MessagePage = { items: MessageDto[]; nextCursor: string | null };

/** After the last keystroke, "replying…" lasts this long. */
const TYPING_MS = 4_000;

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

function OptedOutNotice({ contactId }: { contactId: number }) {
  const contact = useQuery(trpc.contact.get.queryOptions({ id: contactId }));
  const source = contact.data?.optOutSource;
  const how = source === 'agent' ? 'An agent opted this contact out' : 'This contact opted out (they texted STOP)';
  return (
    <div className="composer composer-locked" role="status" data-testid="composer-locked">
      <strong>Messaging is locked.</strong> {how}
      {contact.data?.optedOutAt ? ` on ${new Date(contact.data.optedOutAt).toLocaleString()}` : ''}. Parley will not send to this number
      until they text START.
    </div>
  );
}

/**
 * Replies another agent sent in this conversation after `since` (from the thread's cached messages,
 * which the live stream keeps current): the collision check before sending.
 */
function repliesByOthersSince(conversationId: number, meId: number, since: number): MessageDto[] {
  const found = new Map<number, MessageDto>();
  for (const [, data] of queryClient.getQueriesData<InfiniteData<MessagePage>>(
    trpc.conversation.messages.infiniteQueryFilter({ conversationId }),
  )) {
    for (const page of data?.pages ?? []) {
      for (const m of page.items) {
        if (m.direction === 'out' && m.agentId !== null && m.agentId !== meId && Date.parse(m.createdAt) > since) found.set(m.id, m);
      }
    }
  }
  return [...found.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** `{field}`s of the canned-reply fields still in the text (left unfilled: no value). */
const UNFILLED = new RegExp(`\\{(${CANNED_FIELDS.join('|')})\\}`, 'g');

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
  const [mode, setMode] = useState<'reply' | 'note'>(notesOnly ? 'note' : 'reply');
  const [text, setText] = useState('');
  const [laterOpen, setLaterOpen] = useState(false);
  const [pickerIndex, setPickerIndex] = useState(0);
  const [pickerClosed, setPickerClosed] = useState(false);
  const slash = mode === 'reply' && !pickerClosed ? /^\/(\S*)$/.exec(text) : null;
  const canned = useQuery({ ...trpc.cannedReply.list.queryOptions(), enabled: slash !== null, staleTime: 30_000 });
  const choices = slash ? (canned.data ?? []).filter((r) => r.shortcut.startsWith((slash[1] ?? '').toLowerCase())).slice(0, 8) : [];
  const textarea = useRef<HTMLTextAreaElement>(null);
  const insertCanned = (replyText: string) => {
    const filled = fillCanned(
      replyText,
      cannedValues({ contactName: conversation?.contactName ?? null, agentName: me.name, ourNumber: conversation?.ourNumber ?? null }),
    );
    setText(filled.text);
    setPickerIndex(0);
    textarea.current?.focus();
  };
  const unfilled = mode === 'reply' ? [...new Set([...text.matchAll(UNFILLED)].map((m) => m[0]))] : [];
  const [collision, setCollision] = useState<MessageDto[] | null>(null);
  // When this agent began writing this reply (or last acknowledged a colleague's reply).
  const openedAt = useRef(Date.now());
  const typingTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const agents = useQuery({ ...trpc.agent.list.queryOptions(), staleTime: 60_000 });
  const attach = useAttachment();
  const [dragging, setDragging] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const mediaIds = attach.attachment ? [attach.attachment.id] : undefined;
  const send = useMutation(
    trpc.message.send.mutationOptions({
      onSuccess: () => {
        setText('');
        attach.clear();
        openedAt.current = Date.now();
      },
    }),
  );
  const note = useMutation(
    trpc.note.add.mutationOptions({
      onSuccess: (added) => {
        setText('');
        addNote(queryClient, added);
      },
    }),
  );
  const pending = send.isPending || note.isPending || attach.uploading;
  /** Nothing to send: no text (and, for a reply, no picture). */
  const empty = text.trim() === '' && (mode === 'note' || !attach.attachment);
  const error = mode === 'reply' ? send.error : note.error;

  const stopTyping = () => {
    clearTimeout(typingTimer.current);
    reportPresence({ typing: false });
  };
  useEffect(() => () => clearTimeout(typingTimer.current), []);

  const sendReply = () => {
    stopTyping();
    send.mutate({ conversationId, text, ...(mediaIds ? { mediaIds } : {}) });
  };
  const submit = () => {
    if (empty || pending) return;
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
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (slash && choices.length > 0) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        const step = event.key === 'ArrowDown' ? 1 : -1;
        setPickerIndex((i) => (i + step + choices.length) % choices.length);
        return;
      }
      if (event.key === 'Enter' && !event.nativeEvent.isComposing) {
        event.preventDefault();
        const chosen = choices[Math.min(pickerIndex, choices.length - 1)];
        if (chosen) insertCanned(chosen.text);
        return;
      }
    }
    if (slash && event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      setPickerClosed(true);
      return;
    }
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
        <div className="composer-modes" role="tablist" aria-label="Composer mode">
          <button
            type="button"
            role="tab"
            aria-selected={mode === 'reply'}
            className={`mode${mode === 'reply' ? ' active' : ''}`}
            onClick={() => setMode('reply')}
          >
            Reply
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={mode === 'note'}
            className={`mode${mode === 'note' ? ' active' : ''}`}
            onClick={() => {
              setMode('note');
              stopTyping();
            }}
          >
            Private note
          </button>
        </div>
      )}
      <label className="visually-hidden" htmlFor={`composer-${conversationId}`}>
        {mode === 'reply' ? 'Reply' : 'Private note'}
      </label>
      {slash && (
        <div className="canned-picker" data-testid="canned-picker">
          {choices.length === 0 ? (
            <p className="muted small">
              {canned.isPending ? 'Loading canned replies…' : 'No canned reply starts with that — manage them on the Canned replies page'}
            </p>
          ) : (
            <ul role="listbox" aria-label="Canned replies" id={`canned-${conversationId}`}>
              {choices.map((r, i) => (
                <li
                  key={r.id}
                  role="option"
                  id={`canned-${conversationId}-${r.id}`}
                  aria-selected={i === Math.min(pickerIndex, choices.length - 1)}
                  className={`canned-choice${i === Math.min(pickerIndex, choices.length - 1) ? ' active' : ''}`}
                  onMouseDown={(e) => {
                    e.preventDefault();
                    insertCanned(r.text);
                  }}
                >
                  <strong>/{r.shortcut}</strong> <span className="muted small">{r.text}</span>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      <textarea
        ref={textarea}
        id={`composer-${conversationId}`}
        aria-controls={slash ? `canned-${conversationId}` : undefined}
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
          setPickerClosed(false);
          setPickerIndex(0);
          if (send.error) send.reset();
          if (note.error) note.reset();
          if (mode === 'reply') {
            reportPresence({ typing: e.target.value.trim() !== '' });
            clearTimeout(typingTimer.current);
            typingTimer.current = setTimeout(() => reportPresence({ typing: false }), TYPING_MS);
          }
        }}
        onBlur={stopTyping}
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
      {unfilled.length > 0 && (
        <p className="unfilled small" role="status" data-testid="unfilled">
          No value for{' '}
          {unfilled.map((f) => (
            <mark key={f} className="unfilled-field">
              {f}
            </mark>
          ))}{' '}
          — edit it before sending.
        </p>
      )}
      {mode === 'reply' && attach.attachment && (
        <div className="composer-attachment" data-testid="composer-attachment">
          <img src={attach.attachment.url} alt={`Attached: ${attach.attachment.name ?? 'picture'}`} />
          <span className="muted small">
            {attach.attachment.name ?? 'Picture'} · {formatSize(attach.attachment.size)}
          </span>
          <button type="button" className="button ghost small" onClick={attach.clear} aria-label="Remove the attached picture">
            Remove
          </button>
        </div>
      )}
      {mode === 'reply' && attach.error && (
        <p className="error small" role="alert" data-testid="attach-error">
          {attach.error}
        </p>
      )}
      <div className="composer-footer">
        {mode === 'reply' ? <SmsCounter text={text} /> : <span className="muted small">Only your team sees notes.</span>}
        {mode === 'reply' && (
          <>
            <input
              ref={fileInput}
              type="file"
              accept={SENDABLE_IMAGE_TYPES.join(',')}
              hidden
              data-testid="attach-input"
              onChange={(e) => {
                const file = e.target.files?.[0];
                if (file) attach.upload(file);
                e.target.value = '';
              }}
            />
            <button
              type="button"
              className="button ghost"
              onClick={() => fileInput.current?.click()}
              disabled={pending}
              data-testid="attach"
            >
              {attach.uploading ? 'Attaching…' : '📷 Attach picture'}
            </button>
          </>
        )}
        {mode === 'reply' && (
          <TimeMenu
            label="Send later"
            title="Send later at"
            open={laterOpen}
            onOpenChange={setLaterOpen}
            disabled={pending || empty || collision !== null}
            testId="send-later"
            onPick={(at) => {
              stopTyping();
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

/**
 * Asked before a reply goes out when a colleague replied meanwhile. A dialog like the others: focus starts on
 * the safe choice (Don't send), stays inside while it is shown, Esc is Don't send, and focus goes back to
 * the reply box after either answer.
 */
function CollisionDialog({
  id,
  names,
  replies,
  returnFocus,
  onSend,
  onDismiss,
}: {
  id: string;
  names: string[];
  replies: MessageDto[];
  returnFocus: () => HTMLElement | null;
  onSend: () => void;
  onDismiss: () => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  useDialogFocus(box, onDismiss, { initialFocus: '[data-dismiss]', returnFocus });
  return (
    <div ref={box} className="collision" role="alertdialog" aria-labelledby={id} data-testid="collision">
      <p id={id}>
        <strong>{names.join(' and ')} replied while you were writing:</strong>
      </p>
      <ul>
        {replies.map((m) => (
          <li key={m.id}>
            <span className="muted">{formatTime(m.createdAt)}</span> “{m.text}”
          </li>
        ))}
      </ul>
      <div className="collision-actions">
        <button className="button primary" type="button" onClick={onSend}>
          Send mine anyway
        </button>
        <button className="button" type="button" onClick={onDismiss} data-dismiss>
          Don’t send
        </button>
      </div>
    </div>
  );
}
