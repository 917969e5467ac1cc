// Threads (issue 15, area conversations) through the API: replies, channel history without
// them, threadReplies paging, thread summaries, following, read markers, myThreads, bad input,
// deleted roots, timeouts, and replies on channelEvents (live and replayed).
import { ChannelKind } from '../src/channels/channel.entity';
import { useTestServer, type TestApp } from './helpers/app';
import { countQueries, sentBesideAccessCheck } from './helpers/db';
import { createUser, type TestUser } from './helpers/factories';
import { gql, gqlOk, type GraphQLResponse } from './helpers/graphql';
import { createChannelDirectly, publicChannelId } from './helpers/messages';
import { waitForStreams, waitUntil } from './helpers/realtime';
import { connectWs, disposeAllWsClients } from './helpers/ws';

const SEND = 'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id threadRootId body } }';
const THREAD_FIELDS = 'replyCount lastReplyAt participants { id } following unreadCount root { id }';
const PAGE_FIELDS = 'edges { cursor node { id threadRootId body } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }';
const HISTORY = `query ($c: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  messages(channelId: $c, first: $first, after: $after, last: $last, before: $before) { ${PAGE_FIELDS} } }`;
const REPLIES = `query ($m: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  threadReplies(messageId: $m, first: $first, after: $after, last: $last, before: $before) { ${PAGE_FIELDS} } }`;
const THREAD_OF = `query ($c: ID!) { messages(channelId: $c, last: 100) { edges { node { id thread { ${THREAD_FIELDS} } } } } }`;
const FOLLOW = `mutation ($m: ID!, $f: Boolean!) { followThread(messageId: $m, follow: $f) { id thread { ${THREAD_FIELDS} } } }`;
const MARK_READ = `mutation ($m: ID!) { markThreadRead(messageId: $m) { id thread { ${THREAD_FIELDS} } } }`;
const MY_THREADS = `query ($first: Int, $after: String) { myThreads(first: $first, after: $after) {
  edges { cursor node { root { id } replyCount following } } pageInfo { hasNextPage hasPreviousPage } } }`;
const MUTE = 'mutation ($c: ID!, $u: ID!, $d: Int!) { muteInChannel(channelId: $c, userId: $u, durationSeconds: $d) { id } }';
const DELETE = 'mutation ($m: ID!) { deleteMessage(messageId: $m) { id deleted } }';
const EVENTS = `subscription ($c: ID!, $after: String) { channelEvents(channelId: $c, after: $after) {
  __typename
  ... on MessageAdded { cursor message { id threadRootId body } }
  ... on MessageUpdated { message { id thread { replyCount participants { id } } } }
} }`;

interface Page {
  edges: Array<{ cursor: string; node: { id: string; threadRootId: string | null; body: string } }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}
interface ThreadSummary {
  replyCount: number;
  lastReplyAt: string | null;
  participants: Array<{ id: string }>;
  following: boolean;
  unreadCount: number;
  root: { id: string };
}

function expectError(response: GraphQLResponse, code: string, field?: string): void {
  expect(response.errors?.[0]?.extensions?.code).toBe(code);
  if (field) expect(response.errors?.[0]?.extensions?.field).toBe(field);
  expect(response.data?.sendMessage ?? null).toBeNull();
}

