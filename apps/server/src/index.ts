export { createServer, type ParleyServer } from './server';
export { loadConfig, testConfig, type Config } from './config';
