import { loadConfig } from '../src/config';
import { recordActivity, ActivityAction } from '../src/accounts/activity';
import { Channel, ChannelKind, DEFAULT_CHANNEL_NAME } from '../src/channels/channel.entity';
import { Topic } from '../src/domain/topics';
import { type TestApp, useTestServer } from './helpers/app';
import { countQueries } from './helpers/db';
import { createUser } from './helpers/factories';
import { errorCode, gql, gqlOk } from './helpers/graphql';
import { activityRows, ME, MY_ACTIVITY, SIGNUP, signup, signupInput, UPDATE_PROFILE, USER_FIELDS } from './helpers/accounts';

describe('accounts: signup, profiles and the activity log', () => {
  const suite = useTestServer();
  let server: TestApp;

  beforeAll(() => {
    server = suite.server;
  });

  const publicChannel = () => server.app.services.orm.em.fork().findOneOrFail(Channel, { name: DEFAULT_CHANNEL_NAME });

  describe('signup', () => {
    it('creates the account, signs it in and makes it a member of public', async () => {
      const before = await publicChannel();
      const result = await signup(server.url, { username: 'Alice.Smith', email: 'Alice.Smith@Example.TEST', displayName: undefined });
      expect(result.token).toMatch(/^[A-Za-z0-9_-]{43,}$/);
      expect(result.user).toMatchObject({ username: 'Alice.Smith', displayName: 'Alice.Smith', email: 'alice.smith@example.test', bio: null });

      const me = await gqlOk(server.url, ME, {}, { token: result.token });
      expect(me.me.id).toBe(result.user.id);

      const after = await publicChannel();
      expect(after.memberCount).toBe(before.memberCount + 1);
      const memberships = await server.app.services.orm.em
        .getConnection()
        .execute('select count(*)::int as n from memberships where user_id = ? and channel_id = ?', [result.user.id, after.id]);
      expect(memberships[0].n).toBe(1);
    });

    it('announces the new member on the public channel and on the user topic, after commit', async () => {
      const channel = await publicChannel();
      const connection = server.app.services.orm.em.getConnection();
      const published: Array<{ topic: string; payload: any; committed: boolean }> = [];
      const bus = server.app.services.bus;
      const original = bus.publish.bind(bus);
      // Calls through; records whether the new user was visible to another connection at publish time.
      const spy = jest.spyOn(bus, 'publish').mockImplementation(async (topic, payload: any) => {
        const userId = payload?.user?.id ?? (topic.startsWith('user:') ? topic.slice(5) : null);
        const rows = userId ? await connection.execute('select count(*)::int as n from users where id = ?', [userId]) : [{ n: 0 }];
        published.push({ topic, payload, committed: rows[0].n === 1 });
        return original(topic, payload);
      });
      try {
        const result = await signup(server.url);
        expect(published).toEqual([
          {
            topic: Topic.channel(channel.id),
            payload: expect.objectContaining({ type: 'MemberJoined', channel: expect.objectContaining({ id: channel.id, memberCount: channel.memberCount + 1 }), user: expect.objectContaining({ id: result.user.id }) }),
            committed: true,
          },
          { topic: Topic.user(result.user.id), payload: { type: 'MembershipAdded', channelId: channel.id }, committed: true },
        ]);
        // Channel events reach every subscriber: the email stays out of them.
        expect(JSON.stringify(published[0].payload)).not.toContain(result.email);
      } finally {
        spy.mockRestore();
      }
    });

    it('trims the display name and keeps it when given', async () => {
      const result = await signup(server.url, { displayName: '  Alice in Chains  ' });
      expect(result.user.displayName).toBe('Alice in Chains');
    });

    it.each([
      ['email', { email: 'not-an-email' }],
      ['email', { email: 'two@@example.test' }],
      ['email', { email: 'spaces in@example.test' }],
      ['email', { email: 'nodot@localhost' }],
      ['email', { email: `${'a'.repeat(250)}@example.test` }],
      ['username', { username: 'ab' }],
      ['username', { username: 'a'.repeat(33) }],
      ['username', { username: 'has space' }],
      ['username', { username: 'bad!char' }],
      ['username', { username: 'tab\tname' }],
      ['password', { password: 'short' }],
      ['password', { password: 'x'.repeat(257) }],
      ['displayName', { displayName: 'x'.repeat(65) }],
      ['displayName', { displayName: '   ' }],
      ['displayName', { displayName: 'bell\u0007name' }],
      ['displayName', { displayName: 'evil\u202Eeman' }],
    ])('rejects an invalid %s (%j) with BAD_USER_INPUT naming the field', async (field, overrides) => {
      const response = await gql(server.url, SIGNUP, { input: signupInput(overrides as Record<string, string>) });
      expect(errorCode(response)).toBe('BAD_USER_INPUT');
      expect(response.errors![0].extensions!.field).toBe(field);
      expect(response.data).toBeNull();
    });

    it('rejects a password equal to the username or the email', async () => {
      const asUsername = signupInput({ username: 'samepass_user' });
      const byUsername = await gql(server.url, SIGNUP, { input: { ...asUsername, password: 'SAMEPASS_user' } });
      expect(errorCode(byUsername)).toBe('BAD_USER_INPUT');
      expect(byUsername.errors![0].extensions!.field).toBe('password');
      const asEmail = signupInput({ email: 'pass@example.test' });
      const byEmail = await gql(server.url, SIGNUP, { input: { ...asEmail, password: 'Pass@Example.test' } });
      expect(byEmail.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'password' });
    });

    it('accepts the length bounds exactly', async () => {
      await signup(server.url, { username: 'abc', password: 'x'.repeat(8), displayName: 'd'.repeat(64) });
      await signup(server.url, { username: 'b'.repeat(32), password: 'y'.repeat(256) });
    });

    it('answers CONFLICT for a taken email or username, whatever their case', async () => {
      await signup(server.url, { username: 'Taken_Name', email: 'taken@example.test' });
      const email = await gql(server.url, SIGNUP, { input: signupInput({ email: 'TAKEN@example.test' }) });
      expect(email.errors![0].extensions).toMatchObject({ code: 'CONFLICT', field: 'email' });
      const username = await gql(server.url, SIGNUP, { input: signupInput({ username: 'taken_name' }) });
      expect(username.errors![0].extensions).toMatchObject({ code: 'CONFLICT', field: 'username' });
    });

    it('lets the unique constraint decide between simultaneous signups', async () => {
      const channelBefore = await publicChannel();
      const attempts = await Promise.all(
        ['Racer_x', 'racer_X', 'RACER_x'].map((username, n) => gql(server.url, SIGNUP, { input: signupInput({ username, email: `racer${n}@example.test` }) })),
      );
      const succeeded = attempts.filter((response) => response.data?.signup);
      const conflicts = attempts.filter((response) => errorCode(response) === 'CONFLICT');
      expect(succeeded).toHaveLength(1);
      expect(conflicts).toHaveLength(2);
      conflicts.forEach((response) => expect(response.errors![0].extensions!.field).toBe('username'));
      // The losers left nothing behind: no user, membership or member count.
      expect((await publicChannel()).memberCount).toBe(channelBefore.memberCount + 1);
      const users = await server.app.services.orm.em.getConnection().execute(`select count(*)::int as n from users where username_key = 'racer_x'`);
      expect(users[0].n).toBe(1);
    });

    it('stores only an argon2id hash, with the configured cost', async () => {
      const result = await signup(server.url, { password: 'my secret password' });
      const [row] = await server.app.services.orm.em.getConnection().execute('select password_hash from users where id = ?', [result.user.id]);
      expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
      expect(row.password_hash).not.toContain('my secret password');
    });

    it("defaults to OWASP's argon2id floor and refuses less in production", () => {
      expect(loadConfig({}).auth).toMatchObject({ argon2MemoryKib: 19456, argon2Iterations: 2, argon2Parallelism: 1 });
      expect(() => loadConfig({ NODE_ENV: 'production', ARGON2_MEMORY_KIB: '1024' })).toThrow(/ARGON2_MEMORY_KIB/);
      expect(() => loadConfig({ NODE_ENV: 'production', ARGON2_ITERATIONS: '1' })).toThrow(/ARGON2/);
    });
  });

  describe('profiles', () => {
    const USER_BY = `query User($id: ID, $username: String) { user(id: $id, username: $username) { ${USER_FIELDS} } }`;
    const USERS = `query Users($search: String, $first: Int, $after: String) {
      users(search: $search, first: $first, after: $after) { edges { cursor node { id username displayName email } } pageInfo { hasNextPage endCursor } }
    }`;

    it('me is null without a token and the viewer with one', async () => {
      expect((await gqlOk(server.url, ME)).me).toBeNull();
      const alice = await createUser(server.app);
      expect((await gqlOk(server.url, ME, {}, { token: alice.token })).me).toMatchObject({ id: alice.id, email: alice.email });
    });

    it('finds a user by id or by username (case-insensitively), showing the email to the user themself only', async () => {
      const alice = await createUser(server.app, { username: 'Alice_Profile' });
      const bob = await createUser(server.app);
      const byId = await gqlOk(server.url, USER_BY, { id: alice.id }, { token: bob.token });
      expect(byId.user).toMatchObject({ id: alice.id, username: 'Alice_Profile', email: null });
      const byName = await gqlOk(server.url, USER_BY, { username: 'alice_PROFILE' }, { token: bob.token });
      expect(byName.user.id).toBe(alice.id);
      const own = await gqlOk(server.url, USER_BY, { id: alice.id }, { token: alice.token });
      expect(own.user.email).toBe(alice.email);
    });

    it('answers null for unknown or malformed ids and names, and needs exactly one of them', async () => {
      const alice = await createUser(server.app);
      for (const variables of [{ id: 'not-a-uuid' }, { id: '00000000-0000-4000-8000-000000000000' }, { username: 'nobody_here' }, { username: 'x'.repeat(500) }]) {
        expect((await gqlOk(server.url, USER_BY, variables, { token: alice.token })).user).toBeNull();
      }
      const neither = await gql(server.url, USER_BY, {}, { token: alice.token });
      expect(errorCode(neither)).toBe('BAD_USER_INPUT');
      const both = await gql(server.url, USER_BY, { id: alice.id, username: alice.username }, { token: alice.token });
      expect(errorCode(both)).toBe('BAD_USER_INPUT');
    });

    it('needs a signed-in viewer to look people up', async () => {
      const alice = await createUser(server.app);
      expect(errorCode(await gql(server.url, USER_BY, { id: alice.id }))).toBe('UNAUTHENTICATED');
      expect(errorCode(await gql(server.url, USERS, {}))).toBe('UNAUTHENTICATED');
    });

    it('lists users by prefix of username or display name, case-insensitively, hiding others’ emails', async () => {
      const viewer = await createUser(server.app, { username: 'viewer_zz' });
      const ann = await createUser(server.app, { username: 'Annabel', displayName: 'Zed' });
      const zoe = await createUser(server.app, { username: 'zoe_q', displayName: 'ANNIE' });
      await createUser(server.app, { username: 'bob_b', displayName: 'Bob' });
      const result = await gqlOk(server.url, USERS, { search: 'ann' }, { token: viewer.token });
      expect(result.users.edges.map((edge: any) => edge.node.id)).toEqual([ann.id, zoe.id]);
      expect(result.users.edges.every((edge: any) => edge.node.email === null)).toBe(true);
      const infix = await gqlOk(server.url, USERS, { search: 'nab' }, { token: viewer.token });
      expect(infix.users.edges).toEqual([]);
    });

    it('treats LIKE wildcards in the search literally', async () => {
      const viewer = await createUser(server.app, { username: 'viewer_w' });
      const underscored = await createUser(server.app, { username: 'a_b_c' });
      await createUser(server.app, { username: 'axbxc' });
      await createUser(server.app, { username: 'percent', displayName: 'plain' });
      const underscore = await gqlOk(server.url, USERS, { search: 'a_b' }, { token: viewer.token });
      expect(underscore.users.edges.map((edge: any) => edge.node.id)).toEqual([underscored.id]);
      const percent = await gqlOk(server.url, USERS, { search: '%' }, { token: viewer.token });
      expect(percent.users.edges).toEqual([]);
      const backslash = await gqlOk(server.url, USERS, { search: '\\' }, { token: viewer.token });
      expect(backslash.users.edges).toEqual([]);
    });

    it('pages through users with first/after and rejects bad page arguments', async () => {
      const viewer = await createUser(server.app, { username: 'pager_0' });
      for (let n = 1; n <= 4; n += 1) await createUser(server.app, { username: `pager_${n}` });
      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const page: any = await gqlOk(server.url, USERS, { search: 'pager_', first: 2, after }, { token: viewer.token });
        seen.push(...page.users.edges.map((edge: any) => edge.node.username));
        if (!page.users.pageInfo.hasNextPage) break;
        after = page.users.pageInfo.endCursor;
      }
      expect(seen).toEqual(['pager_0', 'pager_1', 'pager_2', 'pager_3', 'pager_4']);
      const zero = await gql(server.url, USERS, { first: 0 }, { token: viewer.token });
      expect(zero.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
      const tooMany = await gql(server.url, USERS, { first: 101 }, { token: viewer.token });
      expect(errorCode(tooMany)).toBe('BAD_USER_INPUT');
      const badCursor = await gql(server.url, USERS, { after: 'garbage!' }, { token: viewer.token });
      expect(badCursor.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    });

    it('answers NUL bytes and other hostile strings as input errors or "nobody", never as internal errors', async () => {
      const viewer = await createUser(server.app);
      const nul = 'ab\u0000c';
      const forged = Buffer.from('user:ab\u0000', 'utf8').toString('base64url');
      const responses = [
        await gql(server.url, USER_BY, { username: nul }, { token: viewer.token }),
        await gql(server.url, USERS, { search: nul }, { token: viewer.token }),
        await gql(server.url, USERS, { after: forged }, { token: viewer.token }),
        await gql(server.url, SIGNUP, { input: signupInput({ email: 'a\u0000b@example.test' }) }),
        await gql(server.url, SIGNUP, { input: signupInput({ username: nul }) }),
        await gql(server.url, 'mutation L($login: String!) { login(input: { login: $login, password: "whatever123" }) { token } }', { login: nul }),
        await gql(server.url, UPDATE_PROFILE, { input: { bio: nul } }, { token: viewer.token }),
      ];
      expect(responses[0].data?.user).toBeNull();
      for (const response of responses.slice(1)) expect(errorCode(response)).toBe('BAD_USER_INPUT');
    });

    it('updates the display name (trimmed) and bio, leaving absent fields alone', async () => {
      const alice = await createUser(server.app, { displayName: 'Alice' });
      const named = await gqlOk(server.url, UPDATE_PROFILE, { input: { displayName: '  Alice B.  ' } }, { token: alice.token });
      expect(named.updateProfile).toMatchObject({ displayName: 'Alice B.', bio: null, email: alice.email });
      const bio = await gqlOk(server.url, UPDATE_PROFILE, { input: { bio: 'Line one\nline two' } }, { token: alice.token });
      expect(bio.updateProfile).toMatchObject({ displayName: 'Alice B.', bio: 'Line one\nline two' });
      const longest = await gqlOk(server.url, UPDATE_PROFILE, { input: { bio: 'b'.repeat(500) } }, { token: alice.token });
      expect(longest.updateProfile.bio).toHaveLength(500);
      const cleared = await gqlOk(server.url, UPDATE_PROFILE, { input: { bio: '' } }, { token: alice.token });
      expect(cleared.updateProfile.bio).toBeNull();
      expect((await gqlOk(server.url, ME, {}, { token: alice.token })).me.displayName).toBe('Alice B.');
    });

    it.each([
      ['displayName', { displayName: 'x'.repeat(65) }],
      ['displayName', { displayName: '  ' }],
      ['displayName', { displayName: 'null\u0000byte' }],
      ['bio', { bio: 'b'.repeat(501) }],
      ['bio', { bio: 'escape\u001b[31m' }],
    ])('rejects an invalid %s in updateProfile', async (field, input) => {
      const alice = await createUser(server.app, { displayName: 'Alice' });
      const response = await gql(server.url, UPDATE_PROFILE, { input }, { token: alice.token });
      expect(response.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect((await gqlOk(server.url, ME, {}, { token: alice.token })).me).toMatchObject({ displayName: 'Alice', bio: null });
    });

    it('needs a signed-in viewer to update a profile', async () => {
      expect(errorCode(await gql(server.url, UPDATE_PROFILE, { input: { bio: 'hi' } }))).toBe('UNAUTHENTICATED');
    });
  });

  describe('activity log', () => {
    it('records signup, login, failed login and logout with address and user agent, newest first', async () => {
      const headers = { 'user-agent': 'activity-test/1.0' };
      const result = await signup(server.url, {}, headers);
      await gql(server.url, `mutation { login(input: { login: "${result.user.username}", password: "wrong password!" }) { token } }`, {}, { headers });
      const second = await gqlOk(server.url, `mutation { login(input: { login: "${result.email}", password: "${result.password}" }) { token } }`, {}, { headers });
      await gqlOk(server.url, 'mutation { logout }', {}, { token: second.login.token, headers });

      const activity = await gqlOk(server.url, MY_ACTIVITY, {}, { token: result.token });
      expect(activity.myActivity.edges.map((edge: any) => edge.node.action)).toEqual(['LOGOUT', 'LOGIN', 'LOGIN_FAILED', 'SIGNUP']);
      expect(activity.myActivity.edges.every((edge: any) => edge.node.channel === null && !Number.isNaN(Date.parse(edge.node.at)))).toBe(true);
      const rows = await activityRows(server.app, result.user.id);
      expect(rows).toHaveLength(4);
      for (const row of rows) {
        expect(row.ip).toMatch(/127\.0\.0\.1|::1/);
        expect(row.user_agent).toBe('activity-test/1.0');
      }
    });

    it('records failed logins of existing accounts only', async () => {
      await gql(server.url, 'mutation { login(input: { login: "no_such_user", password: "whatever123" }) { token } }');
      const rows = await server.app.services.orm.em.getConnection().execute(`select count(*)::int as n from activity_log`);
      expect(rows[0].n).toBe(0);
    });

    it('pages newest first and shows a channel only while it exists and is visible, in a fixed number of queries', async () => {
      const alice = await createUser(server.app);
      const pub = await publicChannel();
      const em = server.app.services.orm.em.fork();
      const secret = em.create(Channel, { name: 'secret-room', kind: ChannelKind.PRIVATE });
      await em.flush();
      const actions = [
        [ActivityAction.CHANNEL_JOINED, pub.id],
        [ActivityAction.CHANNEL_LEFT, secret.id],
        [ActivityAction.CHANNEL_DELETED, '00000000-0000-4000-8000-000000000001'],
        [ActivityAction.CHANNEL_JOINED, pub.id],
        [ActivityAction.CHANNEL_CREATED, pub.id],
      ] as const;
      for (const [action, channelId] of actions) await recordActivity(server.app.services.sql, alice.id, action, { channelId });

      const { result: firstPage, queries } = await countQueries(server.app, () => gqlOk(server.url, MY_ACTIVITY, { first: 3 }, { token: alice.token }));
      const nodes = firstPage.myActivity.edges.map((edge: any) => edge.node);
      expect(nodes.map((node: any) => node.action)).toEqual(['CHANNEL_CREATED', 'CHANNEL_JOINED', 'CHANNEL_DELETED']);
      expect(nodes.map((node: any) => node.channel?.id ?? null)).toEqual([pub.id, pub.id, null]);
      // Session lookup, the page, then one query each for channels and memberships.
      expect(queries.length).toBeLessThanOrEqual(5);
      expect(firstPage.myActivity.pageInfo.hasNextPage).toBe(true);

      const secondPage = await gqlOk(server.url, MY_ACTIVITY, { first: 3, after: firstPage.myActivity.pageInfo.endCursor }, { token: alice.token });
      const rest = secondPage.myActivity.edges.map((edge: any) => edge.node);
      // The private channel alice is not a member of stays hidden.
      expect(rest.map((node: any) => [node.action, node.channel?.id ?? null])).toEqual([
        ['CHANNEL_LEFT', null],
        ['CHANNEL_JOINED', pub.id],
      ]);
      expect(secondPage.myActivity.pageInfo.hasNextPage).toBe(false);
    });

    it("lists the viewer's own entries only and needs a token", async () => {
      const alice = await createUser(server.app);
      const bob = await createUser(server.app);
      await recordActivity(server.app.services.sql, bob.id, ActivityAction.LOGIN);
      expect((await gqlOk(server.url, MY_ACTIVITY, {}, { token: alice.token })).myActivity.edges).toEqual([]);
      expect(errorCode(await gql(server.url, MY_ACTIVITY))).toBe('UNAUTHENTICATED');
      const badCursor = await gql(server.url, MY_ACTIVITY, { after: 'nope' }, { token: alice.token });
      expect(badCursor.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    });
  });
});
