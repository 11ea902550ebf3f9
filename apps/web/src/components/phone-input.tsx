import { normalizePhone } from '@parley/shared/phone';

/** A phone number field that says, while typing, what E.164 number it reads (or why it cannot). */
export function PhoneInput({
  id,
  label,
  value,
  onChange,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
}) {
  const result = value.trim() === '' ? null : normalizePhone(value);
  const hint = result === null ? 'International format, e.g. +44 7700 900123' : result.ok ? `Sends to ${result.e164}` : result.reason;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="tel"
        inputMode="tel"
        autoComplete="off"
        placeholder="+44 7700 900123"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={result !== null && !result.ok}
        aria-describedby={`${id}-hint`}
      />
      <span id={`${id}-hint`} className={`hint ${result && !result.ok ? 'error' : ''}`}>
        {hint}
      </span>
    </div>
  );
}

export function phoneOrNull(value: string): string | null {
  const result = normalizePhone(value);
  return result.ok ? result.e164 : null;
}
