import { hashToken } from '../src/accounts/session.service';
import { type SessionTopicEvent, Topic } from '../src/domain/topics';
import { topicSubscribers } from './helpers/realtime';
import { describeWithRedis, startTestApp, type TestApp, useTestServer } from './helpers/app';
import { createUser, type TestUser } from './helpers/factories';
import { errorCode, gql, gqlOk } from './helpers/graphql';
import { connectWs, delay, type TestWsClient } from './helpers/ws';
import { Channel, DEFAULT_CHANNEL_NAME } from '../src/channels/channel.entity';
import { activityRows, CHANGE_PASSWORD, closeCode, login, LOGOUT, ME, MY_ACTIVITY, signup, waitUntil } from './helpers/accounts';

/** Resolves with the close code, or 'open' if the socket is still open after the other checks ran. */
function stillOpen(client: TestWsClient): Promise<number | 'open'> {
  return Promise.race([client.closed, new Promise<'open'>((resolve) => setImmediate(() => resolve('open')))]);
}

describe('accounts: sessions, logout, password changes and revocation', () => {
  const suite = useTestServer();
  let server: TestApp;

  beforeAll(() => {
    server = suite.server;
  });

  async function secondSession(user: TestUser): Promise<string> {
    const response = await login(server.url, user.username, user.password);
    return response.data!.login.token;
  }

  /** Opens a socket with the token and waits until the server has registered it. */
  async function openSocket(app: TestApp, user: TestUser, token: string, expected: number): Promise<TestWsClient> {
    const client = connectWs(app.wsUrl, token);
    await waitUntil(() => app.app.ws.userSocketCount(user.id) === expected, 'the socket to be registered');
    return client;
  }

  it('issues 256-bit opaque tokens and stores only their hash, with creation, last use and expiry', async () => {
    const alice = await createUser(server.app);
    const token = await secondSession(alice);
    expect(Buffer.from(token, 'base64url').length).toBeGreaterThanOrEqual(32);
    const rows: Array<Record<string, string | null>> = await server.app.services.orm.em.getConnection().execute('select * from sessions where user_id = ?', [alice.id]);
    expect(rows).toHaveLength(2);
    expect(JSON.stringify(rows)).not.toContain(token);
    const row = rows.find((candidate) => candidate.token_hash === hashToken(token))!;
    expect(row).toBeDefined();
    expect(Date.parse(row.created_at!)).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(row.last_used_at!)).toBeGreaterThanOrEqual(Date.parse(row.created_at!));
    expect(Date.parse(row.expires_at!)).toBeGreaterThan(Date.now());
    expect(row.revoked_at).toBeNull();
  });

  it('rejects malformed and unknown bearer tokens with UNAUTHENTICATED', async () => {
    for (const token of ['short', 'x'.repeat(43), 'not a token at all!']) {
      expect(errorCode(await gql(server.url, MY_ACTIVITY, {}, { token }))).toBe('UNAUTHENTICATED');
    }
  });

  it('logout revokes only the token used', async () => {
    const alice = await createUser(server.app);
    const other = await secondSession(alice);
    expect(await gqlOk(server.url, LOGOUT, {}, { token: alice.token })).toEqual({ logout: true });

    expect(errorCode(await gql(server.url, LOGOUT, {}, { token: alice.token }))).toBe('UNAUTHENTICATED');
    expect(errorCode(await gql(server.url, MY_ACTIVITY, {}, { token: alice.token }))).toBe('UNAUTHENTICATED');
    expect((await gqlOk(server.url, ME, {}, { token: alice.token })).me).toBeNull();
    expect((await gqlOk(server.url, ME, {}, { token: other })).me.id).toBe(alice.id);
    expect((await activityRows(server.app, alice.id)).map((row) => row.action)).toEqual(['LOGIN', 'LOGOUT']);
  });

  it('logout needs a token', async () => {
    expect(errorCode(await gql(server.url, LOGOUT))).toBe('UNAUTHENTICATED');
  });

  it('a revoked token is refused at once by every instance', async () => {
    const other = await startTestApp();
    try {
      const alice = await createUser(server.app);
      expect((await gqlOk(other.url, ME, {}, { token: alice.token })).me.id).toBe(alice.id);
      await gqlOk(server.url, LOGOUT, {}, { token: alice.token });
      expect(errorCode(await gql(other.url, MY_ACTIVITY, {}, { token: alice.token }))).toBe('UNAUTHENTICATED');
    } finally {
      await other.stop();
    }
  });

  describe('changePassword', () => {
    it('needs the right current password and a valid new one', async () => {
      const alice = await createUser(server.app);
      const wrong = await gql(server.url, CHANGE_PASSWORD, { input: { currentPassword: 'not it at all', newPassword: 'brand new password' } }, { token: alice.token });
      expect(wrong.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'currentPassword' });
      for (const newPassword of ['short', 'x'.repeat(257), alice.username.toUpperCase(), alice.email]) {
        const invalid = await gql(server.url, CHANGE_PASSWORD, { input: { currentPassword: alice.password, newPassword } }, { token: alice.token });
        expect(invalid.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'newPassword' });
      }
      expect(errorCode(await gql(server.url, CHANGE_PASSWORD, { input: { currentPassword: alice.password, newPassword: 'brand new password' } }))).toBe(
        'UNAUTHENTICATED',
      );
      // Nothing changed: the old password still signs in.
      expect(errorCode(await login(server.url, alice.username, alice.password))).toBeUndefined();
    });

    it('changes the password and revokes every other token of the user', async () => {
      const alice = await createUser(server.app);
      const bob = await createUser(server.app);
      const other = await secondSession(alice);
      const input = { currentPassword: alice.password, newPassword: 'brand new password' };
      expect(await gqlOk(server.url, CHANGE_PASSWORD, { input }, { token: alice.token })).toEqual({ changePassword: true });

      expect(errorCode(await gql(server.url, MY_ACTIVITY, {}, { token: other }))).toBe('UNAUTHENTICATED');
      expect((await gqlOk(server.url, ME, {}, { token: alice.token })).me.id).toBe(alice.id);
      expect((await gqlOk(server.url, ME, {}, { token: bob.token })).me.id).toBe(bob.id);
      expect(errorCode(await login(server.url, alice.username, alice.password))).toBe('UNAUTHENTICATED');
      expect(errorCode(await login(server.url, alice.username, 'brand new password'))).toBeUndefined();
      expect((await activityRows(server.app, alice.id)).map((row) => row.action)).toContain('PASSWORD_CHANGED');
    });

    it('throttles guessing the current password', async () => {
      const alice = await createUser(server.app);
      const guess = () => gql(server.url, CHANGE_PASSWORD, { input: { currentPassword: 'a wrong guess', newPassword: 'brand new password' } }, { token: alice.token });
      for (let attempt = 0; attempt < 5; attempt += 1) expect(errorCode(await guess())).toBe('BAD_USER_INPUT');
      expect((await guess()).errors![0].extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: expect.any(Number) });
    });
  });

  describe('open sockets', () => {
    it('logout closes the sockets opened with that token with 4403, and only those', async () => {
      const alice = await createUser(server.app);
      const other = await secondSession(alice);
      const revoked = await openSocket(server, alice, alice.token, 1);
      const kept = await openSocket(server, alice, other, 2);

      await gqlOk(server.url, LOGOUT, {}, { token: alice.token });
      expect(await closeCode(revoked)).toBe(4403);
      await waitUntil(() => server.app.ws.userSocketCount(alice.id) === 1, 'the server to drop the revoked socket');
      expect(await stillOpen(kept)).toBe('open');
    });

    it('a revoked socket receives nothing more while the others keep streaming', async () => {
      const alice = await createUser(server.app);
      const other = await secondSession(alice);
      const publicId = (await server.app.services.orm.em.fork().findOneOrFail(Channel, { name: DEFAULT_CHANNEL_NAME })).id;
      const query = 'subscription Events($id: ID!) { channelEvents(channelId: $id) { __typename ... on MemberJoined { user { id } } } }';
      const revoked = await openSocket(server, alice, alice.token, 1);
      const kept = await openSocket(server, alice, other, 2);
      const revokedEvents = revoked.subscribe(query, { id: publicId });
      const keptEvents = kept.subscribe(query, { id: publicId });
      // Signups announce themselves on public: retry until both streams are live.
      await waitUntil(async () => {
        await signup(server.url);
        return revokedEvents.results.length > 0 && keptEvents.results.length > 0;
      }, 'both subscriptions to be live');
      const seenBefore = revokedEvents.results.length;

      await gqlOk(server.url, LOGOUT, {}, { token: alice.token });
      expect(await closeCode(revoked)).toBe(4403);
      const keptBefore = keptEvents.results.length;
      const newcomer = await signup(server.url);
      await waitUntil(() => keptEvents.results.some((result) => result.data?.channelEvents?.user?.id === newcomer.user.id), 'the kept socket to see the newcomer');
      expect(keptEvents.results.length).toBeGreaterThan(keptBefore);
      expect(revokedEvents.results.filter((result) => result.data)).toHaveLength(seenBefore);
    });

    it('changePassword closes the sockets of the other sessions but not the current one', async () => {
      const alice = await createUser(server.app);
      const other = await secondSession(alice);
      const current = await openSocket(server, alice, alice.token, 1);
      const revoked = await openSocket(server, alice, other, 2);

      await gqlOk(server.url, CHANGE_PASSWORD, { input: { currentPassword: alice.password, newPassword: 'brand new password' } }, { token: alice.token });
      expect(await closeCode(revoked)).toBe(4403);
      await waitUntil(() => server.app.ws.userSocketCount(alice.id) === 1, 'the server to drop the revoked socket');
      expect(await stillOpen(current)).toBe('open');
    });

    it('logout sent over the socket answers, then closes that socket', async () => {
      const alice = await createUser(server.app);
      const socket = await openSocket(server, alice, alice.token, 1);
      const operation = socket.subscribe('mutation { logout }');
      expect((await operation.next()).data).toEqual({ logout: true });
      expect(await closeCode(socket)).toBe(4403);
      expect(errorCode(await gql(server.url, MY_ACTIVITY, {}, { token: alice.token }))).toBe('UNAUTHENTICATED');
    });

    it('refuses a socket with a revoked token (4403)', async () => {
      const alice = await createUser(server.app);
      await gqlOk(server.url, LOGOUT, {}, { token: alice.token });
      expect(await closeCode(connectWs(server.wsUrl, alice.token))).toBe(4403);
    });

    it('closes a socket whose session is revoked while it connects (between its session lookup and its registration)', async () => {
      const alice = await createUser(server.app);
      const [session] = await server.app.services.orm.em.getConnection().execute<Array<{ id: string }>>('select id from sessions where token_hash = ?', [hashToken(alice.token)]);
      // The revocation event arrives first; the session row still reads as live, as it would
      // for a socket that looked it up just before the logout committed.
      await server.app.services.bus.publish(Topic.sessions(), { type: 'SessionsRevoked', userId: alice.id, sessionIds: [session.id] } satisfies SessionTopicEvent);
      await waitUntil(() => server.app.services.bus.stats.published > 0, 'the event to be published');
      await delay(100);
      expect(await closeCode(connectWs(server.wsUrl, alice.token))).toBe(4403);
      // Another session of hers is not affected.
      const other = await secondSession(alice);
      const socket = await openSocket(server, alice, other, 1);
      await delay(100);
      expect(server.app.ws.userSocketCount(alice.id)).toBe(1);
      await socket.dispose();
    });

    it('follows no per-user topic for a socket: revocations come on one instance-wide topic', async () => {
      if (!server.app.services.redis) return;
      const alice = await createUser(server.app);
      const socket = await openSocket(server, alice, alice.token, 1);
      expect(await topicSubscribers(server.app, Topic.user(alice.id))).toBe(0);
      expect(await topicSubscribers(server.app, Topic.sessions())).toBeGreaterThanOrEqual(1);
      await socket.dispose();
    });
  });

  describeWithRedis('across instances', () => {
    it('logout on one instance closes the sockets opened with that token on another', async () => {
      const other = await startTestApp();
      try {
        const alice = await createUser(server.app);
        const socket = await openSocket(other, alice, alice.token, 1);
        await gqlOk(server.url, LOGOUT, {}, { token: alice.token });
        expect(await closeCode(socket)).toBe(4403);
        await waitUntil(() => other.app.ws.userSocketCount(alice.id) === 0, 'the other instance to drop the socket');
      } finally {
        await other.stop();
      }
    });
  });

  describe('expiry', () => {
    it('a session unused for the idle TTL expires', async () => {
      const idle = await startTestApp({ SESSION_IDLE_TTL_SECONDS: '1' });
      try {
        const alice = await createUser(idle.app);
        expect((await gqlOk(idle.url, ME, {}, { token: alice.token })).me.id).toBe(alice.id);
        // Idle expiry needs the session left alone: nothing to poll without touching it.
        await delay(1300);
        expect(errorCode(await gql(idle.url, MY_ACTIVITY, {}, { token: alice.token }))).toBe('UNAUTHENTICATED');
        expect(await closeCode(connectWs(idle.wsUrl, alice.token))).toBe(4403);
      } finally {
        await idle.stop();
      }
    });

    it('a session in use does not reach its idle expiry', async () => {
      const idle = await startTestApp({ SESSION_IDLE_TTL_SECONDS: '1' });
      try {
        const alice = await createUser(idle.app);
        for (let n = 0; n < 8; n += 1) {
          expect(errorCode(await gql(idle.url, MY_ACTIVITY, {}, { token: alice.token }))).toBeUndefined();
          await delay(200);
        }
      } finally {
        await idle.stop();
      }
    });

    it('a session expires at its absolute TTL even while in use', async () => {
      const absolute = await startTestApp({ SESSION_ABSOLUTE_TTL_SECONDS: '1' });
      try {
        const alice = await createUser(absolute.app);
        expect(errorCode(await gql(absolute.url, MY_ACTIVITY, {}, { token: alice.token }))).toBeUndefined();
        await waitUntil(async () => errorCode(await gql(absolute.url, MY_ACTIVITY, {}, { token: alice.token })) === 'UNAUTHENTICATED', 'the absolute expiry');
        const row = (await absolute.app.services.orm.em.getConnection().execute('select created_at, expires_at from sessions where user_id = ?', [alice.id]))[0];
        expect(Date.parse(row.expires_at) - Date.parse(row.created_at)).toBe(1000);
      } finally {
        await absolute.stop();
      }
    });
  });
});
