import { randomUUID } from 'node:crypto';
import { describeWithRedis, startTestApp, stopAllApps, type TestApp } from './helpers/app';
import { resetState } from './helpers/db';
import { createUser, type TestUser } from './helpers/factories';
import { errorCode, gql, type GraphQLResponse, gqlOk } from './helpers/graphql';
import { createChannel, waitUntil } from './helpers/realtime';
import { connectWs, disposeAllWsClients } from './helpers/ws';

const SEND = 'mutation ($c: ID!, $b: String!) { sendMessage(input: { channelId: $c, body: $b }) { id } }';
const EDIT = 'mutation ($m: ID!, $b: String!) { editMessage(messageId: $m, body: $b) { id } }';
const DELETE = 'mutation ($m: ID!) { deleteMessage(messageId: $m) { id } }';
const JOIN = 'mutation ($c: ID!) { joinChannel(channelId: $c) { id } }';
const INVITE = 'mutation ($c: ID!, $u: ID!) { inviteToChannel(channelId: $c, userId: $u) { id } }';
const LEAVE = 'mutation ($c: ID!) { leaveChannel(channelId: $c) }';
const OPEN_DIRECT = 'mutation ($u: ID!) { openDirectChannel(userId: $u) { id } }';
const BLOCK = 'mutation ($u: ID!) { blockUser(userId: $u) }';
const MARK_READ = 'mutation ($c: ID!, $m: ID) { markRead(channelId: $c, messageId: $m) { id } }';
const MESSAGE = `query ($c: ID!) { messages(channelId: $c, last: 10) { edges { node { id body mentions { id username } mentionsMe } } } }`;
const SEEN_BY = `query ($c: ID!, $first: Int, $after: String) { messages(channelId: $c, last: 10) { edges { node { id seenBy(first: $first, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } } } }`;
const LEVEL = 'query ($c: ID!) { channel(id: $c) { id kind notificationLevel } }';
const SET_LEVEL = 'mutation ($c: ID!, $l: NotificationLevel!) { setNotificationLevel(channelId: $c, level: $l) { id notificationLevel } }';
const NOTIFICATIONS = `query ($unreadOnly: Boolean, $first: Int, $after: String) {
  notifications(unreadOnly: $unreadOnly, first: $first, after: $after) {
    edges { cursor node { id kind read createdAt message { id body channel { id } author { id } } } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
  unreadNotificationCount
}`;
const MARK_NOTIFICATIONS = 'mutation ($ids: [ID!]) { markNotificationsRead(ids: $ids) }';
const NOTIFICATION_STREAM = 'subscription { notifications { id kind read message { id body author { id } } } }';
const SEEN_EVENTS = `subscription ($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessagesSeen { channel { id } user { id } lastRead { id } } } }`;
const UPDATE_PROFILE = 'mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { id shareReadReceipts } }';
const USER_SETTING = 'query ($u: ID!) { me { id shareReadReceipts } user(id: $u) { id shareReadReceipts } }';

type Notification = { id: string; kind: string; read: boolean; createdAt: string; message: { id: string; body: string | null; channel: { id: string }; author: { id: string } } };

// The receipt window is long enough that the moves of one test fall into one window for sure.
const WINDOW_MS = 1500;

