import { randomUUID } from 'node:crypto';
import { DEFAULT_CHANNEL_NAME } from '../src/channels/channel.entity';
import { Topic } from '../src/domain/topics';
import { errorCode, gql, gqlOk } from './helpers/graphql';
import { type TestApp, useTestServer } from './helpers/app';
import { createUser, type TestUser } from './helpers/factories';
import {
  CHANNEL,
  channelName,
  countRows,
  CREATE,
  createChannel,
  DELETE_CHANNEL,
  DIRECTORY,
  insertMessage,
  INVITE,
  JOIN,
  LEAVE,
  MARK_READ,
  MEMBERS,
  MY_CHANNELS,
  recordTopic,
  REMOVE,
  stopAllRecorders,
  type TestChannel,
  UPDATE,
} from './helpers/channels';

describe('channels: creation, membership, roles and visibility', () => {
  // Before the suite's own hooks: recorders listen on the bus, which stopping the app closes.
  afterAll(stopAllRecorders);
  const suite = useTestServer();
  let server: TestApp;
  let url: string;

  beforeAll(() => {
    server = suite.server;
    url = server.url;
  });

  const channelOf = async (user: TestUser, id: string) => (await gqlOk<{ channel: TestChannel | null }>(url, CHANNEL, { id }, { token: user.token })).channel;
  const activity = (userId: string, action: string, channelId: string) =>
    countRows(server.app, 'select count(*) from activity_log where user_id = ? and action = ? and channel_id = ?', [userId, action, channelId]);
  const publicChannelId = async () =>
    (await server.app.services.orm.em.getConnection().execute<Array<{ id: string }>>('select id from channels where name = ?', [DEFAULT_CHANNEL_NAME]))[0].id;

  describe('createChannel', () => {
    it('creates a PUBLIC channel owned by its creator, who is its only member', async () => {
      const alice = await createUser(server.app);
      const name = channelName();
      const channel = await createChannel(url, alice, { name, description: 'Talk about things' });
      expect(channel).toMatchObject({
        name,
        description: 'Talk about things',
        kind: 'PUBLIC',
        memberCount: 1,
        isMember: true,
        unreadCount: 0,
        owner: { id: alice.id, username: alice.username },
        peer: null,
      });
      const role = await server.app.services.orm.em
        .getConnection()
        .execute<Array<{ role: string }>>('select role from memberships where channel_id = ? and user_id = ?', [channel.id, alice.id]);
      expect(role).toEqual([{ role: 'OWNER' }]);
      expect(await activity(alice.id, 'CHANNEL_CREATED', channel.id)).toBe(1);
    });

    it('trims and lowercases names, then validates them', async () => {
      const alice = await createUser(server.app);
      const channel = await createChannel(url, alice, { name: '  Team-Room_1 ' });
      expect(channel.name).toBe('team-room_1');
      for (const bad of ['', '   ', 'two words', 'x'.repeat(65), 'ünicode', 'dm:a:b', 'semi;colon', 'dot.name']) {
        const response = await gql(url, CREATE, { input: { name: bad } }, { token: alice.token });
        expect(errorCode(response)).toBe('BAD_USER_INPUT');
        expect(response.errors?.[0].extensions?.field).toBe('name');
      }
      // 64 characters is the limit, not over it.
      expect((await createChannel(url, alice, { name: 'y'.repeat(64) })).name).toBe('y'.repeat(64));
    });

    it('limits descriptions to 500 characters and refuses DIRECT', async () => {
      const alice = await createUser(server.app);
      const long = await gql(url, CREATE, { input: { name: channelName(), description: 'd'.repeat(501) } }, { token: alice.token });
      expect(errorCode(long)).toBe('BAD_USER_INPUT');
      expect(long.errors?.[0].extensions?.field).toBe('description');
      expect((await createChannel(url, alice, { description: 'd'.repeat(500) })).description).toHaveLength(500);
      const direct = await gql(url, CREATE, { input: { name: channelName(), kind: 'DIRECT' } }, { token: alice.token });
      expect(errorCode(direct)).toBe('BAD_USER_INPUT');
      expect(direct.errors?.[0].extensions?.field).toBe('kind');
    });

    it('joins and returns an existing PUBLIC channel of the same name, whatever its case', async () => {
      const [alice, bob] = [await createUser(server.app), await createUser(server.app)];
      const name = channelName();
      const original = await createChannel(url, alice, { name });
      const again = await createChannel(url, bob, { name: name.toUpperCase() });
      expect(again).toMatchObject({ id: original.id, memberCount: 2, isMember: true, owner: { id: alice.id } });
      expect(await activity(bob.id, 'CHANNEL_JOINED', original.id)).toBe(1);
      // A member creating it again changes nothing.
      expect(await createChannel(url, bob, { name })).toMatchObject({ id: original.id, memberCount: 2 });
      expect(await countRows(server.app, 'select count(*) from channels where name = ?', [name])).toBe(1);
    });

    it("answers CONFLICT for a PRIVATE namesake the viewer is not in, and returns it to its members", async () => {
      const [alice, bob] = [await createUser(server.app), await createUser(server.app)];
      const name = channelName();
      const secret = await createChannel(url, alice, { name, kind: 'PRIVATE' });
      const response = await gql(url, CREATE, { input: { name } }, { token: bob.token });
      expect(errorCode(response)).toBe('CONFLICT');
      expect(response.errors?.[0].extensions?.field).toBe('name');
      expect(await channelOf(bob, secret.id)).toBeNull();
      const mine = await gqlOk<{ createChannel: TestChannel }>(url, CREATE, { input: { name, kind: 'PRIVATE' } }, { token: alice.token });
      expect(mine.createChannel).toMatchObject({ id: secret.id, memberCount: 1 });
    });

    it('creates one channel when two users create the same name at once', async () => {
      const users = await Promise.all([0, 1, 2, 3].map(() => createUser(server.app)));
      const name = channelName();
      const results = await Promise.all(users.map((user) => createChannel(url, user, { name })));
      expect(new Set(results.map((c) => c.id)).size).toBe(1);
      expect(await countRows(server.app, 'select count(*) from channels where name = ?', [name])).toBe(1);
      expect((await channelOf(users[0], results[0].id))?.memberCount).toBe(4);
    });

    it('needs a signed-in user', async () => {
      expect(errorCode(await gql(url, CREATE, { input: { name: channelName() } }))).toBe('UNAUTHENTICATED');
      expect(errorCode(await gql(url, MY_CHANNELS))).toBe('UNAUTHENTICATED');
    });
  });

  describe('PUBLIC channels', () => {
    it('are visible to every signed-in user, who can join them (once)', async () => {
      const [alice, bob] = [await createUser(server.app), await createUser(server.app)];
      const channel = await createChannel(url, alice);
      expect(await channelOf(bob, channel.id)).toMatchObject({ id: channel.id, isMember: false, memberCount: 1 });
      const joined = await gqlOk<{ joinChannel: TestChannel }>(url, JOIN, { id: channel.id }, { token: bob.token });
      expect(joined.joinChannel).toMatchObject({ isMember: true, memberCount: 2 });
      const again = await gqlOk<{ joinChannel: TestChannel }>(url, JOIN, { id: channel.id }, { token: bob.token });
      expect(again.joinChannel.memberCount).toBe(2);
      expect(await activity(bob.id, 'CHANNEL_JOINED', channel.id)).toBe(1);
    });

    it('need membership for member actions: FORBIDDEN, not NOT_FOUND', async () => {
      const [alice, bob] = [await createUser(server.app), await createUser(server.app)];
      const channel = await createChannel(url, alice);
      expect(errorCode(await gql(url, MARK_READ, { id: channel.id }, { token: bob.token }))).toBe('FORBIDDEN');
      const carol = await createUser(server.app);
      expect(errorCode(await gql(url, INVITE, { id: channel.id, userId: carol.id }, { token: bob.token }))).toBe('FORBIDDEN');
    });

    it('can be read by non-members, but sending needs membership', async () => {
      const [alice, bob] = [await createUser(server.app), await createUser(server.app)];
      const channel = await createChannel(url, alice);
      await insertMessage(server.app, channel.id, alice.id, 'welcome');
      const history = await gqlOk(url, `query($id: ID!) { messages(channelId: $id, last: 10) { edges { node { body } } } }`, { id: channel.id }, { token: bob.token });
      expect(history.messages.edges.map((e: { node: { body: string } }) => e.node.body)).toEqual(['welcome']);
      const send = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { body } }`;
      expect(errorCode(await gql(url, send, { input: { channelId: channel.id, body: 'hi' } }, { token: bob.token }))).toBe('FORBIDDEN');
      await gqlOk(url, JOIN, { id: channel.id }, { token: bob.token });
      expect((await gqlOk(url, send, { input: { channelId: channel.id, body: 'hi' } }, { token: bob.token })).sendMessage.body).toBe('hi');
    });

    it('keep memberCount exact while many join and leave at once', async () => {
      const owner = await createUser(server.app);
      const channel = await createChannel(url, owner);
      const users = await Promise.all(Array.from({ length: 8 }, () => createUser(server.app)));
      // Everyone joins twice at once; then half leave twice at once.
      await Promise.all(users.flatMap((u) => [gqlOk(url, JOIN, { id: channel.id }, { token: u.token }), gqlOk(url, JOIN, { id: channel.id }, { token: u.token })]));
      await Promise.all(users.slice(0, 4).flatMap((u) => [gqlOk(url, LEAVE, { id: channel.id }, { token: u.token }), gqlOk(url, LEAVE, { id: channel.id }, { token: u.token })]));
      const stored = await countRows(server.app, 'select count(*) from memberships where channel_id = ?', [channel.id]);
      expect(stored).toBe(5);
      expect((await channelOf(owner, channel.id))?.memberCount).toBe(5);
    });
  });

  describe('PRIVATE channels', () => {
    it('are invisible to non-members: null from channel(id), NOT_FOUND from everything else, as for a missing id', async () => {
      const [alice, bob] = [await createUser(server.app), await createUser(server.app)];
      const secret = await createChannel(url, alice, { kind: 'PRIVATE' });
      await insertMessage(server.app, secret.id, alice.id);
      const missing = randomUUID();
      expect(await channelOf(bob, secret.id)).toBeNull();
      expect(await channelOf(bob, missing)).toBeNull();
      expect(await channelOf(bob, 'not-a-uuid')).toBeNull();
      const operations: Array<[string, (id: string) => Record<string, unknown>]> = [
        [JOIN, (id) => ({ id })],
        [LEAVE, (id) => ({ id })],
        [INVITE, (id) => ({ id, userId: bob.id })],
        [REMOVE, (id) => ({ id, userId: alice.id })],
        [UPDATE, (id) => ({ input: { channelId: id, description: 'mine now' } })],
        [DELETE_CHANNEL, (id) => ({ id })],
        [MARK_READ, (id) => ({ id })],
      ];
      for (const [operation, variables] of operations) {
        const hidden = await gql(url, operation, variables(secret.id), { token: bob.token });
        const absent = await gql(url, operation, variables(missing), { token: bob.token });
        expect(errorCode(hidden)).toBe('NOT_FOUND');
        // Same message for a hidden channel and a missing one: no hint that it exists.
        expect(hidden.errors?.[0].message).toBe(absent.errors?.[0].message);
        expect(errorCode(await gql(url, operation, variables('nope'), { token: bob.token }))).toBe('NOT_FOUND');
      }
      const directory = await gqlOk(url, DIRECTORY, { search: secret.name }, { token: bob.token });
      expect(directory.channels.edges).toEqual([]);
      expect((await channelOf(alice, secret.id))?.memberCount).toBe(1);
    });

    it('take invitations from members only; invitees see and can invite in turn', async () => {
      const [alice, bob, carol] = [await createUser(server.app), await createUser(server.app), await createUser(server.app)];
      const secret = await createChannel(url, alice, { kind: 'PRIVATE' });
      const invited = await gqlOk<{ inviteToChannel: TestChannel }>(url, INVITE, { id: secret.id, userId: bob.id }, { token: alice.token });
      expect(invited.inviteToChannel.memberCount).toBe(2);
      expect(await channelOf(bob, secret.id)).toMatchObject({ isMember: true, kind: 'PRIVATE' });
      // Inviting a member again changes nothing.
      const repeat = await gqlOk<{ inviteToChannel: TestChannel }>(url, INVITE, { id: secret.id, userId: bob.id }, { token: alice.token });
      expect(repeat.inviteToChannel.memberCount).toBe(2);
      await gqlOk(url, INVITE, { id: secret.id, userId: carol.id }, { token: bob.token });
      expect((await channelOf(carol, secret.id))?.memberCount).toBe(3);
      expect(await activity(carol.id, 'CHANNEL_JOINED', secret.id)).toBe(1);
      expect(errorCode(await gql(url, INVITE, { id: secret.id, userId: randomUUID() }, { token: alice.token }))).toBe('NOT_FOUND');
      expect(errorCode(await gql(url, INVITE, { id: secret.id, userId: 'nope' }, { token: alice.token }))).toBe('NOT_FOUND');
    });

    it('are the only kind that takes invitations', async () => {
      const [alice, bob] = [await createUser(server.app), await createUser(server.app)];
      const open = await createChannel(url, alice);
      expect(errorCode(await gql(url, INVITE, { id: open.id, userId: bob.id }, { token: alice.token }))).toBe('FORBIDDEN');
    });

    it('cannot be joined without an invitation', async () => {
      const [alice, bob] = [await createUser(server.app), await createUser(server.app)];
      const secret = await createChannel(url, alice, { kind: 'PRIVATE' });
      expect(errorCode(await gql(url, JOIN, { id: secret.id }, { token: bob.token }))).toBe('NOT_FOUND');
      expect(await countRows(server.app, 'select count(*) from memberships where channel_id = ?', [secret.id])).toBe(1);
    });
  });

  describe('roles', () => {
    it('only the owner updates, deletes or removes members: FORBIDDEN for other members', async () => {
      const [alice, bob, carol] = [await createUser(server.app), await createUser(server.app), await createUser(server.app)];
      const channel = await createChannel(url, alice);
      await gqlOk(url, JOIN, { id: channel.id }, { token: bob.token });
      await gqlOk(url, JOIN, { id: channel.id }, { token: carol.token });
      expect(errorCode(await gql(url, UPDATE, { input: { channelId: channel.id, description: 'x' } }, { token: bob.token }))).toBe('FORBIDDEN');
      expect(errorCode(await gql(url, DELETE_CHANNEL, { id: channel.id }, { token: bob.token }))).toBe('FORBIDDEN');
      expect(errorCode(await gql(url, REMOVE, { id: channel.id, userId: carol.id }, { token: bob.token }))).toBe('FORBIDDEN');
      expect((await channelOf(alice, channel.id))?.memberCount).toBe(3);
    });

    it('the owner renames and re-describes; names stay valid and unique', async () => {
      const alice = await createUser(server.app);
      const channel = await createChannel(url, alice, { description: 'old' });
      const other = await createChannel(url, alice);
      const name = channelName('renamed');
      const updated = await gqlOk<{ updateChannel: TestChannel }>(url, UPDATE, { input: { channelId: channel.id, name: ` ${name.toUpperCase()} `, description: 'new' } }, { token: alice.token });
      expect(updated.updateChannel).toMatchObject({ id: channel.id, name, description: 'new' });
      const taken = await gql(url, UPDATE, { input: { channelId: channel.id, name: other.name } }, { token: alice.token });
      expect(errorCode(taken)).toBe('CONFLICT');
      expect(taken.errors?.[0].extensions?.field).toBe('name');
      const bad = await gql(url, UPDATE, { input: { channelId: channel.id, name: 'no spaces allowed' } }, { token: alice.token });
      expect(errorCode(bad)).toBe('BAD_USER_INPUT');
      expect(bad.errors?.[0].extensions?.field).toBe('name');
      const cleared = await gqlOk<{ updateChannel: TestChannel }>(url, UPDATE, { input: { channelId: channel.id, description: null } }, { token: alice.token });
      expect(cleared.updateChannel).toMatchObject({ name, description: null });
    });

    it('the channel `public` can be neither renamed nor deleted, even by an owner', async () => {
      const alice = await createUser(server.app);
      const id = await publicChannelId();
      // `public` has no owner; give it one to show that the rule is about the channel itself.
      await server.app.services.orm.em.getConnection().execute('update channels set owner_id = ? where id = ?', [alice.id, id]);
      expect(errorCode(await gql(url, DELETE_CHANNEL, { id }, { token: alice.token }))).toBe('FORBIDDEN');
      expect(errorCode(await gql(url, UPDATE, { input: { channelId: id, name: 'general' } }, { token: alice.token }))).toBe('FORBIDDEN');
      const described = await gqlOk<{ updateChannel: TestChannel }>(url, UPDATE, { input: { channelId: id, description: 'Hello all' } }, { token: alice.token });
      expect(described.updateChannel).toMatchObject({ name: 'public', description: 'Hello all' });
      expect(await countRows(server.app, `select count(*) from channels where name = 'public'`)).toBe(1);
    });

    it('the owner removes a member, who loses a PRIVATE channel from sight', async () => {
      const [alice, bob] = [await createUser(server.app), await createUser(server.app)];
      const secret = await createChannel(url, alice, { kind: 'PRIVATE' });
      await gqlOk(url, INVITE, { id: secret.id, userId: bob.id }, { token: alice.token });
      const removed = await gqlOk<{ removeFromChannel: TestChannel }>(url, REMOVE, { id: secret.id, userId: bob.id }, { token: alice.token });
      expect(removed.removeFromChannel.memberCount).toBe(1);
      expect(await channelOf(bob, secret.id)).toBeNull();
      expect(await activity(bob.id, 'CHANNEL_LEFT', secret.id)).toBe(1);
      expect(errorCode(await gql(url, REMOVE, { id: secret.id, userId: bob.id }, { token: alice.token }))).toBe('NOT_FOUND');
      const self = await gql(url, REMOVE, { id: secret.id, userId: alice.id }, { token: alice.token });
      expect(errorCode(self)).toBe('BAD_USER_INPUT');
    });

    it('an owner who leaves hands the channel to the longest-standing member', async () => {
      const [alice, bob, carol] = [await createUser(server.app), await createUser(server.app), await createUser(server.app)];
      const channel = await createChannel(url, alice, { kind: 'PRIVATE' });
      await gqlOk(url, INVITE, { id: channel.id, userId: bob.id }, { token: alice.token });
      await gqlOk(url, INVITE, { id: channel.id, userId: carol.id }, { token: alice.token });
      // Carol has been a member longest after Alice.
      await server.app.services.orm.em
        .getConnection()
        .execute(`update memberships set joined_at = now() - interval '1 hour' where channel_id = ? and user_id = ?`, [channel.id, carol.id]);
      const channelTopic = await recordTopic(server.app, Topic.channel(channel.id));
      expect((await gqlOk(url, LEAVE, { id: channel.id }, { token: alice.token })).leaveChannel).toBe(true);
      expect(await channelOf(carol, channel.id)).toMatchObject({ owner: { id: carol.id }, memberCount: 2 });
      const handedOver = await channelTopic.waitFor((e) => e.type === 'ChannelUpdated');
      expect(handedOver.channel.ownerId).toBe(carol.id);
      const roles = await server.app.services.orm.em
        .getConnection()
        .execute<Array<{ user_id: string; role: string }>>('select user_id, role from memberships where channel_id = ? order by role', [channel.id]);
      expect(roles).toEqual([
        { user_id: bob.id, role: 'MEMBER' },
        { user_id: carol.id, role: 'OWNER' },
      ]);
      expect(await channelOf(alice, channel.id)).toBeNull();
      expect(await activity(alice.id, 'CHANNEL_LEFT', channel.id)).toBe(1);
      // The new owner has the owner's powers.
      await gqlOk(url, REMOVE, { id: channel.id, userId: bob.id }, { token: carol.token });
      // Having left, Alice no longer sees the PRIVATE channel at all.
      expect(errorCode(await gql(url, LEAVE, { id: channel.id }, { token: alice.token }))).toBe('NOT_FOUND');
    });

    it('a PRIVATE channel left by its last member is deleted; a PUBLIC one stays, without an owner', async () => {
      const alice = await createUser(server.app);
      const secret = await createChannel(url, alice, { kind: 'PRIVATE' });
      await insertMessage(server.app, secret.id, alice.id);
      await gqlOk(url, LEAVE, { id: secret.id }, { token: alice.token });
      expect(await countRows(server.app, 'select count(*) from channels where id = ?', [secret.id])).toBe(0);
      expect(await countRows(server.app, 'select count(*) from messages where channel_id = ?', [secret.id])).toBe(0);

      const open = await createChannel(url, alice);
      expect((await gqlOk(url, LEAVE, { id: open.id }, { token: alice.token })).leaveChannel).toBe(true);
      expect(await channelOf(alice, open.id)).toMatchObject({ owner: null, memberCount: 0, isMember: false });
      expect((await gqlOk(url, LEAVE, { id: open.id }, { token: alice.token })).leaveChannel).toBe(false);
    });
  });

  describe('deleteChannel', () => {
    it('removes the channel with its messages and memberships, and tells subscribers and every former member', async () => {
      const [alice, bob] = [await createUser(server.app), await createUser(server.app)];
      const channel = await createChannel(url, alice);
      await gqlOk(url, JOIN, { id: channel.id }, { token: bob.token });
      await insertMessage(server.app, channel.id, bob.id);
      const channelTopic = await recordTopic(server.app, Topic.channel(channel.id));
      const aliceTopic = await recordTopic(server.app, Topic.user(alice.id));
      const bobTopic = await recordTopic(server.app, Topic.user(bob.id));

      expect((await gqlOk(url, DELETE_CHANNEL, { id: channel.id }, { token: alice.token })).deleteChannel).toBe(true);

      await channelTopic.waitFor((e) => e.type === 'ChannelDeleted' && e.channelId === channel.id);
      await aliceTopic.waitFor((e) => e.type === 'MembershipRemoved' && e.channelId === channel.id);
      await bobTopic.waitFor((e) => e.type === 'MembershipRemoved' && e.channelId === channel.id);
      for (const table of ['channels where id', 'messages where channel_id', 'memberships where channel_id']) {
        expect(await countRows(server.app, `select count(*) from ${table} = ?`, [channel.id])).toBe(0);
      }
      expect(await activity(alice.id, 'CHANNEL_DELETED', channel.id)).toBe(1);
      expect(await channelOf(alice, channel.id)).toBeNull();
    });
  });

  describe('events', () => {
    it('publishes MemberJoined/MemberLeft on the channel and MembershipAdded/Removed to the user, after commit', async () => {
      const [alice, bob, carol] = [await createUser(server.app), await createUser(server.app), await createUser(server.app)];
      const channel = await createChannel(url, alice);
      const channelTopic = await recordTopic(server.app, Topic.channel(channel.id));
      const bobTopic = await recordTopic(server.app, Topic.user(bob.id));

      await gqlOk(url, JOIN, { id: channel.id }, { token: bob.token });
      const joined = await channelTopic.waitFor((e) => e.type === 'MemberJoined');
      expect(joined).toMatchObject({ channel: { id: channel.id, memberCount: 2 }, user: { id: bob.id, username: bob.username } });
      expect(joined.user.email ?? null).toBeNull();
      await bobTopic.waitFor((e) => e.type === 'MembershipAdded' && e.channelId === channel.id);

      await gqlOk(url, LEAVE, { id: channel.id }, { token: bob.token });
      const left = await channelTopic.waitFor((e) => e.type === 'MemberLeft');
      expect(left).toMatchObject({ channel: { id: channel.id, memberCount: 1 }, user: { id: bob.id } });
      await bobTopic.waitFor((e) => e.type === 'MembershipRemoved' && e.channelId === channel.id);

      await gqlOk(url, UPDATE, { input: { channelId: channel.id, description: 'fresh' } }, { token: alice.token });
      const updated = await channelTopic.waitFor((e) => e.type === 'ChannelUpdated');
      expect(updated.channel).toMatchObject({ id: channel.id, description: 'fresh' });

      // Invitations and removals too.
      const secret = await createChannel(url, alice, { kind: 'PRIVATE' });
      const secretTopic = await recordTopic(server.app, Topic.channel(secret.id));
      const carolTopic = await recordTopic(server.app, Topic.user(carol.id));
      await gqlOk(url, INVITE, { id: secret.id, userId: carol.id }, { token: alice.token });
      await secretTopic.waitFor((e) => e.type === 'MemberJoined' && e.user.id === carol.id);
      await carolTopic.waitFor((e) => e.type === 'MembershipAdded' && e.channelId === secret.id);
      await gqlOk(url, REMOVE, { id: secret.id, userId: carol.id }, { token: alice.token });
      await secretTopic.waitFor((e) => e.type === 'MemberLeft' && e.user.id === carol.id);
      await carolTopic.waitFor((e) => e.type === 'MembershipRemoved' && e.channelId === secret.id);
    });

    it('publishes nothing when nothing changed or the change failed', async () => {
      const [alice, bob] = [await createUser(server.app), await createUser(server.app)];
      const channel = await createChannel(url, alice);
      await gqlOk(url, JOIN, { id: channel.id }, { token: bob.token });
      const channelTopic = await recordTopic(server.app, Topic.channel(channel.id));
      await gqlOk(url, JOIN, { id: channel.id }, { token: bob.token });
      expect(errorCode(await gql(url, UPDATE, { input: { channelId: channel.id, description: 'x' } }, { token: bob.token }))).toBe('FORBIDDEN');
      // A later event arrives; nothing came before it.
      await gqlOk(url, LEAVE, { id: channel.id }, { token: bob.token });
      await channelTopic.waitFor((e) => e.type === 'MemberLeft');
      expect(channelTopic.events.map((e) => e.type)).toEqual(['MemberLeft']);
    });
  });

  describe('listing', () => {
    it('channels: the PUBLIC directory with substring search, LIKE wildcards taken literally', async () => {
      const alice = await createUser(server.app);
      const names = ['alpha-news', 'beta_news', 'betaxnews', 'gamma', 'news'];
      for (const name of names) await createChannel(url, alice, { name });
      await createChannel(url, alice, { name: 'secret-news', kind: 'PRIVATE' });
      const search = async (term: string) =>
        (await gqlOk(url, DIRECTORY, { search: term }, { token: alice.token })).channels.edges.map((e: { node: { name: string } }) => e.node.name);
      expect(await search('NEWS')).toEqual(['alpha-news', 'beta_news', 'betaxnews', 'news']);
      expect(await search('a_n')).toEqual(['beta_news']);
      expect(await search('%')).toEqual([]);
      const long = await gql(url, DIRECTORY, { search: 'n'.repeat(201) }, { token: alice.token });
      expect(errorCode(long)).toBe('BAD_USER_INPUT');
      expect(long.errors?.[0].extensions?.field).toBe('search');
      expect(await search('')).toEqual(['alpha-news', 'beta_news', 'betaxnews', 'gamma', 'news', 'public']);
    });

    it('channels: keyset pages by name, with bounds on first and checked cursors', async () => {
      const alice = await createUser(server.app);
      for (const name of ['c1', 'c2', 'c3', 'c4', 'c5']) await createChannel(url, alice, { name });
      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const data: any = await gqlOk(url, DIRECTORY, { first: 2, after }, { token: alice.token });
        seen.push(...data.channels.edges.map((e: { node: { name: string } }) => e.node.name));
        if (!data.channels.pageInfo.hasNextPage) break;
        after = data.channels.pageInfo.endCursor;
      }
      expect(seen).toEqual(['c1', 'c2', 'c3', 'c4', 'c5', 'public']);
      for (const first of [0, 101, -1]) {
        const response = await gql(url, DIRECTORY, { first }, { token: alice.token });
        expect(errorCode(response)).toBe('BAD_USER_INPUT');
        expect(response.errors?.[0].extensions?.field).toBe('first');
      }
      const badCursor = await gql(url, DIRECTORY, { after: 'garbage!' }, { token: alice.token });
      expect(errorCode(badCursor)).toBe('BAD_USER_INPUT');
      expect(badCursor.errors?.[0].extensions?.field).toBe('after');
    });

    it('myChannels: every channel of the viewer, most recently active first', async () => {
      const [alice, bob] = [await createUser(server.app), await createUser(server.app)];
      const first = await createChannel(url, alice);
      const second = await createChannel(url, alice, { kind: 'PRIVATE' });
      const elsewhere = await createChannel(url, bob);
      const publicId = await publicChannelId();
      // Activity: `first` gets the newest message.
      await insertMessage(server.app, second.id, alice.id);
      await insertMessage(server.app, first.id, bob.id);
      const data = await gqlOk<{ myChannels: TestChannel[] }>(url, MY_CHANNELS, {}, { token: alice.token });
      const ids = data.myChannels.map((c) => c.id);
      expect(ids.slice(0, 2)).toEqual([first.id, second.id]);
      expect(new Set(ids)).toEqual(new Set([first.id, second.id, publicId]));
      expect(ids).not.toContain(elsewhere.id);
      expect(data.myChannels.every((c) => c.isMember)).toBe(true);
    });

    it("members: pages through a channel's members, for anyone who may see the channel", async () => {
      const alice = await createUser(server.app);
      const channel = await createChannel(url, alice);
      const others = await Promise.all([0, 1, 2, 3].map(() => createUser(server.app)));
      for (const user of others) await gqlOk(url, JOIN, { id: channel.id }, { token: user.token });
      // A PUBLIC channel's members are visible to non-members too.
      const outsider = await createUser(server.app);
      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const data: any = await gqlOk(url, MEMBERS, { id: channel.id, first: 2, after }, { token: outsider.token });
        seen.push(...data.channel.members.edges.map((e: { node: { id: string } }) => e.node.id));
        if (!data.channel.members.pageInfo.hasNextPage) break;
        after = data.channel.members.pageInfo.endCursor;
      }
      expect(seen).toHaveLength(5);
      expect(new Set(seen)).toEqual(new Set([alice.id, ...others.map((u) => u.id)]));
      expect(errorCode(await gql(url, MEMBERS, { id: channel.id, first: 500 }, { token: alice.token }))).toBe('BAD_USER_INPUT');
      expect(errorCode(await gql(url, MEMBERS, { id: channel.id, after: 'bogus' }, { token: alice.token }))).toBe('BAD_USER_INPUT');
    });
  });
});
