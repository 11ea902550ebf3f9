import { useState } from 'react';
import type { RouterOutputs } from '@parley/server';
import { AppHeader } from '../components/app-header';
import { ConversationList } from '../components/conversation-list';
import { ListToolbar } from '../components/list-toolbar';
import { NewConversationDialog } from '../components/new-conversation-dialog';
import { SandboxPanel } from '../components/sandbox-panel';
import { Thread } from '../components/thread';
import type { ConversationFilter } from '../live/conversation-order';
import { useSelectedConversation } from '../lib/use-selected-conversation';

type Agent = RouterOutputs['auth']['me'];

export function InboxPage({ me }: { me: Agent }) {
  const [selected, select] = useSelectedConversation();
  const [filter, setFilter] = useState<ConversationFilter>('open');
  const [search, setSearch] = useState('');
  const [number, setNumber] = useState('');
  const [panel, setPanel] = useState<'new' | 'sandbox' | null>(null);

  return (
    <div className={`app ${selected === null ? 'show-list' : 'show-thread'}`}>
      <AppHeader me={me} onNew={() => setPanel('new')} onSandbox={() => setPanel(panel === 'sandbox' ? null : 'sandbox')} />
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
      <div className="inbox">
        <aside className="sidebar" aria-label="Conversations">
          <ListToolbar filter={filter} onFilter={setFilter} search={search} onSearch={setSearch} number={number} onNumber={setNumber} />
          <ConversationList filter={filter} search={search} number={number} selected={selected} onSelect={select} />
        </aside>
        <main className="thread-pane">
          {selected === null ? (
            <div className="empty-state">
              <h2>No conversation open</h2>
              <p className="muted">Pick one from the list (j / k to move), or start a new one.</p>
            </div>
          ) : (
            <Thread key={selected} id={selected} me={me} onBack={() => select(null)} />
          )}
        </main>
      </div>
    </div>
  );
}
