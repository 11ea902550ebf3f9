import { useState, type KeyboardEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { CANNED_FIELDS } from '@parley/shared/canned';
import { trpc } from '../../trpc';

/**
 * Canned replies by `/shortcut`: while the reply is `/` and a word, the replies whose shortcut starts
 * with it (at most 8); arrows move, Enter or a click chooses, Escape closes the picker until the next edit.
 */
export function useCannedPicker({ text, enabled, onChoose }: { text: string; enabled: boolean; onChoose: (replyText: string) => void }) {
  const [pickerIndex, setPickerIndex] = useState(0);
  const [pickerClosed, setPickerClosed] = useState(false);
  const slash = enabled && !pickerClosed ? /^\/(\S*)$/.exec(text) : null;
  const canned = useQuery({ ...trpc.cannedReply.list.queryOptions(), enabled: slash !== null, staleTime: 30_000 });
  const choices = slash ? (canned.data ?? []).filter((r) => r.shortcut.startsWith((slash[1] ?? '').toLowerCase())).slice(0, 8) : [];
  const choose = (replyText: string) => {
    onChoose(replyText);
    setPickerIndex(0);
  };
  return {
    open: slash !== null,
    choices,
    active: Math.min(pickerIndex, choices.length - 1),
    loading: canned.isPending,
    choose,
    /** The text changed: the picker opens again, on its first choice. */
    edited: () => {
      setPickerClosed(false);
      setPickerIndex(0);
    },
    /** True when the key was the picker's (the composer must not act on it too). */
    onKeyDown: (event: KeyboardEvent<HTMLTextAreaElement>): boolean => {
      if (slash && choices.length > 0) {
        if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
          event.preventDefault();
          const step = event.key === 'ArrowDown' ? 1 : -1;
          setPickerIndex((i) => (i + step + choices.length) % choices.length);
          return true;
        }
        if (event.key === 'Enter' && !event.nativeEvent.isComposing) {
          event.preventDefault();
          const chosen = choices[Math.min(pickerIndex, choices.length - 1)];
          if (chosen) choose(chosen.text);
          return true;
        }
      }
      if (slash && event.key === 'Escape') {
        event.preventDefault();
        event.stopPropagation();
        setPickerClosed(true);
        return true;
      }
      return false;
    },
  };
}

export type CannedPickerState = ReturnType<typeof useCannedPicker>;

/** The picker's list above the reply box (`listId` is what the box's aria-controls names). */
export function CannedPicker({ picker, listId }: { picker: CannedPickerState; listId: string }) {
  return (
    <div className="canned-picker" data-testid="canned-picker">
      {picker.choices.length === 0 ? (
        <p className="muted small">
          {picker.loading ? 'Loading canned replies…' : 'No canned reply starts with that — manage them on the Canned replies page'}
        </p>
      ) : (
        <ul role="listbox" aria-label="Canned replies" id={listId}>
          {picker.choices.map((r, i) => (
            <li
              key={r.id}
              role="option"
              id={`${listId}-${r.id}`}
              aria-selected={i === picker.active}
              className={`canned-choice${i === picker.active ? ' active' : ''}`}
              onMouseDown={(e) => {
                e.preventDefault();
                picker.choose(r.text);
              }}
            >
              <strong>/{r.shortcut}</strong> <span className="muted small">{r.text}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** `{field}`s of the canned-reply fields still in the text (left unfilled: no value). */
const UNFILLED = new RegExp(`\\{(${CANNED_FIELDS.join('|')})\\}`, 'g');

export function unfilledFields(text: string): string[] {
  return [...new Set([...text.matchAll(UNFILLED)].map((m) => m[0]))];
}

/** Says which `{field}`s are still in the reply, to edit before sending. */
export function UnfilledNotice({ fields }: { fields: string[] }) {
  return (
    <p className="unfilled small" role="status" data-testid="unfilled">
      No value for{' '}
      {fields.map((f) => (
        <mark key={f} className="unfilled-field">
          {f}
        </mark>
      ))}{' '}
      — edit it before sending.
    </p>
  );
}
