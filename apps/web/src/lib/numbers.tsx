import { useQuery } from '@tanstack/react-query';
import { PROVIDER_LABELS, type NumberDto } from '@parley/shared/providers';
import { trpc } from '../trpc';

/** Our numbers (each on its provider), default first; they change only with the server's config. */
export function useNumbers(): NumberDto[] {
  const numbers = useQuery({ ...trpc.number.list.queryOptions(), staleTime: Infinity });
  return numbers.data ?? [];
}

/** "+14155550100 · Plivo" */
export function numberLabel(n: Pick<NumberDto, 'number' | 'provider'>): string {
  return `${n.number} · ${PROVIDER_LABELS[n.provider]}`;
}

/** A select of our numbers; renders nothing with only one (there is nothing to choose). */
export function NumberSelect({
  id,
  label,
  value,
  onChange,
  allLabel,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (number: string) => void;
  /** With it, an empty first option ("All numbers"). */
  allLabel?: string;
}) {
  const numbers = useNumbers();
  if (numbers.length < 2) return null;
  return (
    // The label holds only its text: wrapped around the select, the options would join its accessible name.
    <div className="field number-select">
      <label htmlFor={id}>
        <span>{label}</span>
      </label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {allLabel !== undefined && <option value="">{allLabel}</option>}
        {numbers.map((n) => (
          <option key={n.number} value={n.number}>
            {numberLabel(n)}
            {n.isDefault && allLabel === undefined ? ' (default)' : ''}
          </option>
        ))}
      </select>
    </div>
  );
}
