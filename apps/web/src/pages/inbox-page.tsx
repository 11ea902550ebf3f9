import { useRef, useState } from 'react';
import type { RouterOutputs } from '@parley/server';
import { AppHeader } from '../components/app-header';
import { ConversationList, type ListNavigation } from '../components/conversation-list';
import { ListToolbar, SEARCH_INPUT_ID } from '../components/list-toolbar';
import { NewConversationDialog } from '../components/new-conversation-dialog';
import { SandboxPanel } from '../components/sandbox-panel';
import { ShortcutsDialog } from '../components/shortcuts-dialog';
import { Thread } from '../components/thread';
import { useInboxState } from '../lib/inbox-url';
import { useShortcuts, type ShortcutHandlers } from '../lib/shortcuts';
import { openSnoozeMenu, useSnoozeMenuAvailable } from '../lib/snooze-menu-shortcut';
import { useConversationKeys } from '../lib/use-conversation-keys';

type Agent = RouterOutputs['auth']['me'];

export function InboxPage({ me }: { me: Agent }) {
  // The open conversation, filter, search and number are the URL's (reload and shared links keep them).
  const [{ selected, filter, search, number }, update] = useInboxState();
  const select = (id: number | null) => update({ selected: id });
  const [panel, setPanel] = useState<'new' | 'sandbox' | 'shortcuts' | null>(null);
  const list = useRef<ListNavigation>(null);
  const keys = useConversationKeys(selected, me);
  const snoozeMenu = useSnoozeMenuAvailable();

  const handlers: ShortcutHandlers = {
    next: () => list.current?.move(1),
    previous: () => list.current?.move(-1),
    open: () => list.current?.openCursor(),
    reply: selected === null ? undefined : () => document.getElementById(`composer-${selected}`)?.focus(),
    close: keys.close,
    pending: keys.markPending,
    snooze: selected !== null && snoozeMenu ? () => void openSnoozeMenu() : undefined,
    assignToMe: keys.assignToMe,
    search: () => document.getElementById(SEARCH_INPUT_ID)?.focus(),
    newConversation: () => setPanel('new'),
    help: () => setPanel('shortcuts'),
  };
  useShortcuts(handlers);

  return (
    <div className={`app ${selected === null ? 'show-list' : 'show-thread'}`}>
      <AppHeader
        me={me}
        onNew={() => setPanel('new')}
        onSandbox={() => setPanel(panel === 'sandbox' ? null : 'sandbox')}
        onShortcuts={() => setPanel('shortcuts')}
      />
      {panel === 'sandbox' && <SandboxPanel onClose={() => setPanel(null)} />}
      {panel === 'new' && (
        <NewConversationDialog
          onClose={() => setPanel(null)}
          onSent={(conversationId) => {
            setPanel(null);
            select(conversationId);
          }}
        />
      )}
      {panel === 'shortcuts' && <ShortcutsDialog onClose={() => setPanel(null)} />}
      <div className="inbox">
        <aside className="sidebar" aria-label="Conversations">
          <ListToolbar
            filter={filter}
            onFilter={(next) => update({ filter: next })}
            search={search}
            onSearch={(next) => update({ search: next })}
            number={number}
            onNumber={(next) => update({ number: next })}
          />
          <ConversationList filter={filter} search={search} number={number} selected={selected} onSelect={select} navRef={list} />
        </aside>
        <main className="thread-pane">
          {selected === null ? (
            <div className="empty-state">
              <h2>No conversation open</h2>
              <p className="muted">
                Pick one from the list (<kbd>j</kbd> / <kbd>k</kbd> to move, <kbd>Enter</kbd> to open, <kbd>?</kbd> for every key), or start
                a new one.
              </p>
            </div>
          ) : (
            <Thread key={selected} id={selected} me={me} onBack={() => select(null)} />
          )}
        </main>
      </div>
      {/* What a key did: said politely; a refusal is shown and said at once. */}
      <p className="visually-hidden" role="status">
        {keys.said && !keys.said.error ? keys.said.text : ''}
      </p>
      {keys.said?.error && (
        <p className="shortcut-error error" role="alert">
          {keys.said.text}
        </p>
      )}
    </div>
  );
}