describeWithRedis('attention: mentions, notifications, levels and read receipts', () => {
  let one: TestApp;
  let two: TestApp;

  beforeAll(async () => {
    [one, two] = await Promise.all([startTestApp({ READ_RECEIPT_WINDOW_MS: String(WINDOW_MS) }), startTestApp({ READ_RECEIPT_WINDOW_MS: String(WINDOW_MS) })]);
  });
  beforeEach(() => resetState(one.app));
  afterEach(() => disposeAllWsClients());
  afterAll(async () => {
    await disposeAllWsClients();
    await stopAllApps();
  });

  const call = (user: TestUser, query: string, variables: Record<string, unknown> = {}, server = one) => gql(server.url, query, variables, { token: user.token });
  const ok = (user: TestUser, query: string, variables: Record<string, unknown> = {}, server = one) => gqlOk(server.url, query, variables, { token: user.token });
  const send = async (user: TestUser, channelId: string, body: string): Promise<string> => (await ok(user, SEND, { c: channelId, b: body })).sendMessage.id;
  const expectError = (response: GraphQLResponse, code: string, field?: string) => {
    expect(errorCode(response)).toBe(code);
    if (field) expect(response.errors![0].extensions!.field).toBe(field);
  };
  const notifications = async (user: TestUser, variables: Record<string, unknown> = {}) => {
    const data = await ok(user, NOTIFICATIONS, variables);
    return { nodes: data.notifications.edges.map((edge: { node: Notification }) => edge.node) as Notification[], edges: data.notifications.edges, pageInfo: data.notifications.pageInfo, unread: data.unreadNotificationCount as number };
  };
  const kinds = async (user: TestUser) => (await notifications(user)).nodes.map((node) => [node.kind, node.message.id]);
  const messageFields = async (viewer: TestUser, channelId: string, messageId: string) => {
    const data = await ok(viewer, MESSAGE, { c: channelId });
    return data.messages.edges.map((edge: { node: unknown }) => edge.node).find((node: { id: string }) => node.id === messageId);
  };

  /** A channel of `kind` created by the first user, with the others as members. */
  async function room(kind: 'PUBLIC' | 'PRIVATE', count: number, usernames: string[] = []): Promise<{ users: TestUser[]; channelId: string }> {
    const users = await Promise.all(Array.from({ length: count }, (_, index) => createUser(one.app, usernames[index] ? { username: usernames[index] } : {})));
    const channelId = await createChannel(one, users[0].token, `room-${randomUUID().slice(0, 8)}`, kind);
    for (const user of users.slice(1)) {
      if (kind === 'PUBLIC') await ok(user, JOIN, { c: channelId });
      else await ok(users[0], INVITE, { c: channelId, u: user.id });
    }
    return { users, channelId };
  }

  describe('mentions', () => {
    it('@username (any case, punctuation ends it, not e-mail addresses) mentions existing users who can read the channel, in order of first mention', async () => {
      const tag = randomUUID().slice(0, 6);
      const { users, channelId } = await room('PRIVATE', 4, [`ann${tag}`, `Bob${tag}`, `cat${tag}`, `dan${tag}`]);
      const [ann, bob, cat, dan] = users;
      const outsider = await createUser(one.app, { username: `eve${tag}` });
      const body = `hi @CAT${tag}, @bob${tag}! mail dan${tag}@example.com, @nobody${tag} @eve${tag} @cat${tag}.`;
      const messageId = await send(ann, channelId, body);

      const seenByBob = await messageFields(bob, channelId, messageId);
      // eve is not a member of the PRIVATE channel: not listed, not notified.
      expect(seenByBob.mentions.map((user: { id: string }) => user.id)).toEqual([cat.id, bob.id]);
      expect(seenByBob.mentionsMe).toBe(true);
      expect((await messageFields(dan, channelId, messageId)).mentionsMe).toBe(false);
      expect((await messageFields(ann, channelId, messageId)).mentionsMe).toBe(false);

      expect(await kinds(bob)).toEqual([['MENTION', messageId]]);
      expect(await kinds(cat)).toEqual([['MENTION', messageId]]);
      expect(await kinds(dan)).toEqual([]);
      expect(await kinds(outsider)).toEqual([]);
      // The author is never notified, even when naming themself.
      await send(ann, channelId, `note to self @ann${tag}`);
      expect(await kinds(ann)).toEqual([]);
    });

    it('a mention in a PUBLIC channel notifies a user who has not joined it (anyone may read it)', async () => {
      const { users, channelId } = await room('PUBLIC', 1);
      const reader = await createUser(one.app);
      const messageId = await send(users[0], channelId, `@${reader.username} look`);
      expect(await kinds(reader)).toEqual([['MENTION', messageId]]);
      expect((await messageFields(reader, channelId, messageId)).mentions.map((user: { id: string }) => user.id)).toEqual([reader.id]);
    });

    it('@channel mentions every member; @here the members online at that moment (one online, one offline)', async () => {
      const { users, channelId } = await room('PRIVATE', 3);
      const [author, online, offline] = users;
      // Online: an open graphql-ws socket, here on the other instance.
      const socket = connectWs(two.wsUrl, online.token);
      await waitUntil(async () => (await one.app.services.realtime.presence.areOnline([online.id]))[0], 'presence');

      const hereId = await send(author, channelId, 'standup @here');
      expect(await kinds(online)).toEqual([['MENTION', hereId]]);
      expect(await kinds(offline)).toEqual([]);
      expect((await messageFields(online, channelId, hereId)).mentionsMe).toBe(true);
      expect((await messageFields(offline, channelId, hereId)).mentionsMe).toBe(false);
      expect((await messageFields(online, channelId, hereId)).mentions).toEqual([]);

      await socket.dispose();
      const channelMessageId = await send(author, channelId, 'release today @channel');
      expect((await notifications(offline)).nodes.map((node) => [node.kind, node.message.id])).toEqual([['MENTION', channelMessageId]]);
      expect((await kinds(online))[0]).toEqual(['MENTION', channelMessageId]);
      expect((await messageFields(offline, channelId, channelMessageId)).mentionsMe).toBe(true);
      expect(await kinds(author)).toEqual([]);
    });

    it('no notification from an author the recipient blocked', async () => {
      const { users, channelId } = await room('PUBLIC', 3);
      const [author, blocker, other] = users;
      await ok(blocker, BLOCK, { u: author.id });
      const messageId = await send(author, channelId, `@${blocker.username} @${other.username} @channel`);
      expect(await kinds(blocker)).toEqual([]);
      expect(await kinds(other)).toEqual([['MENTION', messageId]]);
      // The mention itself still shows.
      expect((await messageFields(blocker, channelId, messageId)).mentionsMe).toBe(true);
    });

    it('an edit that adds a mention notifies the newly mentioned users only', async () => {
      const { users, channelId } = await room('PUBLIC', 4);
      const [author, first, second, third] = users;
      const messageId = await send(author, channelId, `hey @${first.username}`);
      const [before] = (await notifications(first)).nodes;
      await ok(first, MARK_NOTIFICATIONS, { ids: [before.id] });

      await ok(author, EDIT, { m: messageId, b: `hey @${first.username} and @${second.username}` });
      expect(await kinds(second)).toEqual([['MENTION', messageId]]);
      // Already mentioned: nothing new, the read notification stays read.
      const after = await notifications(first);
      expect(after.nodes.map((node) => [node.id, node.read])).toEqual([[before.id, true]]);
      expect(after.unread).toBe(0);
      expect((await messageFields(second, channelId, messageId)).mentions.map((user: { id: string }) => user.id)).toEqual([first.id, second.id]);

      // An edit that drops a mention removes it from the message (the notification stays).
      await ok(author, EDIT, { m: messageId, b: `just @${third.username}` });
      expect((await messageFields(first, channelId, messageId)).mentionsMe).toBe(false);
      expect(await kinds(third)).toEqual([['MENTION', messageId]]);
      expect((await kinds(second)).length).toBe(1);
    });

    it("a deleted message's notifications disappear", async () => {
      const { users, channelId } = await room('PUBLIC', 2);
      const [author, reader] = users;
      const kept = await send(author, channelId, `@${reader.username} one`);
      const removed = await send(author, channelId, `@${reader.username} two`);
      expect((await notifications(reader)).unread).toBe(2);
      await ok(author, DELETE, { m: removed });
      const after = await notifications(reader);
      expect(after.nodes.map((node) => node.message.id)).toEqual([kept]);
      expect(after.unread).toBe(1);
    });
  });

  describe('levels', () => {
    it('defaults: MENTIONS for PUBLIC and PRIVATE, ALL for DIRECT; DIRECT messages notify as MESSAGE', async () => {
      const publicRoom = await room('PUBLIC', 2);
      const privateRoom = await room('PRIVATE', 2);
      const [a, b] = publicRoom.users;
      expect((await ok(b, LEVEL, { c: publicRoom.channelId })).channel.notificationLevel).toBe('MENTIONS');
      expect((await ok(privateRoom.users[1], LEVEL, { c: privateRoom.channelId })).channel.notificationLevel).toBe('MENTIONS');
      const direct = (await ok(a, OPEN_DIRECT, { u: b.id })).openDirectChannel.id;
      expect((await ok(b, LEVEL, { c: direct })).channel.notificationLevel).toBe('ALL');

      await send(a, publicRoom.channelId, 'plain message');
      expect(await kinds(b)).toEqual([]);
      const directMessage = await send(a, direct, 'psst');
      expect(await kinds(b)).toEqual([['MESSAGE', directMessage]]);
      expect(await kinds(a)).toEqual([]);
    });

    it('a send without mentions writes its notifications in its own statement: delivered live after it commits, never stored without it', async () => {
      const [a, b] = await Promise.all([createUser(one.app), createUser(one.app)]);
      const direct = (await ok(a, OPEN_DIRECT, { u: b.id })).openDirectChannel.id;
      const socket = connectWs(two.wsUrl, b.token);
      const stream = socket.subscribe(NOTIFICATION_STREAM);
      await waitUntil(async () => {
        const reply = (await one.app.services.redis!.command.pubsub('NUMSUB', `${two.app.services.config.redisKeyPrefix}notifications:${b.id}`)) as [string, number];
        return Number(reply[1]) > 0;
      }, 'the subscription');
      const statements: string[] = [];
      const stop = one.app.services.sql.onQuery((text) => statements.push(text));
      const first = await send(a, direct, 'one statement');
      stop();
      expect(statements.filter((text) => /send_messages\(/.test(text))).toEqual([expect.stringMatching(/insert into notifications/)]);
      expect(statements.filter((text) => /insert into notifications/.test(text))).toHaveLength(1);
      expect((await stream.next()).data.notifications).toMatchObject({ kind: 'MESSAGE', read: false, message: { id: first, body: 'one statement', author: { id: a.id } } });

      // The notification cannot be written: the message is not stored either, and nothing goes out.
      const sql = one.app.services.sql;
      await sql.query(`create or replace function test_refuse_notifications() returns trigger language plpgsql as $$ begin raise exception 'refused by the test'; end $$`);
      await sql.query(`create trigger test_refuse_notifications before insert on notifications for each row when (new.channel_id = '${direct}') execute function test_refuse_notifications()`);
      try {
        expectError(await call(a, SEND, { c: direct, b: 'lost together' }), 'INTERNAL_SERVER_ERROR');
      } finally {
        await sql.query('drop trigger test_refuse_notifications on notifications');
        await sql.query('drop function test_refuse_notifications()');
      }
      const bodies = (await ok(b, MESSAGE, { c: direct })).messages.edges.map((edge: { node: { body: string } }) => edge.node.body);
      expect(bodies).toEqual(['one statement']);
      expect(await kinds(b)).toEqual([['MESSAGE', first]]);
      const after = await send(a, direct, 'and again');
      expect((await stream.next()).data.notifications.message.id).toBe(after);
      expect(stream.results).toHaveLength(2);
    });

    it('ALL notifies every message by others, MENTION taking precedence; NONE nothing; per viewer', async () => {
      const { users, channelId } = await room('PUBLIC', 3);
      const [author, all, none] = users;
      expect((await ok(all, SET_LEVEL, { c: channelId, l: 'ALL' })).setNotificationLevel.notificationLevel).toBe('ALL');
      await ok(none, SET_LEVEL, { c: channelId, l: 'NONE' });
      expect((await ok(all, LEVEL, { c: channelId })).channel.notificationLevel).toBe('ALL');
      expect((await ok(none, LEVEL, { c: channelId })).channel.notificationLevel).toBe('NONE');
      expect((await ok(author, LEVEL, { c: channelId })).channel.notificationLevel).toBe('MENTIONS');

      const plain = await send(author, channelId, 'plain');
      const mention = await send(author, channelId, `@${all.username} @${none.username} @channel`);
      // At most one per (user, message), the highest kind.
      expect(await kinds(all)).toEqual([
        ['MENTION', mention],
        ['MESSAGE', plain],
      ]);
      expect(await kinds(none)).toEqual([]);
      // The author's own messages never notify them, whatever their level.
      await ok(author, SET_LEVEL, { c: channelId, l: 'ALL' });
      await send(author, channelId, 'mine');
      expect(await kinds(author)).toEqual([]);
    });

    it('setNotificationLevel: NOT_FOUND for an invisible or unknown channel, FORBIDDEN for a PUBLIC one not joined', async () => {
      const privateRoom = await room('PRIVATE', 1);
      const publicRoom = await room('PUBLIC', 1);
      const stranger = await createUser(one.app);
      expectError(await call(stranger, SET_LEVEL, { c: privateRoom.channelId, l: 'ALL' }), 'NOT_FOUND');
      expectError(await call(stranger, SET_LEVEL, { c: randomUUID(), l: 'ALL' }), 'NOT_FOUND');
      expectError(await call(stranger, SET_LEVEL, { c: 'not-an-id', l: 'ALL' }), 'NOT_FOUND');
      expectError(await call(stranger, SET_LEVEL, { c: publicRoom.channelId, l: 'ALL' }), 'FORBIDDEN');
      expect(errorCode(await gql(one.url, SET_LEVEL, { c: publicRoom.channelId, l: 'ALL' }))).toBe('UNAUTHENTICATED');
      // Leaving forgets the level: back to the default, and no MESSAGE notifications.
      await ok(stranger, JOIN, { c: publicRoom.channelId });
      await ok(stranger, SET_LEVEL, { c: publicRoom.channelId, l: 'ALL' });
      await ok(stranger, LEAVE, { c: publicRoom.channelId });
      await send(publicRoom.users[0], publicRoom.channelId, 'after you left');
      expect(await kinds(stranger)).toEqual([]);
      expect((await ok(stranger, LEVEL, { c: publicRoom.channelId })).channel.notificationLevel).toBe('MENTIONS');
    });

    it('leaving a PRIVATE channel takes its notifications away', async () => {
      const { users, channelId } = await room('PRIVATE', 3);
      await send(users[0], channelId, `@${users[1].username}`);
      expect((await notifications(users[1])).unread).toBe(1);
      await ok(users[1], LEAVE, { c: channelId });
      expect(await notifications(users[1])).toMatchObject({ nodes: [], unread: 0 });
    });
  });

  describe('threads', () => {
    const REPLY = 'mutation ($c: ID!, $b: String!, $t: ID!) { sendMessage(input: { channelId: $c, body: $b, threadId: $t }) { id } }';
    const FOLLOW = 'mutation ($m: ID!, $f: Boolean!) { followThread(messageId: $m, follow: $f) { id } }';
    const reply = async (user: TestUser, channelId: string, rootId: string, body: string): Promise<string> => (await ok(user, REPLY, { c: channelId, b: body, t: rootId })).sendMessage.id;

    it('a reply notifies the followers of its thread (THREAD_REPLY), a mention taking precedence; users named in a reply follow the thread', async () => {
      const { users, channelId } = await room('PUBLIC', 5);
      const [author, replier, follower, named, unfollowed] = users;
      const rootId = await send(author, channelId, 'root');
      await ok(follower, FOLLOW, { m: rootId, f: true });
      // The root's author follows with the first reply; the replier follows by replying.
      const first = await reply(replier, channelId, rootId, `first reply, cc @${named.username}`);
      expect(await kinds(author)).toEqual([['THREAD_REPLY', first]]);
      expect(await kinds(follower)).toEqual([['THREAD_REPLY', first]]);
      expect(await kinds(named)).toEqual([['MENTION', first]]);
      expect(await kinds(unfollowed)).toEqual([]);
      expect(await kinds(replier)).toEqual([]);

      // Named in the thread: now a follower, notified of the next reply.
      const second = await reply(author, channelId, rootId, 'second reply');
      expect((await kinds(named))[0]).toEqual(['THREAD_REPLY', second]);
      expect((await kinds(replier))[0]).toEqual(['THREAD_REPLY', second]);
      expect((await kinds(author)).length).toBe(1);
      // Unfollowing stops them; a mention still notifies.
      await ok(follower, FOLLOW, { m: rootId, f: false });
      const third = await reply(replier, channelId, rootId, `third @${follower.username}`);
      expect((await kinds(follower))[0]).toEqual(['MENTION', third]);
      const fourth = await reply(replier, channelId, rootId, 'fourth');
      expect((await kinds(follower)).map(([, id]) => id)).not.toContain(fourth);
      // Level NONE: no THREAD_REPLY either.
      await ok(named, SET_LEVEL, { c: channelId, l: 'NONE' });
      const fifth = await reply(author, channelId, rootId, 'fifth');
      expect((await kinds(named)).map(([, id]) => id)).not.toContain(fifth);
    });
  });

  describe('the notifications list', () => {
    it('newest first with a cursor, unreadOnly, unreadNotificationCount, markNotificationsRead with and without ids', async () => {
      const { users, channelId } = await room('PUBLIC', 2);
      const [author, reader] = users;
      const ids: string[] = [];
      for (let index = 0; index < 5; index += 1) ids.push(await send(author, channelId, `@${reader.username} ${index}`));
      const firstPage = await notifications(reader, { first: 2 });
      expect(firstPage.nodes.map((node) => node.message.id)).toEqual([ids[4], ids[3]]);
      expect(firstPage.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
      expect(firstPage.unread).toBe(5);
      const secondPage = await notifications(reader, { first: 2, after: firstPage.pageInfo.endCursor });
      expect(secondPage.nodes.map((node) => node.message.id)).toEqual([ids[2], ids[1]]);
      const lastPage = await notifications(reader, { first: 2, after: secondPage.pageInfo.endCursor });
      expect(lastPage.nodes.map((node) => node.message.id)).toEqual([ids[0]]);
      expect(lastPage.pageInfo.hasNextPage).toBe(false);
      expect(firstPage.nodes[0]).toMatchObject({ kind: 'MENTION', read: false, message: { channel: { id: channelId }, author: { id: author.id } } });

      expect((await ok(reader, MARK_NOTIFICATIONS, { ids: firstPage.nodes.map((node) => node.id) })).markNotificationsRead).toBe(2);
      // Marking them again changes nothing.
      expect((await ok(reader, MARK_NOTIFICATIONS, { ids: [firstPage.nodes[0].id] })).markNotificationsRead).toBe(0);
      const unread = await notifications(reader, { unreadOnly: true });
      expect(unread.nodes.map((node) => node.message.id)).toEqual([ids[2], ids[1], ids[0]]);
      expect(unread.unread).toBe(3);
      expect((await ok(reader, MARK_NOTIFICATIONS, {})).markNotificationsRead).toBe(3);
      expect(await notifications(reader, { unreadOnly: true })).toMatchObject({ nodes: [], unread: 0 });
      expect((await notifications(reader)).nodes.every((node) => node.read)).toBe(true);
    });

    it('unreadNotificationCount stays equal to the unread list through concurrent @channel sends, marking, deletions, leaving and an edit that re-notifies', async () => {
      const { users, channelId } = await room('PRIVATE', 4);
      const [author, b, c, d] = users;
      const expectCountsMatch = async () => {
        for (const user of [author, b, c, d]) {
          const unread = await notifications(user, { unreadOnly: true, first: 100 });
          expect(unread.unread).toBe(unread.nodes.length);
        }
      };
      const ids = await Promise.all(Array.from({ length: 10 }, (_, index) => send(author, channelId, `@channel round ${index}`)));
      expect((await notifications(b, { unreadOnly: true, first: 100 })).unread).toBe(10);
      await expectCountsMatch();
      const bNodes = (await notifications(b, { first: 100 })).nodes;
      expect((await ok(b, MARK_NOTIFICATIONS, { ids: bNodes.slice(0, 3).map((node) => node.id) })).markNotificationsRead).toBe(3);
      await expectCountsMatch();
      await ok(author, DELETE, { m: ids[0] });
      await ok(author, DELETE, { m: ids[1] });
      await expectCountsMatch();
      await ok(d, LEAVE, { c: channelId });
      expect((await notifications(d, { unreadOnly: true })).unread).toBe(0);
      await ok(c, SET_LEVEL, { c: channelId, l: 'ALL' });
      const plain = await send(author, channelId, 'no mention here');
      expect((await notifications(c, { unreadOnly: true, first: 100 })).unread).toBe(9);
      expect((await ok(c, MARK_NOTIFICATIONS, {})).markNotificationsRead).toBe(9);
      await ok(author, EDIT, { m: plain, b: `now @${c.username}` });
      expect((await notifications(c, { unreadOnly: true, first: 100 })).unread).toBe(1);
      await expectCountsMatch();
    });

    it("someone else's ids are answered exactly like random ids and change nothing; more than 100 ids: BAD_USER_INPUT on ids", async () => {
      const { users, channelId } = await room('PUBLIC', 3);
      const [author, owner, intruder] = users;
      await send(author, channelId, `@${owner.username}`);
      await send(author, channelId, `@${intruder.username}`);
      const [theirs] = (await notifications(owner)).nodes;
      const [mine] = (await notifications(intruder)).nodes;

      const foreign = await call(intruder, MARK_NOTIFICATIONS, { ids: [theirs.id] });
      const random = await call(intruder, MARK_NOTIFICATIONS, { ids: [randomUUID()] });
      expect(errorCode(foreign)).toBe('NOT_FOUND');
      expect({ status: foreign.status, errors: foreign.errors, data: foreign.data }).toEqual({ status: random.status, errors: random.errors, data: random.data });
      // Mixed with one of their own: all or nothing.
      expectError(await call(intruder, MARK_NOTIFICATIONS, { ids: [mine.id, theirs.id] }), 'NOT_FOUND');
      expectError(await call(intruder, MARK_NOTIFICATIONS, { ids: ['not-an-id'] }), 'NOT_FOUND');
      expect((await notifications(owner)).unread).toBe(1);
      expect((await notifications(intruder)).unread).toBe(1);
      // Marking all marks only the viewer's own.
      expect((await ok(intruder, MARK_NOTIFICATIONS)).markNotificationsRead).toBe(1);
      expect((await notifications(owner)).unread).toBe(1);

      expectError(await call(owner, MARK_NOTIFICATIONS, { ids: Array.from({ length: 101 }, () => randomUUID()) }), 'BAD_USER_INPUT', 'ids');
      expect((await ok(owner, MARK_NOTIFICATIONS, { ids: [] })).markNotificationsRead).toBe(0);
      expectError(await call(owner, NOTIFICATIONS, { first: 0 }), 'BAD_USER_INPUT', 'first');
      expectError(await call(owner, NOTIFICATIONS, { after: 'garbage' }), 'BAD_USER_INPUT', 'after');
      expectError(await call(owner, NOTIFICATIONS, { after: Buffer.from('notification:2026-02-31 10:00:00+00|x').toString('base64url') }), 'BAD_USER_INPUT', 'after');
      expect(errorCode(await gql(one.url, NOTIFICATIONS, {}))).toBe('UNAUTHENTICATED');
    });

    it('the live notifications subscription delivers on another instance, only to its user', async () => {
      const { users, channelId } = await room('PUBLIC', 3);
      const [author, reader, bystander] = users;
      const readerSocket = connectWs(two.wsUrl, reader.token);
      const bystanderSocket = connectWs(two.wsUrl, bystander.token);
      const stream = readerSocket.subscribe(NOTIFICATION_STREAM);
      const quiet = bystanderSocket.subscribe(NOTIFICATION_STREAM);
      await waitUntil(async () => {
        const reply = (await one.app.services.redis!.command.pubsub('NUMSUB', `${two.app.services.config.redisKeyPrefix}notifications:${reader.id}`)) as [string, number];
        return Number(reply[1]) > 0;
      }, 'the subscription');

      const messageId = await send(author, channelId, `over here @${reader.username}`);
      const { data } = await stream.next();
      const [stored] = (await notifications(reader)).nodes;
      expect(data.notifications).toEqual({ id: stored.id, kind: 'MENTION', read: false, message: { id: messageId, body: `over here @${reader.username}`, author: { id: author.id } } });
      await send(author, channelId, `and @${bystander.username}`);
      await quiet.waitFor(1);
      expect(quiet.results).toHaveLength(1);
      expect(stream.results).toHaveLength(1);
    });
  });

  describe('read receipts', () => {
    it('seenBy: members other than the author whose marker is at or past the message, newest reader first, paginated', async () => {
      const { users, channelId } = await room('PUBLIC', 4);
      const [author, early, late, behind] = users;
      const first = await send(author, channelId, 'one');
      const second = await send(author, channelId, 'two');
      await ok(early, MARK_READ, { c: channelId, m: second });
      await ok(behind, MARK_READ, { c: channelId, m: first });
      await ok(late, MARK_READ, { c: channelId });
      await ok(author, MARK_READ, { c: channelId });

      const seen = async (variables: Record<string, unknown> = {}) => {
        const data = await ok(early, SEEN_BY, { c: channelId, ...variables });
        return Object.fromEntries(data.messages.edges.map((edge: { node: { id: string; seenBy: any } }) => [edge.node.id, edge.node.seenBy]));
      };
      const all = await seen();
      expect(all[second].edges.map((edge: { node: { id: string } }) => edge.node.id)).toEqual([late.id, early.id]);
      expect(all[first].edges.map((edge: { node: { id: string } }) => edge.node.id)).toEqual([late.id, behind.id, early.id]);
      const paged = await seen({ first: 1 });
      expect(paged[first].edges.map((edge: { node: { id: string } }) => edge.node.id)).toEqual([late.id]);
      expect(paged[first].pageInfo.hasNextPage).toBe(true);
      const next = await seen({ first: 2, after: paged[first].pageInfo.endCursor });
      expect(next[first].edges.map((edge: { node: { id: string } }) => edge.node.id)).toEqual([behind.id, early.id]);
      expectError(await call(early, SEEN_BY, { c: channelId, after: 'nope' }), 'BAD_USER_INPUT', 'after');
    });

    it('MessagesSeen on channelEvents when a marker moves forward (from another instance), not when it does not', async () => {
      const { users, channelId } = await room('PUBLIC', 3);
      const [author, reader, watcher] = users;
      const messageId = await send(author, channelId, 'read me');
      const socket = connectWs(two.wsUrl, watcher.token);
      const events = socket.subscribe(SEEN_EVENTS, { c: channelId });
      await waitUntil(() => two.app.services.realtime.activeStreams >= 1, 'the stream');
      await ok(reader, MARK_READ, { c: channelId, m: messageId });
      const { data } = await events.next();
      expect(data.channelEvents).toEqual({ __typename: 'MessagesSeen', channel: { id: channelId }, user: { id: reader.id }, lastRead: { id: messageId } });
      // Not forward: nothing (the author's MessagesSeen below is the next event).
      await ok(reader, MARK_READ, { c: channelId, m: messageId });
      await ok(author, MARK_READ, { c: channelId });
      expect((await events.next()).data.channelEvents.user.id).toBe(author.id);
      expect(events.results).toHaveLength(2);
    });

    it('a scrolling reader is coalesced: the first move at once, then the newest marker once the window ends', async () => {
      const { users, channelId } = await room('PUBLIC', 3);
      const [author, reader, watcher] = users;
      const ids: string[] = [];
      for (let index = 0; index < 8; index += 1) ids.push(await send(author, channelId, `m${index}`));
      const socket = connectWs(one.wsUrl, watcher.token);
      const events = socket.subscribe(SEEN_EVENTS, { c: channelId });
      await waitUntil(() => one.app.services.realtime.activeStreams >= 1, 'the stream');
      // Eight moves well within one window (1.5 s).
      for (const id of ids) await ok(reader, MARK_READ, { c: channelId, m: id });
      await events.waitFor(2);
      expect(events.results.map((result) => result.data.channelEvents.lastRead.id)).toEqual([ids[0], ids[7]]);
    });

    it('shareReadReceipts: default true, own value only; off: invisible in seenBy, no MessagesSeen, still sees others', async () => {
      const { users, channelId } = await room('PUBLIC', 3);
      const [author, shy, open] = users;
      const settings = await ok(shy, USER_SETTING, { u: open.id });
      expect(settings).toEqual({ me: { id: shy.id, shareReadReceipts: true }, user: { id: open.id, shareReadReceipts: null } });
      expect((await ok(shy, UPDATE_PROFILE, { input: { shareReadReceipts: false } })).updateProfile.shareReadReceipts).toBe(false);
      expect((await ok(shy, USER_SETTING, { u: open.id })).me.shareReadReceipts).toBe(false);
      expect((await ok(open, USER_SETTING, { u: shy.id })).user.shareReadReceipts).toBeNull();

      const messageId = await send(author, channelId, 'hello');
      const socket = connectWs(two.wsUrl, author.token);
      const events = socket.subscribe(SEEN_EVENTS, { c: channelId });
      await waitUntil(() => two.app.services.realtime.activeStreams >= 1, 'the stream');
      await ok(shy, MARK_READ, { c: channelId });
      await ok(open, MARK_READ, { c: channelId });
      const { data } = await events.next();
      expect(data.channelEvents.user.id).toBe(open.id);
      const seenBy = async (viewer: TestUser) =>
        (await ok(viewer, SEEN_BY, { c: channelId })).messages.edges.find((edge: { node: { id: string } }) => edge.node.id === messageId).node.seenBy.edges.map((edge: { node: { id: string } }) => edge.node.id);
      expect(await seenBy(author)).toEqual([open.id]);
      // The shy reader still sees the others' receipts.
      expect(await seenBy(shy)).toEqual([open.id]);
      expect(events.results).toHaveLength(1);

      // Back on: they show again.
      await ok(shy, UPDATE_PROFILE, { input: { shareReadReceipts: true } });
      expect(await seenBy(author)).toEqual(expect.arrayContaining([open.id, shy.id]));
    });
  });
});
