/**
 * The one request a Vonage send makes: `POST {apiHost}/v1/messages` over node:http(s) with a
 * keep-alive agent, in the SDK's headers, the answer read whole (gzip, deflate or br undone), a
 * TimeoutError after `timeoutMs`.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/** The SDK's user agent (@vonage/server-client: the parts joined with a comma). */
const USER_AGENT = ['@vonage/server-sdk/3.0.0', ` node/${process.version.replace('v', '')}`, ''].join();

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function decoded(res: IncomingMessage): NodeJS.ReadableStream {
  const encoding = String(res.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') return res.pipe(createGunzip());
  if (encoding === 'deflate') return res.pipe(createInflate());
  if (encoding === 'br') return res.pipe(createBrotliDecompress());
  return res;
}

/** A response header as one string (repeated ones joined with ', '), or null. */
export function headerOf(response: RawResponse, name: string): string | null {
  const value = response.headers[name];
  return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
}

/** `post(body, authorization)` to `endpoint`, on an agent of its own that keeps connections alive. */
export function createVonageTransport(endpoint: URL, timeoutMs: number): (body: string, authorization: string) => Promise<RawResponse> {
  const secure = endpoint.protocol === 'https:';
  const agent = secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const send1 = secure ? httpsRequest : httpRequest;

  return function post(body: string, authorization: string): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const req = send1(
        endpoint,
        {
          method: 'POST',
          agent,
          headers: {
            'user-agent': USER_AGENT,
            'content-type': 'application/json',
            authorization,
            accept: '*/*',
            'accept-encoding': 'gzip, deflate, br',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          const stream = decoded(res);
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', (err) => req.destroy(err));
          stream.on('end', () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
          });
        },
      );
      const timer = setTimeout(() => {
        const err = new Error(`no answer within ${timeoutMs} ms`);
        err.name = 'TimeoutError';
        req.destroy(err);
      }, timeoutMs);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end(body);
    });
  };
}
