import pino, { type Logger } from 'pino';
import type { Config } from './config';

/** Paths that may carry secrets; pino replaces their values before anything is written. */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.password',
  '*.token',
  '*.privateKey',
  '*.signatureSecret',
  '*.apiSecret',
  '*.authToken',
  '*.mainAuthToken',
  '*.apiToken',
  '*.webhookSecret',
  'headers["x-plivo-signature-v3"]',
  'headers["x-sinch-webhook-signature"]',
];

export function createLogger(level: Config['logLevel']): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'parley' } });
}
