import { useState } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { notificationsSupported } from '../live/notifications';
import { errorMessage } from '../lib/errors';
import { queryClient, trpc } from '../trpc';

const permission = () => (notificationsSupported() ? Notification.permission : 'unsupported');

/**
 * The agent's notification choices, kept server-side (agent.preferences). The browser's permission is
 * asked only from the button here, once, never on page load.
 */
export function NotificationSettings({ compact = false }: { compact?: boolean }) {
  const prefs = useQuery(trpc.agent.preferences.queryOptions());
  const [granted, setGranted] = useState(permission);
  const save = useMutation(
    trpc.agent.setPreferences.mutationOptions({
      onSuccess: (next) => queryClient.setQueryData(trpc.agent.preferences.queryKey(), next),
    }),
  );
  const desktop = prefs.data?.desktop ?? false;

  const enableDesktop = async () => {
    let result = permission();
    if (result === 'default') result = await Notification.requestPermission();
    setGranted(result);
    if (result === 'granted') save.mutate({ desktop: true });
  };

  if (compact) {
    // The header's visible control: shown until desktop notifications are on (or the browser refused them).
    if (granted === 'unsupported' || granted === 'denied' || (desktop && granted === 'granted') || prefs.isPending) return null;
    return (
      <button
        className="button ghost"
        type="button"
        onClick={() => void enableDesktop()}
        disabled={save.isPending}
        data-testid="enable-notifications"
        title="Enable desktop notifications"
      >
        <svg
          aria-hidden="true"
          width="16"
          height="16"
          viewBox="0 0 24 24"
          fill="none"
          stroke="currentColor"
          strokeWidth="2"
          strokeLinecap="round"
          strokeLinejoin="round"
        >
          <path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9" />
          <path d="M13.7 21a2 2 0 0 1-3.4 0" />
        </svg>
        <span className="label-xl">Enable notifications</span>
      </button>
    );
  }

  return (
    <div className="notification-settings">
      <p className="muted small">
        A desktop notification for a new text in a conversation that is yours or unassigned, and when a teammate @mentions you in a note.
        Never for your own actions or the conversation you are looking at. The unread count is always in the tab title.
      </p>
      {granted === 'unsupported' ? (
        <p className="muted">This browser has no desktop notifications.</p>
      ) : desktop && granted === 'granted' ? (
        <p>
          Desktop notifications are on.{' '}
          <button className="button small-button" type="button" onClick={() => save.mutate({ desktop: false })} disabled={save.isPending}>
            Turn off
          </button>
        </p>
      ) : granted === 'denied' ? (
        <p className="warn-text">The browser blocks notifications for this site; allow them in its site settings.</p>
      ) : (
        <button className="button" type="button" onClick={() => void enableDesktop()} disabled={save.isPending}>
          Enable desktop notifications
        </button>
      )}
      <label className="inline-field check">
        <input
          type="checkbox"
          checked={prefs.data?.sound ?? false}
          onChange={(e) => save.mutate({ sound: e.target.checked })}
          disabled={prefs.isPending}
        />
        Play a sound with each notification
      </label>
      {save.error && (
        <p className="error" role="alert">
          {errorMessage(save.error)}
        </p>
      )}
    </div>
  );
}
