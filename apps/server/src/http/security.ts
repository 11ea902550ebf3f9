import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import type { Config } from '../config';

/** A Host header fit to name in a header (anything else: none, so a forged Host cannot write directives). */
const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/**
 * Security headers on every answer (helmet). The CSP fits the built web app: scripts and styles only
 * from our own origin (Vite emits no inline script; React sets styles through the DOM), no fonts or
 * images from elsewhere, the WebSocket to our own host (`'self'` alone does not cover ws:/wss: in
 * every browser), never framed. HSTS and upgrade-insecure-requests only when PUBLIC_URL is https.
 */
export function securityHeaders(config: Pick<Config, 'publicUrl'>) {
  const publicUrl = config.publicUrl ? new URL(config.publicUrl) : undefined;
  const https = publicUrl?.protocol === 'https:';
  const ownSockets = (req: IncomingMessage, _res: ServerResponse): string => {
    if (publicUrl) return `${https ? 'wss' : 'ws'}://${publicUrl.host}`;
    const host = req.headers.host ?? '';
    return HOST.test(host) ? `ws://${host} wss://${host}` : '';
  };
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        'script-src-attr': ["'none'"],
        'style-src': ["'self'"],
        'img-src': ["'self'", 'data:'],
        'font-src': ["'self'"],
        'connect-src': ["'self'", ownSockets],
        'object-src': ["'none'"],
        'base-uri': ["'self'"],
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
        ...(https ? { 'upgrade-insecure-requests': [] } : {}),
      },
    },
    strictTransportSecurity: https ? { maxAge: 365 * 24 * 60 * 60, includeSubDomains: false } : false,
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
}
