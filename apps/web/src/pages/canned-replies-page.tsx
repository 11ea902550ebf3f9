import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import type { CannedReplyDto } from '@parley/shared/dto';
import { CANNED_FIELDS } from '@parley/shared/canned';
import { errorMessage } from '../lib/errors';
import { queryClient, trpc } from '../trpc';

const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.cannedReply.list.queryKey() });
const FIELDS = CANNED_FIELDS.map((f) => `{${f}}`).join(' ');

/** The workspace's canned replies: `/shortcut` in the composer inserts one with its fields filled. */
export function CannedRepliesPage() {
  const list = useQuery(trpc.cannedReply.list.queryOptions());
  const [editing, setEditing] = useState<CannedReplyDto | null>(null);
  return (
    <div className="page-body canned-page">
      <div className="page-head">
        <h1>Canned replies</h1>
      </div>
      <p className="muted">
        Type <kbd>/</kbd> in a reply to pick one. Fields filled in for you: {FIELDS}. A field with no value stays visible so you can fill it
        in.
      </p>
      <CannedForm key={editing?.id ?? 'new'} editing={editing} onDone={() => setEditing(null)} />
      {list.isError && (
        <p className="error" role="alert">
          {errorMessage(list.error)}
        </p>
      )}
      <div className="card table-wrap">
        <table className="table" aria-label="Canned replies">
          <thead>
            <tr>
              <th>Shortcut</th>
              <th>Text</th>
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {(list.data ?? []).map((r) => (
              <CannedRow key={r.id} reply={r} onEdit={() => setEditing(r)} />
            ))}
            {list.data?.length === 0 && (
              <tr>
                <td colSpan={3} className="muted">
                  No canned replies yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function CannedRow({ reply, onEdit }: { reply: CannedReplyDto; onEdit: () => void }) {
  const remove = useMutation(trpc.cannedReply.delete.mutationOptions({ onSuccess: () => void refresh() }));
  return (
    <tr>
      <td>
        <code>/{reply.shortcut}</code>
      </td>
      <td>{reply.text}</td>
      <td className="actions">
        <button className="button ghost" type="button" onClick={onEdit}>
          Edit
        </button>
        <button className="button ghost" type="button" onClick={() => remove.mutate({ id: reply.id })} disabled={remove.isPending}>
          Delete
        </button>
        {remove.error && <span className="error small">{errorMessage(remove.error)}</span>}
      </td>
    </tr>
  );
}

function CannedForm({ editing, onDone }: { editing: CannedReplyDto | null; onDone: () => void }) {
  const [shortcut, setShortcut] = useState(editing?.shortcut ?? '');
  const [text, setText] = useState(editing?.text ?? '');
  const done = () => {
    void refresh();
    setShortcut('');
    setText('');
    onDone();
  };
  const create = useMutation(trpc.cannedReply.create.mutationOptions({ onSuccess: done }));
  const update = useMutation(trpc.cannedReply.update.mutationOptions({ onSuccess: done }));
  const error = create.error ?? update.error;
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (editing) update.mutate({ id: editing.id, shortcut, text });
    else create.mutate({ shortcut, text });
  };
  return (
    <form className="card canned-form" onSubmit={onSubmit} aria-label={editing ? 'Edit canned reply' : 'New canned reply'}>
      <label>
        Shortcut
        <input
          className="input"
          value={shortcut}
          onChange={(e) => setShortcut(e.target.value)}
          placeholder="thanks"
          required
          maxLength={33}
          data-testid="canned-shortcut"
        />
      </label>
      <label>
        Text
        <textarea
          className="input"
          rows={3}
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder="Thanks {first_name}! — {agent}"
          required
          data-testid="canned-text"
        />
      </label>
      <div className="form-actions">
        <button className="button primary" type="submit" disabled={create.isPending || update.isPending}>
          {editing ? 'Save' : 'Add canned reply'}
        </button>
        {editing && (
          <button className="button ghost" type="button" onClick={onDone}>
            Cancel
          </button>
        )}
      </div>
      {error && (
        <p className="error" role="alert" data-testid="canned-error">
          {errorMessage(error)}
        </p>
      )}
    </form>
  );
}
