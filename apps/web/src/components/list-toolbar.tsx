import type { ConversationFilter } from '../live/conversation-order';
import { NumberSelect } from '../lib/numbers';

const FILTERS: { value: ConversationFilter; label: string }[] = [
  { value: 'open', label: 'Open' },
  { value: 'mine', label: 'Mine' },
  { value: 'unassigned', label: 'Unassigned' },
  { value: 'pending', label: 'Pending' },
  { value: 'snoozed', label: 'Snoozed' },
  { value: 'closed', label: 'Closed' },
  { value: 'all', label: 'All' },
  { value: 'possible-opt-out', label: 'Possible opt-out' },
];

/** `/` focuses it. */
export const SEARCH_INPUT_ID = 'conversation-search';

export function ListToolbar({
  filter,
  onFilter,
  search,
  onSearch,
  number,
  onNumber,
}: {
  filter: ConversationFilter;
  onFilter: (filter: ConversationFilter) => void;
  search: string;
  onSearch: (search: string) => void;
  /** '' = every number. */
  number: string;
  onNumber: (number: string) => void;
}) {
  return (
    <div className="list-toolbar">
      <input
        id={SEARCH_INPUT_ID}
        className="search"
        type="search"
        placeholder="Search number or text"
        aria-label="Search conversations by number or text"
        value={search}
        onChange={(e) => onSearch(e.target.value)}
      />
      <NumberSelect id="list-number" label="Number" value={number} onChange={onNumber} allLabel="All numbers" />
      <div className="filters" role="tablist" aria-label="Filter conversations">
        {FILTERS.map((f) => (
          <button
            key={f.value}
            type="button"
            role="tab"
            aria-selected={filter === f.value}
            className={`filter ${filter === f.value ? 'active' : ''}`}
            onClick={() => onFilter(f.value)}
          >
            {f.label}
          </button>
        ))}
      </div>
    </div>
  );
}
