/** One tRPC call over real HTTP as a browser makes it (cookie, plain JSON), for integration tests. */
export type TrpcBody = {
  result?: { data: unknown };
  error?: { message: string; data: { httpStatus: number; code: string; appCode?: string | null } };
};

export interface TrpcReply {
  status: number;
  body: TrpcBody;
  /** `name=value` of a Set-Cookie in the answer (a sign-in), else null. */
  cookie: string | null;
}

export async function trpcCall(
  baseUrl: string,
  path: string,
  input: unknown,
  cookie: string,
  method: 'GET' | 'POST' = 'POST',
): Promise<TrpcReply> {
  const headers = { 'content-type': 'application/json', cookie };
  const url = `${baseUrl}/trpc/${path}`;
  const res =
    method === 'GET'
      ? await fetch(input === undefined ? url : `${url}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers })
      : await fetch(url, { method: 'POST', headers, body: JSON.stringify(input) });
  const set = res.headers.get('set-cookie');
  return { status: res.status, body: (await res.json()) as TrpcBody, cookie: set ? (set.split(';')[0] ?? null) : null };
}
