import { useEffect, useRef } from 'react';
import { reportPresence } from '../../live/presence';

/** After the last keystroke, "replying…" lasts this long. */
const TYPING_MS = 4_000;

/** Tells colleagues this agent is typing a reply: `typed` after each change, `stop` when it ends (sent, blurred, a note). */
export function useTypingPresence() {
  const typingTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(typingTimer.current), []);
  return {
    typed: (value: string) => {
      reportPresence({ typing: value.trim() !== '' });
      clearTimeout(typingTimer.current);
      typingTimer.current = setTimeout(() => reportPresence({ typing: false }), TYPING_MS);
    },
    stop: () => {
      clearTimeout(typingTimer.current);
      reportPresence({ typing: false });
    },
  };
}
