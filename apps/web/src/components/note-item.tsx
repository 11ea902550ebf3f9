import { useQuery } from '@tanstack/react-query';
import type { NoteDto } from '@parley/shared/team';
import { formatTime } from '../lib/format';
import { trpc } from '../trpc';

/** "@word" parts of a note, highlighted (the server decided who they mention). */
function withMentions(text: string) {
  return text.split(/((?<![\p{L}\p{N}_.@])@[\p{L}\p{N}][\p{L}\p{N}._'-]*)/u).map((part, i) =>
    i % 2 === 1 ? (
      <span key={i} className="mention">
        {part}
      </span>
    ) : (
      part
    ),
  );
}

/** A private note in the thread: only the team sees it; it was never sent. */
export function NoteItem({ note }: { note: NoteDto }) {
  const agents = useQuery({ ...trpc.agent.list.queryOptions(), staleTime: 60_000 });
  const author = agents.data?.find((a) => a.id === note.agentId)?.name ?? 'An agent';
  return (
    <li className="note" data-note-id={note.id} aria-label={`Private note by ${author}`}>
      <div className="note-head">
        <span className="note-label">Private note</span> · {author}
      </div>
      <div className="note-text">{withMentions(note.text)}</div>
      <div className="message-meta">
        <time dateTime={note.createdAt}>{formatTime(note.createdAt)}</time>
        <span className="muted">not sent to the contact</span>
      </div>
    </li>
  );
}
