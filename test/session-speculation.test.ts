import { hashToken } from '../src/accounts/session.service';
import { type TestApp, useTestServer } from './helpers/app';
import { countQueries } from './helpers/db';
import { createUser, type TestUser } from './helpers/factories';
import { errorCode, gql, gqlOk } from './helpers/graphql';
import { HISTORY, history, publicChannelId, SEND, sendMessage } from './helpers/messages';
import { ME } from './helpers/accounts';

// A token this instance has seen live: its request runs before its session is checked, the
// check goes along with the request's first statement that can carry it (a history page, a
// channel's access check), and the answer waits for it (SessionService.speculate).

const SESSION_LOOKUP = /from sessions where token_hash/;
const SESSION_CARRIED = /from sessions s where s\.id = k\.session_id/;

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

  it('holds a mutation until the check passes: a revoked session writes nothing', async () => {
    const token = await knownSession();
    await revoke(token, 'revoked');
    const body = `after revocation ${Date.now()}`;
    const answer = await gql(server.url, SEND, { input: { channelId, body } }, { token });
    expect(errorCode(answer)).toBe('UNAUTHENTICATED');
    const stored = await server.app.services.sql.query<{ n: string }>('select count(*) as n from messages where body = $1', [body]);
    expect(Number(stored[0].n)).toBe(0);
    // A live known session still sends, its check made before the send.
    const live = await knownSession();
    const { queries } = await countQueries(server.app, () => gqlOk(server.url, SEND, { input: { channelId, body: `${body} (live)` } }, { token: live }));
    expect(queries.findIndex((text) => SESSION_LOOKUP.test(text))).toBe(0);
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
