import { useSyncExternalStore, type MouseEvent } from 'react';

/**
 * Pages live in the URL (History API, no router library): `/` and `/c/:id` are the inbox (the open
 * conversation is the inbox's own business, see use-selected-conversation), then `/campaigns`,
 * `/campaigns/new`, `/campaigns/:id`, `/contacts` and `/stats`. The server answers any HTML request
 * with index.html, so reload, back/forward and links opened in a new tab all work.
 */
export type Route =
  | { page: 'inbox' }
  | { page: 'campaigns' }
  | { page: 'campaign-new' }
  | { page: 'campaign'; id: number }
  | { page: 'contacts' }
  | { page: 'contact'; id: number }
  | { page: 'stats' }
  | { page: 'team' }
  | { page: 'audit' }
  | { page: 'canned' }
  | { page: 'integrations' }
  | { page: 'refused-webhooks' }
  | { page: 'account' }
  | { page: 'invite' }
  | { page: 'not-found' };

export type Section = 'inbox' | 'campaigns' | 'contacts' | 'stats' | 'team' | 'canned' | 'account';

export function parseRoute(pathname: string): Route {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  if (path === '/' || /^\/c\/\d+$/.test(path)) return { page: 'inbox' };
  if (path === '/campaigns') return { page: 'campaigns' };
  if (path === '/campaigns/new') return { page: 'campaign-new' };
  const campaign = /^\/campaigns\/(\d+)$/.exec(path);
  if (campaign?.[1]) return { page: 'campaign', id: Number(campaign[1]) };
  if (path === '/contacts') return { page: 'contacts' };
  const contact = /^\/contacts\/(\d+)$/.exec(path);
  if (contact?.[1]) return { page: 'contact', id: Number(contact[1]) };
  if (path === '/stats') return { page: 'stats' };
  if (path === '/team') return { page: 'team' };
  if (path === '/audit') return { page: 'audit' };
  if (path === '/canned-replies') return { page: 'canned' };
  if (path === '/integrations') return { page: 'integrations' };
  if (path === '/account') return { page: 'account' };
  if (path === '/refused-webhooks') return { page: 'refused-webhooks' };
  // An invitation or password-reset link: the token is in the #fragment (never sent to the server).
  if (path === '/invite') return { page: 'invite' };
  return { page: 'not-found' };
}

/** Which top-level nav entry a route belongs to. */
export function sectionOf(route: Route): Section | null {
  switch (route.page) {
    case 'inbox':
      return 'inbox';
    case 'campaigns':
    case 'campaign-new':
    case 'campaign':
      return 'campaigns';
    case 'contacts':
    case 'contact':
      return 'contacts';
    case 'stats':
      return 'stats';
    case 'team':
      return 'team';
    case 'audit':
      return 'team';
    case 'canned':
      return 'canned';
    case 'integrations':
      return 'team';
    case 'refused-webhooks':
      return 'team';
    case 'account':
      return 'account';
    case 'invite':
    case 'not-found':
      return null;
  }
}

export const paths = {
  inbox: '/',
  conversation: (id: number) => `/c/${id}`,
  campaigns: '/campaigns',
  newCampaign: '/campaigns/new',
  campaign: (id: number) => `/campaigns/${id}`,
  contacts: '/contacts',
  contact: (id: number) => `/contacts/${id}`,
  stats: '/stats',
  team: '/team',
  audit: '/audit',
  canned: '/canned-replies',
  integrations: '/integrations',
  account: '/account',
  refusedWebhooks: '/refused-webhooks',
};

/**
 * Pushes (or replaces) a history entry and announces it as a `popstate`, so every listener — useRoute()
 * and the inbox's open-conversation hook alike — reads the new location, as on back/forward.
 */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const current = window.location.pathname + window.location.search;
  if (to !== current) {
    if (options.replace) window.history.replaceState(null, '', to);
    else window.history.pushState(null, '', to);
  }
  window.dispatchEvent(new PopStateEvent('popstate', { state: null }));
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  return () => window.removeEventListener('popstate', onChange);
}

const pathname = () => window.location.pathname;
const pathAndQuery = () => window.location.pathname + window.location.search;

/** The current pathname, re-rendering on navigate() and back/forward. */
export function usePathname(): string {
  return useSyncExternalStore(subscribe, pathname);
}

/** The current pathname and query (`/c/4?filter=mine`), re-rendering on navigate() and back/forward. */
export function useLocation(): string {
  return useSyncExternalStore(subscribe, pathAndQuery);
}

export function useRoute(): Route {
  return parseRoute(usePathname());
}

/**
 * For an <a href>: a plain left click navigates in place; ctrl/cmd/shift/middle click keep the
 * browser's behaviour (new tab, new window).
 */
export function followLink(event: MouseEvent<HTMLAnchorElement>): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const target = event.currentTarget.getAttribute('target');
  if (target && target !== '_self') return;
  event.preventDefault();
  navigate(event.currentTarget.getAttribute('href') ?? '/');
}
