export { createServer, type ParleyServer } from './server';
export { loadConfig, type Config } from './config';
export { appRouter, type AppRouter, type RouterInputs, type RouterOutputs } from './trpc/root';
