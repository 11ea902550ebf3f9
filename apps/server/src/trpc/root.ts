import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { createCallerFactory, router } from './init';
import { agentRouter } from './routers/agent';
import { auditRouter } from './routers/audit';
import { apiTokenRouter } from './routers/api-token';
import { authRouter } from './routers/auth';
import { cannedReplyRouter } from './routers/canned-reply';
import { campaignRouter } from './routers/campaign';
import { contactRouter } from './routers/contact';
import { conversationRouter } from './routers/conversation';
import { eventRouter } from './routers/event';
import { messageRouter } from './routers/message';
import { noteRouter } from './routers/note';
import { numberRouter } from './routers/number';
import { presenceRouter } from './routers/presence';
import { sandboxRouter } from './routers/sandbox';
import { settingsRouter } from './routers/settings';
import { statsRouter } from './routers/stats';
import { webhookEndpointRouter } from './routers/webhook-endpoint';
import { webhookLogRouter } from './routers/webhook-log';

export const appRouter = router({
  auth: authRouter,
  agent: agentRouter,
  apiToken: apiTokenRouter,
  conversation: conversationRouter,
  message: messageRouter,
  number: numberRouter,
  contact: contactRouter,
  campaign: campaignRouter,
  stats: statsRouter,
  sandbox: sandboxRouter,
  event: eventRouter,
  note: noteRouter,
  presence: presenceRouter,
  settings: settingsRouter,
  cannedReply: cannedReplyRouter,
  webhookEndpoint: webhookEndpointRouter,
  webhookLog: webhookLogRouter,
  audit: auditRouter,
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

/** `createCaller(createContextInner({ deps, agent }))`: the router without a transport (tests, scripts). */
export const createCaller = createCallerFactory(appRouter);
