import type { WebhookEventType } from '@parley/shared/webhooks';
import { WEBHOOK_EVENT_TYPES } from '@parley/shared/webhooks';

/** One checkbox per event type an endpoint can subscribe to. */
export function EventPicker({
  value,
  onChange,
  idPrefix,
}: {
  value: WebhookEventType[];
  onChange: (v: WebhookEventType[]) => void;
  idPrefix: string;
}) {
  return (
    <fieldset className="event-picker">
      <legend>Events</legend>
      {WEBHOOK_EVENT_TYPES.map((t) => (
        <label key={t} htmlFor={`${idPrefix}-${t}`} className="checkbox">
          <input
            id={`${idPrefix}-${t}`}
            type="checkbox"
            checked={value.includes(t)}
            onChange={(e) => onChange(e.target.checked ? [...value, t] : value.filter((x) => x !== t))}
          />{' '}
          <code>{t}</code>
        </label>
      ))}
    </fieldset>
  );
}
