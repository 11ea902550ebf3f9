import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import type { SettingsDto } from '@parley/shared/settings';
import { DEFAULT_SETTINGS } from '@parley/shared/settings-defaults';
import { errorMessage } from '../lib/errors';
import { queryClient, trpc } from '../trpc';

/** Admins: quiet hours (the sending window in each recipient's own time), retention, the HELP answer. */
export function ComplianceSettings() {
  const settings = useQuery(trpc.settings.get.queryOptions());
  // The version this admin saved last: "Saved" is shown while the settings are still that version.
  const [savedAt, setSavedAt] = useState<string | null>(null);
  if (!settings.data) return null;
  // Keyed by the document's time: a change made elsewhere (another admin, the event stream) resets the form.
  return (
    <ComplianceForm
      key={settings.data.updatedAt ?? 'defaults'}
      settings={settings.data}
      saved={savedAt !== null && savedAt === settings.data.updatedAt}
      onSaved={setSavedAt}
    />
  );
}

function ComplianceForm({
  settings,
  saved,
  onSaved,
}: {
  settings: SettingsDto;
  saved: boolean;
  onSaved: (updatedAt: string | null) => void;
}) {
  const [quietOn, setQuietOn] = useState(settings.quietHours !== null);
  const [start, setStart] = useState(settings.quietHours?.start ?? DEFAULT_SETTINGS.quietHours?.start ?? '08:00');
  const [end, setEnd] = useState(settings.quietHours?.end ?? DEFAULT_SETTINGS.quietHours?.end ?? '21:00');
  const [retentionOn, setRetentionOn] = useState(settings.retentionDays !== null);
  const [days, setDays] = useState(String(settings.retentionDays ?? 365));
  const [help, setHelp] = useState(settings.helpText ?? '');
  const update = useMutation(
    trpc.settings.update.mutationOptions({
      onSuccess: (next) => {
        queryClient.setQueryData(trpc.settings.get.queryKey(), next);
        onSaved(next.updatedAt);
      },
    }),
  );
  const [local, setLocal] = useState<string | null>(null);

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    onSaved(null);
    setLocal(null);
    const n = Number(days);
    if (retentionOn && (!Number.isInteger(n) || n < 1 || n > 36_500)) {
      setLocal('Retention: give a whole number of days from 1 to 36500');
      return;
    }
    const helpText = help.trim() === '' ? null : help;
    update.mutate({
      quietHours: quietOn ? { start, end } : null,
      retentionDays: retentionOn ? n : null,
      helpText,
    });
  };
  const problem = local ?? (update.error ? errorMessage(update.error) : null);

  return (
    <section className="card compliance-settings" aria-labelledby="compliance-title">
      <h2 id="compliance-title">Compliance</h2>
      <form onSubmit={onSubmit} className="stack">
        <fieldset>
          <legend>Quiet hours</legend>
          <p className="muted small">
            Campaign texts and scheduled sends go out only inside this window of each recipient&apos;s own time (from their number&apos;s
            time zone; the strictest when a number spans several). Outside it they wait until it opens. Replies to someone who texted in the
            last 24 hours are not held.
          </p>
          <label className="checkbox">
            <input type="checkbox" checked={quietOn} onChange={(e) => setQuietOn(e.target.checked)} data-testid="quiet-hours-toggle" /> Hold
            texts outside the window
          </label>{' '}
          <div className="inline-form">
            <label>
              From{' '}
              <input
                className="input time-input"
                type="time"
                value={start}
                disabled={!quietOn}
                onChange={(e) => setStart(e.target.value)}
                aria-label="Quiet hours: sending starts at"
              />
            </label>
            <label>
              to{' '}
              <input
                className="input time-input"
                type="time"
                value={end}
                disabled={!quietOn}
                onChange={(e) => setEnd(e.target.value)}
                aria-label="Quiet hours: sending ends at"
              />
            </label>
          </div>
        </fieldset>
        <fieldset>
          <legend>Retention</legend>
          <label className="checkbox">
            <input
              type="checkbox"
              checked={retentionOn}
              onChange={(e) => setRetentionOn(e.target.checked)}
              data-testid="retention-toggle"
            />{' '}
            Delete messages older than
          </label>{' '}
          <label>
            <input
              className="input narrow"
              type="number"
              min={1}
              max={36500}
              value={days}
              disabled={!retentionOn}
              onChange={(e) => setDays(e.target.value)}
              aria-label="Retention in days"
            />{' '}
            days
          </label>
          <p className="muted small">
            A daily job deletes them with their delivery history. Conversations stay, without the deleted texts.
          </p>
        </fieldset>
        <fieldset>
          <legend>HELP answer</legend>
          <label htmlFor="help-text" className="muted small block">
            Sent to anyone who texts HELP or INFO: your business name, how to reach you, &quot;Msg &amp; data rates may apply&quot;, and how
            to stop (Reply STOP). Empty: the server&apos;s default.
          </label>
          <textarea
            id="help-text"
            className="input block"
            rows={3}
            maxLength={1000}
            value={help}
            onChange={(e) => setHelp(e.target.value)}
          />
        </fieldset>
        <div className="inline-form">
          <button className="button primary" type="submit" disabled={update.isPending}>
            Save compliance settings
          </button>
          {saved && !problem && (
            <span className="muted" role="status">
              Saved
            </span>
          )}
        </div>
        {problem && (
          <p className="error" role="alert">
            {problem}
          </p>
        )}
      </form>
    </section>
  );
}
