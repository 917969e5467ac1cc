import { hashToken } from '../src/accounts/session.service';
import { type TestApp, useTestServer } from './helpers/app';
import { countQueries } from './helpers/db';
import { createUser, type TestUser } from './helpers/factories';
import { errorCode, gql, gqlOk } from './helpers/graphql';
import { EDIT, HISTORY, history, publicChannelId, SEND, sendMessage } from './helpers/messages';
import { ME } from './helpers/accounts';

// A token this instance has seen live: its request runs before its session is checked, the
// check goes along with the request's first statement that can carry it (a history page, a
// channel's access check), and the answer waits for it (SessionService.speculate).

const SESSION_LOOKUP = /from sessions where token_hash/;
const SESSION_CARRIED = /from sessions s where s\.id = k\.session_id/;
const SEND_CARRYING_CHECK = /session_check as \([\s\S]*send_messages\(/;
const TWO_SENDS = `mutation Two($a: SendMessageInput!, $b: SendMessageInput!) { a: sendMessage(input: $a) { id body } b: sendMessage(input: $b) { id body } }`;

describe('sessions checked along with the request', () => {
  const suite = useTestServer();
  let server: TestApp;
  let channelId: string;
  let alice: TestUser;

  beforeAll(() => {
    server = suite.server;
  });

  // Each test starts from an emptied database (useTestServer).
  beforeEach(async () => {
    channelId = await publicChannelId(server.app);
    alice = await createUser(server.app);
    for (let i = 0; i < 5; i += 1) await sendMessage(server.url, alice.token, channelId, `speculation ${i}`);
  });

  /** A new session of alice's, seen live by the server (one request). */
  async function knownSession(): Promise<string> {
    const token = await server.app.services.sessions.create(server.app.services.sql, alice.id, { ip: '127.0.0.1', userAgent: 'jest' });
    expect((await gqlOk<{ me: { id: string } }>(server.url, ME, {}, { token })).me.id).toBe(alice.id);
    return token;
  }

  async function storedCount(body: string): Promise<number> {
    const [row] = await server.app.services.sql.query<{ n: string }>('select count(*) as n from messages where body = $1', [body]);
    return Number(row.n);
  }

  async function revoke(token: string, how: 'revoked' | 'idle' | 'expired'): Promise<void> {
    // Written straight to the database, as another instance's logout (or time) would leave it.
    const set = { revoked: 'revoked_at = now()', idle: "last_used_at = now() - interval '400 days'", expired: "expires_at = now() - interval '1 second'" }[how];
    await server.app.services.sql.query(`update sessions set ${set} where token_hash = $1`, [hashToken(token)]);
  }

  it('reads a known token’s session in the statement of a history page, and in that of a channel’s access check', async () => {
    const token = await knownSession();
    for (const variables of [{ channelId, first: 3 }, { channelId, last: 3 }]) {
      const { result, queries } = await countQueries(server.app, () => history(server.url, token, variables));
      expect(result.edges).toHaveLength(3);
      expect(result.edges.every((edge) => edge.node.author.id)).toBe(true);
      expect(queries.filter((text) => SESSION_LOOKUP.test(text))).toHaveLength(0);
      expect(queries.filter((text) => SESSION_CARRIED.test(text))).toHaveLength(1);
    }
  });

  it('answers a query that cannot carry the check after a lookup of its own, the one a new token gets', async () => {
    const token = await knownSession();
    const { result, queries } = await countQueries(server.app, () => gqlOk<{ me: { id: string; username: string } }>(server.url, ME, {}, { token }));
    expect(result.me).toMatchObject({ id: alice.id, username: alice.username });
    expect(queries).toHaveLength(1);
    expect(queries[0]).toMatch(SESSION_LOOKUP);
  });

  it.each(['revoked', 'idle', 'expired'] as const)('answers the next history query of a %s session as signed out, at once', async (how) => {
    const token = await knownSession();
    await revoke(token, how);
    for (const variables of [{ channelId, first: 3 }, { channelId, last: 3 }]) {
      const answer = await gql(server.url, HISTORY, variables, { token });
      expect(errorCode(answer)).toBe('UNAUTHENTICATED');
      expect(answer.data?.messages ?? null).toBeNull();
    }
    expect((await gqlOk<{ me: unknown }>(server.url, ME, {}, { token })).me).toBeNull();
  });

  it('holds a mutation other than a send until the check passes: a revoked session writes nothing', async () => {
    const [first] = (await history(server.url, alice.token, { channelId, first: 1 })).edges;
    const token = await knownSession();
    await revoke(token, 'revoked');
    const answer = await gql(server.url, EDIT, { id: first.node.id, body: 'edited after revocation' }, { token });
    expect(errorCode(answer)).toBe('UNAUTHENTICATED');
    const stored = await server.app.services.sql.query<{ body: string }>('select body from messages where id = $1', [first.node.id]);
    expect(stored[0].body).toBe(first.node.body);
    // A live known session still edits, its check made alone before the edit.
    const live = await knownSession();
    const { queries } = await countQueries(server.app, () => gqlOk(server.url, EDIT, { id: first.node.id, body: 'edited' }, { token: live }));
    expect(queries.findIndex((text) => SESSION_LOOKUP.test(text))).toBe(0);
  });

  it('checks a known token’s session in its send’s batch statement, with no statement of its own', async () => {
    const token = await knownSession();
    const body = `carried ${Date.now()}`;
    const { result, queries } = await countQueries(server.app, () => gqlOk<{ sendMessage: { body: string; author: { id: string } } }>(server.url, SEND, { input: { channelId, body } }, { token }));
    expect(result.sendMessage).toMatchObject({ body, author: { id: alice.id } });
    expect(queries.filter((text) => SESSION_LOOKUP.test(text))).toHaveLength(0);
    expect(queries.filter((text) => SEND_CARRYING_CHECK.test(text))).toHaveLength(1);
  });

  it.each(['revoked', 'idle', 'expired'] as const)('stores nothing for a send of a %s session, and answers it as signed out', async (how) => {
    const token = await knownSession();
    await revoke(token, how);
    const body = `after ${how} ${Date.now()}`;
    const { result: answer, queries } = await countQueries(server.app, () => gql(server.url, SEND, { input: { channelId, body } }, { token }));
    expect(errorCode(answer)).toBe('UNAUTHENTICATED');
    expect(answer.data?.sendMessage ?? null).toBeNull();
    expect(queries.filter((text) => SEND_CARRYING_CHECK.test(text))).toHaveLength(1);
    expect(await storedCount(body)).toBe(0);
    // So is a send into a channel that does not exist: the session decides first.
    const missing = await gql(server.url, SEND, { input: { channelId: '00000000-0000-4000-8000-000000000000', body } }, { token });
    expect(errorCode(missing)).toBe('UNAUTHENTICATED');
  });

  it('counts a send as use of its session in the same statement, when due', async () => {
    const token = await knownSession();
    await server.app.services.sql.query("update sessions set last_used_at = now() - interval '10 minutes' where token_hash = $1", [hashToken(token)]);
    await gqlOk(server.url, SEND, { input: { channelId, body: 'touching' } }, { token });
    const [row] = await server.app.services.sql.query<{ idle_ms: number }>('select extract(epoch from now() - last_used_at) * 1000 as idle_ms from sessions where token_hash = $1', [hashToken(token)]);
    expect(Number(row.idle_ms)).toBeLessThan(60_000);
  });

  it('sends every message of a document of several sends on the first one’s check, and none for a revoked session', async () => {
    const token = await knownSession();
    const stamp = Date.now();
    const variables = { a: { channelId, body: `first ${stamp}` }, b: { channelId, body: `second ${stamp}` } };
    const { result, queries } = await countQueries(server.app, () => gqlOk<{ a: { body: string }; b: { body: string } }>(server.url, TWO_SENDS, variables, { token }));
    expect([result.a.body, result.b.body]).toEqual([`first ${stamp}`, `second ${stamp}`]);
    expect(queries.filter((text) => SESSION_LOOKUP.test(text))).toHaveLength(0);
    await revoke(token, 'revoked');
    const refused = { a: { channelId, body: `third ${stamp}` }, b: { channelId, body: `fourth ${stamp}` } };
    expect(errorCode(await gql(server.url, TWO_SENDS, refused, { token }))).toBe('UNAUTHENTICATED');
    expect(await storedCount(`third ${stamp}`)).toBe(0);
    expect(await storedCount(`fourth ${stamp}`)).toBe(0);
  });

  it('answers every request of a burst by its own session when some were revoked meanwhile', async () => {
    const tokens = await Promise.all(Array.from({ length: 6 }, () => knownSession()));
    await Promise.all(tokens.filter((_, i) => i % 2 === 1).map((token) => revoke(token, 'revoked')));
    const answers = await Promise.all(tokens.map((token) => gql(server.url, HISTORY, { channelId, first: 2 }, { token })));
    answers.forEach((answer, i) => {
      if (i % 2 === 1) expect(errorCode(answer)).toBe('UNAUTHENTICATED');
      else expect(answer.data?.messages.edges).toHaveLength(2);
    });
  });
});

describe('a send that ran before its session proved dead', () => {
  const suite = useTestServer({ RATE_LIMIT_SEND_MESSAGE: '3/60' });

  it('gives its rate-limit hit back', async () => {
    const { server } = suite;
    const channelId = await publicChannelId(server.app);
    const bob = await createUser(server.app);
    const known = await server.app.services.sessions.create(server.app.services.sql, bob.id, { ip: '127.0.0.1', userAgent: 'jest' });
    expect((await gqlOk<{ me: { id: string } }>(server.url, ME, {}, { token: known })).me.id).toBe(bob.id);
    await server.app.services.sql.query('update sessions set revoked_at = now() where token_hash = $1', [hashToken(known)]);
    // In flight together, each is counted before its batch finds the session revoked.
    const refused = await Promise.all([1, 2, 3].map((i) => gql(server.url, SEND, { input: { channelId, body: `refused ${i}` } }, { token: known })));
    expect(refused.map(errorCode)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED']);
    // Given back when each batch found the session dead, before the request ran again signed out.
    for (let i = 1; i <= 3; i += 1) await sendMessage(server.url, bob.token, channelId, `allowed ${i}`);
    expect(errorCode(await gql(server.url, SEND, { input: { channelId, body: 'one too many' } }, { token: bob.token }))).toBe('RATE_LIMITED');
  });
});
