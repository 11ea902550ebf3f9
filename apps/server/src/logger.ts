import pino, { type DestinationStream, type Logger } from 'pino';
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

/** JSON lines to stdout, or to `destination` (tests read what would be logged). */
export function createLogger(level: Config['logLevel'], destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'parley' } };
  return destination ? pino(options, destination) : pino(options);
}
