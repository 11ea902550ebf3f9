import { useQuery } from '@tanstack/react-query';
import { trpc } from '../../trpc';

/** In place of the reply box when the contact opted out: who opted them out, when, and how it ends. */
export function OptedOutNotice({ contactId }: { contactId: number }) {
  const contact = useQuery(trpc.contact.get.queryOptions({ id: contactId }));
  const source = contact.data?.optOutSource;
  const how = source === 'agent' ? 'An agent opted this contact out' : 'This contact opted out (they texted STOP)';
  return (
    <div className="composer composer-locked" role="status" data-testid="composer-locked">
      <strong>Messaging is locked.</strong> {how}
      {contact.data?.optedOutAt ? ` on ${new Date(contact.data.optedOutAt).toLocaleString()}` : ''}. Parley will not send to this number
      until they text START.
    </div>
  );
}