describe('threads', () => {
  const suite = useTestServer();
  let server: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let channelId: string;

  const send = async (user: TestUser, body: string, threadId?: string, channel = channelId) =>
    (await gqlOk<{ sendMessage: { id: string; threadRootId: string | null } }>(server.url, SEND, { input: { channelId: channel, body, threadId } }, { token: user.token })).sendMessage;
  const sendRaw = (user: TestUser, input: Record<string, unknown>) => gql(server.url, SEND, { input }, { token: user.token });
  const threadOf = async (user: TestUser, messageId: string, channel = channelId): Promise<ThreadSummary | null> => {
    const data = await gqlOk<{ messages: { edges: Array<{ node: { id: string; thread: ThreadSummary | null } }> } }>(server.url, THREAD_OF, { c: channel }, { token: user.token });
    const edge = data.messages.edges.find((one) => one.node.id === messageId);
    if (!edge) throw new Error(`${messageId} is not in the channel's history`);
    return edge.node.thread;
  };
  const page = async (query: string, user: TestUser, variables: Record<string, unknown>): Promise<Page> => {
    const data = await gqlOk<Record<string, Page>>(server.url, query, variables, { token: user.token });
    return Object.values(data)[0];
  };

  beforeAll(() => {
    server = suite.server;
  });
  beforeEach(async () => {
    [alice, bob, carol] = await Promise.all([createUser(server.app), createUser(server.app), createUser(server.app)]);
    channelId = await publicChannelId(server.app);
  });

  /** Streams of earlier tests would make `waitForStreams(app, 1)` pass before this test's own stream is live. */
  const noStreamsLeft = async () => {
    await disposeAllWsClients();
    await waitUntil(() => server.app.services.realtime.activeStreams === 0, 'earlier streams closed');
  };

  it('a reply joins the root thread (flat), stays out of channel history, and the root gets a summary', async () => {
    const root = await send(alice, 'root');
    const before = await send(bob, 'top level');
    const first = await send(bob, 'first reply', root.id);
    expect(first.threadRootId).toBe(root.id);
    // A reply to a reply joins the root's thread.
    const second = await send(carol, 'reply to a reply', first.id);
    expect(second.threadRootId).toBe(root.id);
    const third = await send(bob, 'bob again', root.id);
    const after = await send(alice, 'after');

    // History (cached and from PostgreSQL, both directions) lists only the top-level messages.
    const topLevel = [root.id, before.id, after.id];
    for (const variables of [{}, { last: 3 }, { last: 2 }, { first: 10 }, { first: 2 }]) {
      const history = await page(HISTORY, alice, { c: channelId, ...variables });
      const ids = history.edges.map((edge) => edge.node.id);
      expect(ids.every((id) => topLevel.includes(id))).toBe(true);
      expect(history.edges.every((edge) => edge.node.threadRootId === null)).toBe(true);
    }
    expect((await page(HISTORY, alice, { c: channelId, last: 20 })).edges.map((edge) => edge.node.id)).toEqual(topLevel);
    expect((await page(HISTORY, alice, { c: channelId, first: 20 })).edges.map((edge) => edge.node.id)).toEqual(topLevel);

    const replies = await page(REPLIES, bob, { m: root.id });
    expect(replies.edges.map((edge) => edge.node.id)).toEqual([first.id, second.id, third.id]);
    expect(replies.edges.every((edge) => edge.node.threadRootId === root.id)).toBe(true);
    // Any message of the thread names it.
    expect((await page(REPLIES, bob, { m: second.id })).edges.map((edge) => edge.node.id)).toEqual([first.id, second.id, third.id]);

    const summary = (await threadOf(alice, root.id))!;
    expect(summary.replyCount).toBe(3);
    expect(summary.root.id).toBe(root.id);
    expect(summary.lastReplyAt).not.toBeNull();
    // Each replier once, by their latest reply, newest first.
    expect(summary.participants.map((user) => user.id)).toEqual([bob.id, carol.id]);
    // The root's author follows from the first reply on, and has read none of it.
    expect(summary.following).toBe(true);
    expect(summary.unreadCount).toBe(3);
    // A message without replies or followers has no thread; nor has a reply.
    expect(await threadOf(alice, before.id)).toBeNull();
    const reply = await gqlOk(server.url, `query ($m: ID!) { threadReplies(messageId: $m, first: 1) { edges { node { thread { replyCount } } } } }`, { m: root.id }, { token: alice.token });
    expect(reply.threadReplies.edges[0].node.thread).toBeNull();
  });

  it('participants: at most five, each replier once, the one with the newest reply first', async () => {
    const root = await send(alice, 'busy');
    const users = [bob, carol, ...(await Promise.all(Array.from({ length: 5 }, () => createUser(server.app))))];
    for (const user of users) await send(user, `from ${user.username}`, root.id);
    await send(bob, 'bob once more', root.id);
    const summary = (await threadOf(alice, root.id))!;
    expect(summary.replyCount).toBe(8);
    expect(summary.participants.map((user) => user.id)).toEqual([bob.id, users[6].id, users[5].id, users[4].id, users[3].id]);
  });

  it('pages a thread exactly as messages pages a channel: both directions, exact pageInfo', async () => {
    const root = await send(alice, 'long thread');
    const replyIds: string[] = [];
    const topIds: string[] = [root.id];
    for (let i = 0; i < 23; i += 1) {
      replyIds.push((await send(i % 2 ? bob : carol, `reply ${i}`, root.id)).id);
      // Channel messages between the replies: the thread's seqs have gaps.
      if (i % 3 === 0) topIds.push((await send(alice, `between ${i}`)).id);
    }
    for (const [query, variables, expected] of [
      [REPLIES, { m: root.id }, replyIds],
      [HISTORY, { c: channelId }, topIds],
    ] as const) {
      // Forward.
      const forward: string[] = [];
      let after: string | null = null;
      for (;;) {
        const current: Page = await page(query, bob, { ...variables, first: 5, after });
        forward.push(...current.edges.map((edge) => edge.node.id));
        expect(current.pageInfo.hasPreviousPage).toBe(after !== null);
        expect(current.pageInfo.startCursor).toBe(current.edges[0]?.cursor ?? null);
        expect(current.pageInfo.endCursor).toBe(current.edges[current.edges.length - 1]?.cursor ?? null);
        expect(current.pageInfo.hasNextPage).toBe(forward.length < expected.length);
        if (!current.pageInfo.hasNextPage) break;
        after = current.pageInfo.endCursor;
      }
      expect(forward).toEqual(expected);
      // Backward.
      const backward: string[] = [];
      let before: string | null = null;
      for (;;) {
        const current: Page = await page(query, bob, { ...variables, last: 4, before });
        backward.unshift(...current.edges.map((edge) => edge.node.id));
        expect(current.pageInfo.hasNextPage).toBe(before !== null);
        expect(current.pageInfo.hasPreviousPage).toBe(backward.length < expected.length);
        if (!current.pageInfo.hasPreviousPage) break;
        before = current.pageInfo.startCursor;
      }
      expect(backward).toEqual(expected);
      // A page exactly at either end: nothing beyond it.
      const all = await page(query, bob, { ...variables, last: expected.length });
      expect(all.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: false });
      const tail = await page(query, bob, { ...variables, first: 3, after: all.edges[expected.length - 1].cursor });
      expect(tail.edges).toEqual([]);
      expect(tail.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    }
  });

  it("reads the root's page beside the message's lookup and access check; a reply's id still names its thread", async () => {
    const root = await send(alice, 'root');
    const replyIds: string[] = [];
    for (let i = 0; i < 4; i += 1) replyIds.push((await send(bob, `reply ${i}`, root.id)).id);
    // Held behind a lock, the access check must not delay the page statement.
    const replies = await sentBesideAccessCheck(server.app, /thread_root_id = k\.list_id/, () => page(REPLIES, bob, { m: root.id, first: 10 }));
    expect(replies.edges.map((edge) => edge.node.id)).toEqual(replyIds);
    // Named by a reply, the same thread (its root's page, read after the lookup).
    expect((await page(REPLIES, carol, { m: replyIds[2], first: 10 })).edges.map((edge) => edge.node.id)).toEqual(replyIds);
  });

  it('loads thread summaries of a history page in a fixed number of statements (no N+1)', async () => {
    const roots = [];
    for (let i = 0; i < 30; i += 1) roots.push(await send(alice, `root ${i}`));
    for (const root of roots) await send(bob, 'reply', root.id);
    const query = `query ($c: ID!, $n: Int) { messages(channelId: $c, last: $n) { edges { node { id edits { body } thread { ${THREAD_FIELDS} participants { username } } } } } }`;
    const statements = async (n: number) => {
      const { result, queries } = await countQueries(server.app, () => gqlOk(server.url, query, { c: channelId, n }, { token: carol.token }));
      expect(result.messages.edges).toHaveLength(n);
      expect(result.messages.edges.every((edge: { node: { thread: ThreadSummary } }) => edge.node.thread.replyCount === 1)).toBe(true);
      return queries.length;
    };
    await statements(5);
    const small = await statements(5);
    const large = await statements(30);
    expect(large).toBe(small);
  });

  it('follow and unfollow; later replies follow the replier again; anyone who can read the channel may follow', async () => {
    const root = await send(alice, 'to follow');
    // Following a message without replies gives it its thread.
    const followed = await gqlOk(server.url, FOLLOW, { m: root.id, f: true }, { token: carol.token });
    expect(followed.followThread.thread).toMatchObject({ replyCount: 0, following: true, unreadCount: 0, participants: [] });
    // The root's author does not follow before the first reply...
    expect((await threadOf(alice, root.id))!.following).toBe(false);
    await send(bob, 'first', root.id);
    // ...and does with it, like the replier.
    expect((await threadOf(alice, root.id))!.following).toBe(true);
    expect((await threadOf(bob, root.id))!.following).toBe(true);
    expect((await threadOf(carol, root.id))!.following).toBe(true);

    const unfollowed = await gqlOk(server.url, FOLLOW, { m: root.id, f: false }, { token: bob.token });
    expect(unfollowed.followThread.thread.following).toBe(false);
    expect((await gqlOk(server.url, MY_THREADS, {}, { token: bob.token })).myThreads.edges).toEqual([]);
    // Unfollowing after the first reply: a later reply by someone else does not bring the root's author back.
    await gqlOk(server.url, FOLLOW, { m: root.id, f: false }, { token: alice.token });
    await send(carol, 'second', root.id);
    expect((await threadOf(alice, root.id))!.following).toBe(false);
    // Replying again follows again.
    await send(bob, 'back', root.id);
    expect((await threadOf(bob, root.id))!.following).toBe(true);

    // A non-member of a public channel may follow (reading is enough); a private channel's outsider gets NOT_FOUND.
    const privateId = await createChannelDirectly(server.app, { ownerId: alice.id, memberIds: [bob.id] });
    const secret = await send(alice, 'secret', undefined, privateId);
    expect((await gql(server.url, FOLLOW, { m: secret.id, f: true }, { token: carol.token })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await gql(server.url, MARK_READ, { m: secret.id }, { token: carol.token })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await gql(server.url, REPLIES, { m: secret.id }, { token: carol.token })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await gql(server.url, FOLLOW, { m: '00000000-0000-4000-8000-000000000000', f: true }, { token: carol.token })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('unreadCount counts replies by others after the read marker; markThreadRead moves it', async () => {
    const root = await send(alice, 'unread');
    await send(bob, 'one', root.id);
    await send(carol, 'two', root.id);
    expect((await threadOf(alice, root.id))!.unreadCount).toBe(2);
    // A replier has read up to their own reply; their own replies never count.
    expect((await threadOf(bob, root.id))!.unreadCount).toBe(1);
    expect((await threadOf(carol, root.id))!.unreadCount).toBe(0);

    const marked = await gqlOk(server.url, MARK_READ, { m: root.id }, { token: alice.token });
    expect(marked.markThreadRead.id).toBe(root.id);
    expect(marked.markThreadRead.thread.unreadCount).toBe(0);
    await send(alice, 'my own', root.id);
    expect((await threadOf(alice, root.id))!.unreadCount).toBe(0);
    await send(bob, 'three', root.id);
    expect((await threadOf(alice, root.id))!.unreadCount).toBe(1);
    // Marking through a reply marks its thread.
    const reply = await send(carol, 'four', root.id);
    await gqlOk(server.url, MARK_READ, { m: reply.id }, { token: alice.token });
    expect((await threadOf(alice, root.id))!.unreadCount).toBe(0);
    // Per viewer: bob's marker is at his last reply ('three'), so only carol's 'four' is new to him.
    expect((await threadOf(bob, root.id))!.unreadCount).toBe(1);
  });

  it('myThreads lists followed threads, the newest reply first, with a cursor', async () => {
    const [a, b, c] = [await send(alice, 'a'), await send(alice, 'b'), await send(alice, 'c')];
    await send(bob, 'to a', a.id);
    await send(bob, 'to b', b.id);
    await send(bob, 'to c', c.id);
    await send(carol, 'to a again', a.id);
    const all = await gqlOk(server.url, MY_THREADS, {}, { token: alice.token });
    expect(all.myThreads.edges.map((edge: { node: { root: { id: string } } }) => edge.node.root.id)).toEqual([a.id, c.id, b.id]);
    expect(all.myThreads.edges[0].node).toMatchObject({ replyCount: 2, following: true });
    // Paged one at a time.
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const current: { myThreads: { edges: Array<{ cursor: string; node: { root: { id: string } } }>; pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean } } } = await gqlOk(
        server.url,
        MY_THREADS,
        { first: 1, after },
        { token: alice.token },
      );
      seen.push(...current.myThreads.edges.map((edge) => edge.node.root.id));
      expect(current.myThreads.pageInfo.hasPreviousPage).toBe(after !== null);
      if (!current.myThreads.pageInfo.hasNextPage) break;
      after = current.myThreads.edges[0].cursor;
    }
    expect(seen).toEqual([a.id, c.id, b.id]);
    // Bob follows the three he replied to; carol only a.
    expect((await gqlOk(server.url, MY_THREADS, {}, { token: carol.token })).myThreads.edges.map((edge: { node: { root: { id: string } } }) => edge.node.root.id)).toEqual([a.id]);
    expect((await gql(server.url, MY_THREADS, { after: 'bm9wZQ' }, { token: alice.token })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('bad input: another channel or a deleted root is BAD_USER_INPUT on threadId; unknown or unreadable is NOT_FOUND; nothing is stored', async () => {
    const root = await send(alice, 'root');
    const otherId = await createChannelDirectly(server.app, { ownerId: alice.id, memberIds: [bob.id], kind: ChannelKind.PUBLIC });
    const elsewhere = await send(alice, 'elsewhere', undefined, otherId);
    const privateId = await createChannelDirectly(server.app, { ownerId: alice.id });
    const secret = await send(alice, 'secret', undefined, privateId);
    const count = async () => Number((await server.app.services.sql.query<{ n: string }>('select count(*) as n from messages')).at(0)!.n);
    const stored = await count();

    expectError(await sendRaw(bob, { channelId, body: 'x', threadId: elsewhere.id }), 'BAD_USER_INPUT', 'threadId');
    expectError(await sendRaw(bob, { channelId, body: 'x', threadId: '00000000-0000-4000-8000-000000000000' }), 'NOT_FOUND');
    expectError(await sendRaw(bob, { channelId, body: 'x', threadId: 'not-an-id' }), 'NOT_FOUND');
    expectError(await sendRaw(bob, { channelId, body: 'x', threadId: secret.id }), 'NOT_FOUND');
    await gqlOk(server.url, DELETE, { m: root.id }, { token: alice.token });
    expectError(await sendRaw(bob, { channelId, body: 'x', threadId: root.id }), 'BAD_USER_INPUT', 'threadId');
    expect(await count()).toBe(stored);
  });

  it('a deleted root keeps its thread readable but takes no replies', async () => {
    const root = await send(alice, 'doomed');
    const reply = await send(bob, 'reply', root.id);
    // A reply to a reply of a deleted root is refused too (it would join the root's thread).
    await gqlOk(server.url, DELETE, { m: root.id }, { token: alice.token });
    expectError(await sendRaw(carol, { channelId, body: 'late', threadId: reply.id }), 'BAD_USER_INPUT', 'threadId');
    const summary = (await threadOf(bob, root.id))!;
    expect(summary).toMatchObject({ replyCount: 1, participants: [{ id: bob.id }] });
    expect((await page(REPLIES, carol, { m: root.id })).edges.map((edge) => edge.node.id)).toEqual([reply.id]);
    // No new followers for a deleted root; leaving it still works.
    expect((await gql(server.url, FOLLOW, { m: root.id, f: true }, { token: carol.token })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await gqlOk(server.url, FOLLOW, { m: root.id, f: false }, { token: bob.token })).followThread.thread.following).toBe(false);
    // Deleting a reply leaves a tombstone in the thread.
    await gqlOk(server.url, DELETE, { m: reply.id }, { token: bob.token });
    expect((await page(REPLIES, carol, { m: root.id })).edges.map((edge) => edge.node.body)).toEqual([null]);
  });

  it('who may not send in the channel may not reply: timed out or not a member is FORBIDDEN', async () => {
    const roomId = await createChannelDirectly(server.app, { ownerId: alice.id, memberIds: [bob.id], kind: ChannelKind.PUBLIC });
    const root = await send(alice, 'root', undefined, roomId);
    await gqlOk(server.url, MUTE, { c: roomId, u: bob.id, d: 600 }, { token: alice.token });
    expectError(await sendRaw(bob, { channelId: roomId, body: 'muted reply', threadId: root.id }), 'FORBIDDEN');
    // Carol can read the public channel but has not joined it.
    expectError(await sendRaw(carol, { channelId: roomId, body: 'outsider reply', threadId: root.id }), 'FORBIDDEN');
    expect((await page(REPLIES, alice, { m: root.id })).edges).toEqual([]);
    expect(await threadOf(alice, root.id, roomId)).toBeNull();
  });

  it('replies travel on channelEvents with threadRootId, the root follows as MessageUpdated, and resume replays replies', async () => {
    await noStreamsLeft();
    const root = await send(alice, 'root');
    const ws = connectWs(server.wsUrl, alice.token);
    const live = ws.subscribe(EVENTS, { c: channelId });
    await waitForStreams(server.app, 1);
    const reply = await send(bob, 'live reply', root.id);
    await live.waitFor(2);
    const [added, updated] = live.results.map((result) => result.data!.channelEvents);
    expect(added).toMatchObject({ __typename: 'MessageAdded', message: { id: reply.id, threadRootId: root.id, body: 'live reply' } });
    expect(updated).toMatchObject({ __typename: 'MessageUpdated', message: { id: root.id, thread: { replyCount: 1, participants: [{ id: bob.id }] } } });
    // A first follower gives a message its thread: MessageUpdated too.
    const lonely = await send(alice, 'lonely');
    await live.waitFor(3);
    await gqlOk(server.url, FOLLOW, { m: lonely.id, f: true }, { token: carol.token });
    await live.waitFor(4);
    expect(live.results[3].data!.channelEvents).toMatchObject({ __typename: 'MessageUpdated', message: { id: lonely.id, thread: { replyCount: 0 } } });

    // Resuming after the root replays the reply (and everything after it) in order.
    const rootCursor = (added as { cursor: string }).cursor;
    const second = await send(carol, 'second reply', root.id);
    const replayClient = connectWs(server.wsUrl, bob.token);
    const rootAdded = (await gqlOk(server.url, `query ($c: ID!) { messages(channelId: $c, last: 100) { edges { cursor node { id } } } }`, { c: channelId }, { token: bob.token })).messages.edges.find(
      (edge: { node: { id: string } }) => edge.node.id === root.id,
    ).cursor;
    expect(rootCursor).not.toBe(rootAdded);
    const replayed = replayClient.subscribe(EVENTS, { c: channelId, after: rootAdded });
    await replayed.waitFor(3);
    const ids = replayed.results.slice(0, 3).map((result) => result.data!.channelEvents.message.id);
    expect(ids).toEqual([reply.id, lonely.id, second.id]);
    expect(replayed.results[0].data!.channelEvents.message.threadRootId).toBe(root.id);
    expect(replayed.results[1].data!.channelEvents.message.threadRootId).toBeNull();
  });

  it('followThread(rootId, userIds), the hook for mentions, makes users follow and gives the root its thread', async () => {
    const root = await send(alice, 'mention @carol');
    await server.app.services.threads.followThread(root.id, [carol.id, bob.id]);
    expect(await threadOf(carol, root.id)).toMatchObject({ following: true, replyCount: 0 });
    expect((await gqlOk(server.url, MY_THREADS, {}, { token: bob.token })).myThreads.edges.map((edge: { node: { root: { id: string } } }) => edge.node.root.id)).toEqual([root.id]);
    // With the first reply, the root's author follows as well.
    await send(bob, 'reply', root.id);
    expect((await threadOf(alice, root.id))!.following).toBe(true);
  });

  it("a channel's unreadCount leaves replies to the threads' own counts", async () => {
    const root = await send(alice, 'root');
    await gqlOk(server.url, 'mutation ($c: ID!) { markRead(channelId: $c) { id } }', { c: channelId }, { token: alice.token });
    await send(bob, 'reply', root.id);
    await send(bob, 'reply 2', root.id);
    await send(bob, 'top level');
    const channel = await gqlOk(server.url, 'query ($c: ID!) { channel(id: $c) { unreadCount } }', { c: channelId }, { token: alice.token });
    expect(channel.channel.unreadCount).toBe(1);
    expect((await threadOf(alice, root.id))!.unreadCount).toBe(2);
  });

  it('replies reach the inbox like any message by others', async () => {
    await noStreamsLeft();
    const root = await send(alice, 'root');
    const ws = connectWs(server.wsUrl, alice.token);
    const inbox = ws.subscribe('subscription { inbox { message { id threadRootId } } }');
    await waitForStreams(server.app, 1);
    const reply = await send(bob, 'to the inbox', root.id);
    await inbox.waitFor(1);
    expect(inbox.results[0].data!.inbox.message).toEqual({ id: reply.id, threadRootId: root.id });
  });
});
