import { queryClient, trpc } from '../../trpc';

/** The endpoint list again, after a change. */
export const refreshEndpoints = () => queryClient.invalidateQueries({ queryKey: trpc.webhookEndpoint.list.queryKey() });
