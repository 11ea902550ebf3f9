import type { ContactDto } from '@parley/shared/dto';
import { updateContactLists } from '../../live/apply-event';
import { queryClient, trpc } from '../../trpc';

/** A contact was renamed or opted out/in: every cached list shows it at once. */
export function onContactChanged(contact: ContactDto): void {
  updateContactLists(queryClient, contact);
  // A filtered list (opted out) may no longer hold it; the next look asks the server.
  void queryClient.invalidateQueries({ queryKey: trpc.contact.list.pathKey(), refetchType: 'none' });
}
