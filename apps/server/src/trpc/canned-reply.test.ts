import { afterEach, describe, expect, it } from 'vitest';
import { fillCanned, type CannedReplyDto } from '@parley/shared';
import { startTestServer, type TestServer } from '../testing/harness';
import { trpcCall, type TrpcReply } from '../testing/trpc-http';
import { TEST_ADMIN } from '../config';

/** cannedReply.* over real HTTP: validation at save (unknown field named), duplicate shortcuts, search. */
const ADMIN = TEST_ADMIN;

let s: TestServer | undefined;
afterEach(async () => {
  await s?.dispose();
  s = undefined;
});

function call(path: string, input: unknown, cookie: string, method: 'GET' | 'POST' = 'POST'): Promise<TrpcReply> {
  if (!s) throw new Error('no server');
  return trpcCall(s.url, path, input, cookie, method);
}

describe('canned replies', () => {
  it('are validated at save, unique by shortcut, searchable, editable and deletable', async () => {
    s = await startTestServer();
    const login = await call('auth.login', ADMIN, '');
    const cookie = login.cookie ?? '';

    const unknown = await call('cannedReply.create', { shortcut: 'hi', text: 'Hi {name}, your order {order_id} from {shop}' }, cookie);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error?.message).toContain('{order_id}');
    expect(unknown.body.error?.message).toContain('{shop}');
    const badShortcut = await call('cannedReply.create', { shortcut: 'has space', text: 'x' }, cookie);
    expect(badShortcut.status).toBe(400);

    const created = await call('cannedReply.create', { shortcut: '/Hi', text: 'Hi {first_name}, {agent} here from {our_number}.' }, cookie);
    expect(created.status).toBe(200);
    const hi = created.body.result?.data as CannedReplyDto;
    expect(hi).toMatchObject({ shortcut: 'hi', createdBy: 1 });

    const dup = await call('cannedReply.create', { shortcut: 'hi', text: 'another' }, cookie);
    expect(dup.status).toBe(409);
    expect(dup.body.error?.data.code).toBe('CONFLICT');
    expect(dup.body.error?.message).toContain('/hi');

    const thanks = (await call('cannedReply.create', { shortcut: 'thanks', text: 'Thanks {name}!' }, cookie)).body.result
      ?.data as CannedReplyDto;
    const renameClash = await call('cannedReply.update', { id: thanks.id, shortcut: 'hi' }, cookie);
    expect(renameClash.status).toBe(409);
    expect(renameClash.body.error?.message).toContain('/hi');
    const badEdit = await call('cannedReply.update', { id: thanks.id, text: 'Thanks {nmae}' }, cookie);
    expect(badEdit.status).toBe(400);
    expect(badEdit.body.error?.message).toContain('{nmae}');

    const all = await call('cannedReply.list', {}, cookie, 'GET');
    expect((all.body.result?.data as CannedReplyDto[]).map((r) => r.shortcut)).toEqual(['hi', 'thanks']);
    const search = await call('cannedReply.list', { search: 'th' }, cookie, 'GET');
    expect((search.body.result?.data as CannedReplyDto[]).map((r) => r.shortcut)).toEqual(['thanks']);
    const wildcard = await call('cannedReply.list', { search: '%' }, cookie, 'GET');
    expect(wildcard.body.result?.data).toEqual([]);

    const edited = await call('cannedReply.update', { id: thanks.id, text: 'Many thanks {name}!' }, cookie);
    expect(edited.body.result?.data).toMatchObject({ shortcut: 'thanks', text: 'Many thanks {name}!' });
    expect((await call('cannedReply.delete', { id: thanks.id }, cookie)).status).toBe(200);
    expect((await call('cannedReply.delete', { id: thanks.id }, cookie)).status).toBe(404);
    const after = await call('cannedReply.list', undefined, cookie, 'GET');
    expect((after.body.result?.data as CannedReplyDto[]).map((r) => r.shortcut)).toEqual(['hi']);

    // Unauthenticated: no access.
    expect((await call('cannedReply.list', undefined, '', 'GET')).status).toBe(401);
  });

  it('fill their fields, leaving a field with no value visible', () => {
    const filled = fillCanned('Hi {first_name} ({name}), {agent} here.', { name: 'Ada Lovelace', first_name: 'Ada', agent: null });
    expect(filled.text).toBe('Hi Ada (Ada Lovelace), {agent} here.');
    expect(filled.missing).toEqual(['agent']);
    expect(filled.parts).toEqual([
      { kind: 'text', text: 'Hi Ada (Ada Lovelace), ' },
      { kind: 'missing', field: 'agent', text: '{agent}' },
      { kind: 'text', text: ' here.' },
    ]);
  });
});
