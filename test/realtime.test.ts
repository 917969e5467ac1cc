import { messageCursor } from '../src/messages/message.types';
import { Topic } from '../src/domain/topics';
import { startTestApp, stopAllApps, describeWithRedis, type TestApp } from './helpers/app';
import { countQueries, resetState } from './helpers/db';
import { createUser } from './helpers/factories';
import { errorCode, gql, gqlOk } from './helpers/graphql';
import {
  CHANNEL_EVENTS,
  commitMessageSilently,
  createChannel,
  INBOX,
  publicChannelId,
  publishMessageAdded,
  sendMessage,
  topicSubscribers,
  waitForStreams,
  waitUntil,
} from './helpers/realtime';
import { connectWs, disposeAllWsClients } from './helpers/ws';

describeWithRedis('realtime: channel events, inbox, typing and presence', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startTestApp();
  });
  beforeEach(() => resetState(server.app));
  afterEach(() => disposeAllWsClients());
  afterAll(async () => {
    await disposeAllWsClients();
    await stopAllApps();
  });

  const mutate = (token: string, query: string, variables: Record<string, unknown> = {}) => gqlOk(server.url, query, variables, { token });

  describe('channelEvents', () => {
    it('delivers every kind of channel event, then ChannelDeleted ends the stream', async () => {
      const owner = await createUser(server.app);
      const watcher = await createUser(server.app);
      const joiner = await createUser(server.app);
      const channelId = await createChannel(server, owner.token, 'events-room');
      // The watcher is not a member: a PUBLIC channel is readable by anyone signed in.
      const ws = connectWs(server.wsUrl, watcher.token);
      const events = ws.subscribe(CHANNEL_EVENTS, { channelId });
      await waitForStreams(server.app, 1);

      const sent = await sendMessage(server, owner.token, channelId, 'hello');
      await mutate(owner.token, 'mutation ($id: ID!) { editMessage(messageId: $id, body: "hello, edited") { id } }', { id: sent.id });
      await mutate(joiner.token, 'mutation ($c: ID!) { joinChannel(channelId: $c) { id } }', { c: channelId });
      await mutate(joiner.token, 'mutation ($id: ID!) { vote(messageId: $id, value: UP) { id } }', { id: sent.id });
      await mutate(owner.token, 'mutation ($id: ID!) { deleteMessage(messageId: $id) { id } }', { id: sent.id });
      await mutate(joiner.token, 'mutation ($c: ID!) { leaveChannel(channelId: $c) }', { c: channelId });
      await mutate(owner.token, 'mutation ($c: ID!) { setTyping(channelId: $c) }', { c: channelId });
      await mutate(owner.token, 'mutation ($input: UpdateChannelInput!) { updateChannel(input: $input) { id } }', {
        input: { channelId, description: 'new topic' },
      });
      await mutate(owner.token, 'mutation ($c: ID!) { deleteChannel(channelId: $c) }', { c: channelId });

      await events.completed;
      const received = events.results.map((result) => result.data!.channelEvents);
      const kinds = received.map((event) => event.__typename);
      expect(kinds[0]).toBe('MessageAdded');
      expect(received[0]).toMatchObject({ cursor: expect.any(String), message: { id: sent.id, body: 'hello', deleted: false, author: { id: owner.id, username: owner.username } } });
      expect(received.find((e) => e.__typename === 'MessageUpdated' && e.message.body === 'hello, edited')).toBeTruthy();
      expect(received.find((e) => e.__typename === 'MessageUpdated' && e.message.upvotes === 1)).toBeTruthy();
      expect(received.find((e) => e.__typename === 'MessageDeleted')).toMatchObject({ message: { id: sent.id, body: null, deleted: true } });
      expect(received.find((e) => e.__typename === 'MemberJoined')).toMatchObject({ channel: { id: channelId }, user: { id: joiner.id } });
      expect(received.find((e) => e.__typename === 'MemberLeft')).toMatchObject({ channel: { id: channelId }, user: { id: joiner.id } });
      expect(received.find((e) => e.__typename === 'UserTyping')).toMatchObject({ channel: { id: channelId }, user: { id: owner.id, username: owner.username } });
      expect(received.find((e) => e.__typename === 'ChannelUpdated')).toMatchObject({ channel: { id: channelId, description: 'new topic' } });
      expect(received[received.length - 1]).toEqual({ __typename: 'ChannelDeleted', channelId });
      for (const kind of ['MessageAdded', 'MessageUpdated', 'MessageDeleted', 'MemberJoined', 'MemberLeft', 'UserTyping', 'ChannelUpdated', 'ChannelDeleted']) {
        expect(kinds).toContain(kind);
      }
    });

    it('authorizes at subscribe time: UNAUTHENTICATED, NOT_FOUND for invisible channels, BAD_USER_INPUT for a bad cursor', async () => {
      const owner = await createUser(server.app);
      const outsider = await createUser(server.app);
      const secret = await createChannel(server, owner.token, 'secret-room', 'PRIVATE');

      const anonymous = connectWs(server.wsUrl, null);
      const anonymousResult = await anonymous.subscribe(CHANNEL_EVENTS, { channelId: secret }).next();
      expect(anonymousResult.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      const anonymousInbox = await anonymous.subscribe(INBOX).next();
      expect(anonymousInbox.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');

      const ws = connectWs(server.wsUrl, outsider.token);
      const hidden = ws.subscribe(CHANNEL_EVENTS, { channelId: secret });
      expect((await hidden.next()).errors?.[0].extensions?.code).toBe('NOT_FOUND');
      const malformed = ws.subscribe(CHANNEL_EVENTS, { channelId: 'not-a-uuid' });
      expect((await malformed.next()).errors?.[0].extensions?.code).toBe('NOT_FOUND');
      const badCursor = ws.subscribe(CHANNEL_EVENTS, { channelId: await publicChannelId(server.app), after: '!!nope' });
      const badCursorResult = await badCursor.next();
      expect(badCursorResult.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });

      // Nothing of the hidden channel reaches the outsider afterwards.
      await sendMessage(server, owner.token, secret, 'psst');
      await hidden.completed.catch(() => undefined);
      expect(hidden.results).toHaveLength(1);
      expect(hidden.results[0].data ?? null).toBeNull();
    });

    it("ends all of the viewer's streams of a channel when they leave it", async () => {
      const owner = await createUser(server.app);
      const member = await createUser(server.app);
      const channelId = await createChannel(server, owner.token, 'leavers');
      await mutate(member.token, 'mutation ($c: ID!) { joinChannel(channelId: $c) { id } }', { c: channelId });
      const ws = connectWs(server.wsUrl, member.token);
      const first = ws.subscribe(CHANNEL_EVENTS, { channelId });
      const second = ws.subscribe(CHANNEL_EVENTS, { channelId });
      await waitForStreams(server.app, 2);
      await mutate(member.token, 'mutation ($c: ID!) { leaveChannel(channelId: $c) }', { c: channelId });
      await Promise.all([first.completed, second.completed]);
    });

    it('ends the stream when the owner removes the viewer from a private channel', async () => {
      const owner = await createUser(server.app);
      const member = await createUser(server.app);
      const channelId = await createChannel(server, owner.token, 'removals', 'PRIVATE');
      await mutate(owner.token, 'mutation ($c: ID!, $u: ID!) { inviteToChannel(channelId: $c, userId: $u) { id } }', { c: channelId, u: member.id });
      const ws = connectWs(server.wsUrl, member.token);
      const events = ws.subscribe(CHANNEL_EVENTS, { channelId });
      await waitForStreams(server.app, 1);
      await sendMessage(server, owner.token, channelId, 'before removal');
      await mutate(owner.token, 'mutation ($c: ID!, $u: ID!) { removeFromChannel(channelId: $c, userId: $u) { id } }', { c: channelId, u: member.id });
      await events.completed;
      await sendMessage(server, owner.token, channelId, 'after removal');
      const bodies = events.results.filter((r) => r.data?.channelEvents.__typename === 'MessageAdded').map((r) => r.data!.channelEvents.message.body);
      expect(bodies).toEqual(['before removal']);
    });

    it('fans one event out to many subscribers without reading the database per subscriber', async () => {
      const owner = await createUser(server.app);
      const channelId = await createChannel(server, owner.token, 'fan-out');
      // Baseline: what a send costs with nobody listening.
      const alone = await countQueries(server.app, () => sendMessage(server, owner.token, channelId, 'nobody listens'));
      const readers = await Promise.all([1, 2, 3, 4, 5].map(() => createUser(server.app)));
      const subscriptions = readers.map((reader) => connectWs(server.wsUrl, reader.token).subscribe(CHANNEL_EVENTS, { channelId }));
      await waitForStreams(server.app, readers.length);
      const watched = await countQueries(server.app, async () => {
        await sendMessage(server, owner.token, channelId, 'everyone listens');
        await Promise.all(subscriptions.map((subscription) => subscription.waitFor(1)));
      });
      for (const subscription of subscriptions) {
        expect(subscription.results[0].data!.channelEvents.message).toMatchObject({ body: 'everyone listens', author: { id: owner.id } });
      }
      // Session checks of the readers' new sockets (revocation watch) may land in the window; they are per socket, not per event.
      const perEvent = (queries: string[]) => queries.filter((sql) => !/"sessions"/.test(sql));
      expect(perEvent(watched.queries).length).toBe(perEvent(alone.queries).length);
    });

    it('resolves per-viewer fields afresh for every event (a fork and loaders per event)', async () => {
      const owner = await createUser(server.app);
      const voter = await createUser(server.app);
      const channelId = await createChannel(server, owner.token, 'my-votes');
      await mutate(voter.token, 'mutation ($c: ID!) { joinChannel(channelId: $c) { id } }', { c: channelId });
      const ws = connectWs(server.wsUrl, voter.token);
      const events = ws.subscribe(
        `subscription ($c: ID!) { channelEvents(channelId: $c) {
          ... on MessageAdded { message { id myVote } }
          ... on MessageUpdated { message { id myVote upvotes } } } }`,
        { c: channelId },
      );
      await waitForStreams(server.app, 1);
      const sent = await sendMessage(server, owner.token, channelId, 'vote on me');
      expect((await events.next()).data!.channelEvents.message).toEqual({ id: sent.id, myVote: 'NONE' });
      await mutate(voter.token, 'mutation ($id: ID!) { vote(messageId: $id, value: UP) { id } }', { id: sent.id });
      expect((await events.next()).data!.channelEvents.message).toEqual({ id: sent.id, myVote: 'UP', upvotes: 1 });
    });

    it('masks unexpected errors raised when a subscription starts', async () => {
      const owner = await createUser(server.app);
      const channelId = await createChannel(server, owner.token, 'broken');
      const connection = server.app.services.orm.em.getConnection();
      const ws = connectWs(server.wsUrl, owner.token);
      await waitUntil(() => server.app.ws.userSocketCount(owner.id) === 1, 'socket open');
      // Break the schema under the running server so the access check fails inside the ORM.
      await connection.execute('alter table memberships rename to memberships_broken');
      try {
        const result = await ws.subscribe(CHANNEL_EVENTS, { channelId }).next();
        expect(result.errors?.[0].extensions?.code).toBe('INTERNAL_SERVER_ERROR');
        expect(result.errors?.[0].extensions?.errorId).toMatch(/^[0-9a-f-]{36}$/);
        expect(JSON.stringify(result.errors)).not.toMatch(/memberships|select/i);
      } finally {
        await connection.execute('alter table memberships_broken rename to memberships');
      }
      expect(server.app.services.realtime.activeStreams).toBe(0);
      // The failed start removed its listener: once the socket is gone, nothing stays subscribed.
      await ws.dispose();
      await waitUntil(async () => (await topicSubscribers(server.app, Topic.user(owner.id))) === 0, 'nothing left subscribed');
    });

    it('removes every listener when the client unsubscribes or the socket closes (no leaks)', async () => {
      const owner = await createUser(server.app);
      const channelId = await createChannel(server, owner.token, 'leaks');
      const ws = connectWs(server.wsUrl, owner.token);
      const events = ws.subscribe(CHANNEL_EVENTS, { channelId });
      const inbox = ws.subscribe(INBOX);
      await waitForStreams(server.app, 2);
      expect(await topicSubscribers(server.app, Topic.channel(channelId))).toBe(1);
      expect(await topicSubscribers(server.app, Topic.user(owner.id))).toBe(1);
      events.unsubscribe();
      await waitUntil(async () => server.app.services.realtime.activeStreams === 1, 'one stream left');
      // The inbox still follows the channel, so the topic stays subscribed until it goes too.
      await ws.dispose();
      void inbox;
      await waitUntil(async () => server.app.services.realtime.activeStreams === 0, 'no streams left');
      await waitUntil(async () => (await topicSubscribers(server.app, Topic.channel(channelId))) === 0, 'channel topic unsubscribed');
      await waitUntil(async () => (await topicSubscribers(server.app, Topic.user(owner.id))) === 0, 'user topic unsubscribed');
    });
  });

  describe('lossless resume', () => {
    it('replays every message after the cursor, in order and with the live shape, then continues live', async () => {
      const owner = await createUser(server.app);
      const channelId = await createChannel(server, owner.token, 'resume');
      const sent: string[] = [];
      for (let i = 0; i < 5; i += 1) sent.push((await sendMessage(server, owner.token, channelId, `m${i}`)).id);
      await mutate(owner.token, 'mutation ($id: ID!) { deleteMessage(messageId: $id) { id } }', { id: sent[3] });
      const ws = connectWs(server.wsUrl, owner.token);
      // Seq 2 is the second message: resume after it.
      const events = ws.subscribe(CHANNEL_EVENTS, { channelId, after: messageCursor(2) });
      await events.waitFor(3);
      const live = await sendMessage(server, owner.token, channelId, 'live');
      await events.waitFor(4);
      const received = events.results.map((r) => r.data!.channelEvents);
      expect(received.map((e) => e.message.id)).toEqual([sent[2], sent[3], sent[4], live.id]);
      expect(received.map((e) => e.cursor)).toEqual([3, 4, 5, 6].map(messageCursor));
      // A deleted message replays as a tombstone, with its author, like a live event.
      expect(received[1]).toMatchObject({ __typename: 'MessageAdded', message: { body: null, deleted: true, author: { id: owner.id } } });
      expect(received[0].message.author).toEqual({ id: owner.id, username: owner.username });
    });

    it('refuses a resume more than 1000 messages behind with RESYNC_REQUIRED and no events', async () => {
      const owner = await createUser(server.app);
      const channelId = await createChannel(server, owner.token, 'far-behind');
      const connection = server.app.services.orm.em.getConnection();
      // 1002 committed messages, written in bulk (seq 1..1002) the way the service numbers them.
      await connection.execute(
        `insert into messages (id, channel_id, seq, author_id, body) select gen_random_uuid(), ?, s, ?, 'bulk ' || s from generate_series(1, 1002) s`,
        [channelId, owner.id],
      );
      await connection.execute('update channels set last_seq = 1002 where id = ?', [channelId]);
      const ws = connectWs(server.wsUrl, owner.token);
      const tooFar = ws.subscribe(CHANNEL_EVENTS, { channelId, after: messageCursor(1) });
      const result = await tooFar.next();
      expect(result.errors?.[0].extensions?.code).toBe('RESYNC_REQUIRED');
      expect(result.data ?? null).toBeNull();
      // Exactly 1000 behind is still replayed.
      const justEnough = ws.subscribe(CHANNEL_EVENTS, { channelId, after: messageCursor(2) });
      await justEnough.waitFor(1000, 15_000);
      const seqs = justEnough.results.map((r) => r.data!.channelEvents.cursor);
      expect(seqs[0]).toBe(messageCursor(3));
      expect(seqs[999]).toBe(messageCursor(1002));
    });

    it('holds a message that overtook its predecessor and fills the gap from PostgreSQL', async () => {
      const owner = await createUser(server.app);
      const channelId = await createChannel(server, owner.token, 'gaps');
      const ws = connectWs(server.wsUrl, owner.token);
      const events = ws.subscribe(CHANNEL_EVENTS, { channelId });
      await waitForStreams(server.app, 1);
      // Seq 1's publish is lost (or late); seq 2's arrives first.
      const first = await commitMessageSilently(server.app, channelId, owner.id, 'first');
      const second = await commitMessageSilently(server.app, channelId, owner.id, 'second');
      await publishMessageAdded(server.app, second);
      await events.waitFor(2);
      // The late publish of seq 1 is then a duplicate and dropped.
      await publishMessageAdded(server.app, first);
      const third = await sendMessage(server, owner.token, channelId, 'third');
      await events.waitFor(3);
      expect(events.results.map((r) => r.data!.channelEvents.message.id)).toEqual([first.id, second.id, third.id]);
    });
  });

  describe('inbox', () => {
    it("delivers others' new messages in the viewer's channels, following joins, leaves and new direct channels", async () => {
      const viewer = await createUser(server.app);
      const other = await createUser(server.app);
      const publicId = await publicChannelId(server.app);
      const privateId = await createChannel(server, other.token, 'inbox-private', 'PRIVATE');
      const leavingId = await createChannel(server, other.token, 'inbox-leaving');
      await mutate(viewer.token, 'mutation ($c: ID!) { joinChannel(channelId: $c) { id } }', { c: leavingId });
      const ws = connectWs(server.wsUrl, viewer.token);
      const inbox = ws.subscribe(INBOX);
      await waitForStreams(server.app, 1);

      await sendMessage(server, viewer.token, publicId, 'my own: not in my inbox');
      await sendMessage(server, other.token, privateId, 'not yet invited');
      const inPublic = await sendMessage(server, other.token, publicId, 'in public');
      const first = await inbox.next();
      expect(first.data!.inbox).toMatchObject({ cursor: expect.any(String), message: { id: inPublic.id, body: 'in public', channel: { id: publicId }, author: { id: other.id } } });

      // Invited after subscribing: followed without resubscribing.
      await mutate(other.token, 'mutation ($c: ID!, $u: ID!) { inviteToChannel(channelId: $c, userId: $u) { id } }', { c: privateId, u: viewer.id });
      await waitUntil(async () => (await topicSubscribers(server.app, Topic.channel(privateId))) === 1, 'private channel followed');
      const inPrivate = await sendMessage(server, other.token, privateId, 'now invited');
      expect((await inbox.next()).data!.inbox.message.id).toBe(inPrivate.id);

      // A direct channel opened and written to at once.
      const direct = await mutate(other.token, 'mutation ($u: ID!) { openDirectChannel(userId: $u) { id } }', { u: viewer.id });
      const inDirect = await sendMessage(server, other.token, direct.openDirectChannel.id, 'hi, directly');
      expect((await inbox.next()).data!.inbox.message).toMatchObject({ id: inDirect.id, channel: { id: direct.openDirectChannel.id } });

      // Left: no longer followed.
      await mutate(viewer.token, 'mutation ($c: ID!) { leaveChannel(channelId: $c) }', { c: leavingId });
      await waitUntil(async () => (await topicSubscribers(server.app, Topic.channel(leavingId))) === 0, 'left channel unfollowed');
      await sendMessage(server, other.token, leavingId, 'after leaving');
      const last = await sendMessage(server, other.token, publicId, 'last');
      expect((await inbox.next()).data!.inbox.message.id).toBe(last.id);
      expect(inbox.results).toHaveLength(4);
    });
    it('stops following a deleted channel', async () => {
      const viewer = await createUser(server.app);
      const owner = await createUser(server.app);
      const channelId = await createChannel(server, owner.token, 'doomed-room');
      await mutate(viewer.token, 'mutation ($c: ID!) { joinChannel(channelId: $c) { id } }', { c: channelId });
      const ws = connectWs(server.wsUrl, viewer.token);
      ws.subscribe(INBOX);
      await waitForStreams(server.app, 1);
      expect(await topicSubscribers(server.app, Topic.channel(channelId))).toBe(1);
      await mutate(owner.token, 'mutation ($c: ID!) { deleteChannel(channelId: $c) }', { c: channelId });
      await waitUntil(async () => (await topicSubscribers(server.app, Topic.channel(channelId))) === 0, 'deleted channel unfollowed');
    });
  });

  describe('setTyping', () => {
    it('publishes at most one UserTyping per user and channel every 2 seconds, and always answers true', async () => {
      const owner = await createUser(server.app);
      const channelId = await createChannel(server, owner.token, 'typing');
      const ws = connectWs(server.wsUrl, owner.token);
      const events = ws.subscribe(CHANNEL_EVENTS, { channelId });
      await waitForStreams(server.app, 1);
      const answers = await Promise.all(
        [1, 2, 3].map(() => mutate(owner.token, 'mutation ($c: ID!) { setTyping(channelId: $c) }', { c: channelId })),
      );
      expect(answers).toEqual([{ setTyping: true }, { setTyping: true }, { setTyping: true }]);
      // A message after the typing calls marks the end: exactly one UserTyping came before it.
      await sendMessage(server, owner.token, channelId, 'done typing');
      await events.waitFor(2);
      expect(events.results.map((r) => r.data!.channelEvents.__typename)).toEqual(['UserTyping', 'MessageAdded']);
      // Nothing is stored but the throttle key, which expires by itself.
      const keys = await server.app.services.redis!.command.keys(`${server.app.services.config.redisKeyPrefix}typing:*`);
      expect(keys).toHaveLength(1);
      expect(await server.app.services.redis!.command.pttl(keys[0])).toBeGreaterThan(0);
    });

    it('requires membership: NOT_FOUND for an invisible channel, FORBIDDEN for a public one not joined', async () => {
      const owner = await createUser(server.app);
      const outsider = await createUser(server.app);
      const secret = await createChannel(server, owner.token, 'typing-secret', 'PRIVATE');
      const open = await createChannel(server, owner.token, 'typing-open');
      const typing = 'mutation ($c: ID!) { setTyping(channelId: $c) }';
      expect(errorCode(await gql(server.url, typing, { c: secret }, { token: outsider.token }))).toBe('NOT_FOUND');
      expect(errorCode(await gql(server.url, typing, { c: 'nope' }, { token: outsider.token }))).toBe('NOT_FOUND');
      expect(errorCode(await gql(server.url, typing, { c: open }, { token: outsider.token }))).toBe('FORBIDDEN');
      expect(errorCode(await gql(server.url, typing, { c: open }))).toBe('UNAUTHENTICATED');
    });
  });

  describe('presence', () => {
    const online = async (viewerToken: string, userId: string) =>
      (await gqlOk<{ user: { online: boolean } }>(server.url, 'query ($id: ID!) { user(id: $id) { online } }', { id: userId }, { token: viewerToken })).user.online;

    it('is online while the user has an open connection and offline right after the last one closes', async () => {
      const viewer = await createUser(server.app);
      const subject = await createUser(server.app);
      expect(await online(viewer.token, subject.id)).toBe(false);
      const first = connectWs(server.wsUrl, subject.token);
      const second = connectWs(server.wsUrl, subject.token);
      await waitUntil(() => server.app.ws.userSocketCount(subject.id) === 2, 'two sockets');
      await waitUntil(() => online(viewer.token, subject.id), 'online');
      await first.dispose();
      await waitUntil(() => server.app.ws.userSocketCount(subject.id) === 1, 'one socket');
      expect(await online(viewer.token, subject.id)).toBe(true);
      await second.dispose();
      await waitUntil(async () => !(await online(viewer.token, subject.id)), 'offline');
    });

    it('answers online for a whole list of users with one Redis round trip', async () => {
      const viewer = await createUser(server.app);
      const users = await Promise.all([1, 2, 3].map(() => createUser(server.app)));
      connectWs(server.wsUrl, users[1].token);
      await waitUntil(() => server.app.ws.userSocketCount(users[1].id) === 1, 'socket open');
      const lookups = jest.spyOn(server.app.services.realtime.presence, 'areOnline');
      try {
        const data = await gqlOk<{ users: { edges: Array<{ node: { id: string; online: boolean } }> } }>(
          server.url,
          'query { users(first: 100) { edges { node { id online } } } }',
          {},
          { token: viewer.token },
        );
        const onlineById = new Map(data.users.edges.map(({ node }) => [node.id, node.online]));
        expect(users.map((u) => onlineById.get(u.id))).toEqual([false, true, false]);
        // One batched lookup (one pipelined Redis round trip) for the whole response.
        expect(lookups).toHaveBeenCalledTimes(1);
        expect([...lookups.mock.calls[0][0]]).toEqual(expect.arrayContaining(users.map((u) => u.id)));
      } finally {
        lookups.mockRestore();
      }
    });
  });
});
