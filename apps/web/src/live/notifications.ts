import type { QueryClient } from '@tanstack/react-query';
import type { ConversationDto } from '@parley/shared/dto';
import type { ParleyEvent } from '@parley/shared/events';
import type { AgentPreferences } from '@parley/shared/team';
import { DEFAULT_PREFERENCES } from '@parley/shared/team-constants';
import { displayName } from '../lib/format';
import { navigate, paths } from '../lib/navigation';
import { trpc } from '../trpc';

/**
 * Desktop notifications (issue 12): a new inbound text in a conversation that is mine or unassigned,
 * and a note that @mentions me. Never for my own actions, never for the conversation I am looking
 * at (open in a visible tab). Shown only when my preferences say so and the browser granted it.
 */

export function notificationsSupported(): boolean {
  return typeof window !== 'undefined' && 'Notification' in window;
}

/** The conversation open in this tab, when the tab is visible. */
function lookingAt(): number | null {
  if (document.visibilityState !== 'visible') return null;
  const match = /^\/c\/(\d+)$/.exec(window.location.pathname);
  return match?.[1] ? Number(match[1]) : null;
}

function preferences(queryClient: QueryClient): AgentPreferences {
  return queryClient.getQueryData(trpc.agent.preferences.queryKey()) ?? DEFAULT_PREFERENCES;
}

async function conversationOf(queryClient: QueryClient, id: number): Promise<ConversationDto | null> {
  try {
    return await queryClient.fetchQuery({ ...trpc.conversation.get.queryOptions({ id }), staleTime: 5_000 });
  } catch {
    return null;
  }
}

let audio: AudioContext | null = null;
/** A short two-tone chime (no asset to load). */
function chime(): void {
  try {
    audio ??= new AudioContext();
    const ctx = audio;
    for (const [i, freq] of [880, 1320].entries()) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.08, ctx.currentTime + i * 0.12);
      gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + i * 0.12 + 0.25);
      osc.connect(gain).connect(ctx.destination);
      osc.start(ctx.currentTime + i * 0.12);
      osc.stop(ctx.currentTime + i * 0.12 + 0.3);
    }
  } catch {
    // no audio: fine
  }
}

function show(queryClient: QueryClient, title: string, body: string, conversationId: number, tag: string): void {
  const prefs = preferences(queryClient);
  if (prefs.sound) chime();
  if (!prefs.desktop || !notificationsSupported() || Notification.permission !== 'granted') return;
  const notification = new Notification(title, { body, tag });
  notification.onclick = () => {
    window.focus();
    navigate(paths.conversation(conversationId));
    notification.close();
  };
}

export async function notifyFor(queryClient: QueryClient, event: ParleyEvent, me: { id: number }): Promise<void> {
  const prefs = preferences(queryClient);
  // Nothing to show or play: no work (not even a lookup) per event.
  if (!prefs.sound && !(prefs.desktop && notificationsSupported() && Notification.permission === 'granted')) return;
  if (event.type === 'message.created') {
    const message = event.payload.message;
    if (message.direction !== 'in' || lookingAt() === message.conversationId) return;
    const conversation = await conversationOf(queryClient, message.conversationId);
    if (!conversation || (conversation.assignedAgentId !== null && conversation.assignedAgentId !== me.id)) return;
    show(queryClient, `New text from ${displayName(conversation)}`, message.text.slice(0, 140), conversation.id, `message-${message.id}`);
    return;
  }
  if (event.type === 'note.created') {
    const { note, mentions } = event.payload;
    if (note.agentId === me.id || !mentions.includes(me.id) || lookingAt() === note.conversationId) return;
    const agents = queryClient.getQueryData(trpc.agent.list.queryKey()) ?? [];
    const author = agents.find((a) => a.id === note.agentId)?.name ?? 'A teammate';
    show(queryClient, `${author} mentioned you`, note.text.slice(0, 140), note.conversationId, `note-${note.id}`);
  }
}
