import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { ChannelKind } from '../src/channels/channel.entity';
import { RedisRecentCache } from '../src/messages/recent-cache';
import { messageCursor } from '../src/messages/message.types';
import { listPage } from '../src/messages/message.service';
import { createRequestContext } from '../src/shared/context';
import { UPDATE_PROFILE } from './helpers/accounts';
import { countQueries, resetState, sentBesideAccessCheck } from './helpers/db';
import { errorCode, gql, gqlOk } from './helpers/graphql';
import { describeWithRedis, startTestApp, stopAllApps, type TestApp, useTestServer } from './helpers/app';
import { createUser, type TestUser } from './helpers/factories';
import { disposeAllWsClients } from './helpers/ws';
import { createChannelDirectly, DELETE, EDIT, history, HISTORY, publicChannelId, sendMessage, type TestMessage, type TestPage, VOTE } from './helpers/messages';

/** Sends `count` messages, 25 at a time, returning them in seq (commit) order. */
async function sendMany(server: TestApp, users: TestUser[], channelId: string, count: number, label = 'm'): Promise<TestMessage[]> {
  const sent: TestMessage[] = [];
  for (let start = 0; start < count; start += 25) {
    const batch = Array.from({ length: Math.min(25, count - start) }, (_, i) => start + i);
    sent.push(...(await Promise.all(batch.map((i) => sendMessage(server.url, users[i % users.length].token, channelId, `${label}${i}`)))));
  }
  // Concurrent sends commit in any order; the sequence numbers say which.
  const rows = await server.app.services.orm.em.getConnection().execute<{ id: string }[]>('select id from messages where channel_id = ? order by seq', [channelId]);
  const position = new Map(rows.map((row, index) => [row.id, index]));
  return sent.sort((a, b) => position.get(a.id)! - position.get(b.id)!);
}

/** True when one of the statements read messages rows (the cache should spare that). */
function readsMessages(queries: string[]): boolean {
  return queries.some((sql) => /from "messages"|from messages\b/i.test(sql));
}

describe('messages: history', () => {
  const suite = useTestServer();
  let server: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let publicId: string;

  beforeAll(() => {
    server = suite.server;
  });
  beforeEach(async () => {
    [alice, bob] = await Promise.all([createUser(server.app), createUser(server.app)]);
    publicId = await publicChannelId(server.app);
  });

  it('pages over several hundred messages in both directions: each exactly once, in order, exact pageInfo', async () => {
    await sendMany(server, [alice, bob], publicId, 250);
    const expectedIds = (
      await server.app.services.orm.em
        .fork()
        .getConnection()
        .execute<{ id: string }[]>('select id from messages where channel_id = ? order by seq', [publicId])
    ).map((row) => row.id);
    expect(expectedIds).toHaveLength(250);

    // Forward with first/after.
    const forward: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page: TestPage = await history(server.url, alice.token, { channelId: publicId, first: 37, after });
      pages += 1;
      forward.push(...page.edges.map((edge) => edge.node.id));
      expect(page.pageInfo.hasPreviousPage).toBe(after !== null);
      expect(page.pageInfo.startCursor).toBe(page.edges[0]?.cursor ?? null);
      expect(page.pageInfo.endCursor).toBe(page.edges[page.edges.length - 1]?.cursor ?? null);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(forward).toEqual(expectedIds);
    expect(pages).toBe(Math.ceil(250 / 37));

    // Backward with last/before (the newest pages come from the cache, older ones from PostgreSQL).
    const backward: string[][] = [];
    let before: string | null = null;
    for (;;) {
      const page: TestPage = await history(server.url, alice.token, { channelId: publicId, last: 41, before });
      backward.unshift(page.edges.map((edge) => edge.node.id));
      expect(page.pageInfo.hasNextPage).toBe(before !== null);
      if (!page.pageInfo.hasPreviousPage) break;
      before = page.pageInfo.startCursor;
    }
    expect(backward.flat()).toEqual(expectedIds);
    // Oldest first within a page.
    expect(backward[backward.length - 1]).toEqual(expectedIds.slice(-41));

    // A page ending exactly at either end knows there is nothing beyond it.
    const newest = await history(server.url, alice.token, { channelId: publicId, first: 50, after: messageCursor(200) });
    expect(newest.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    const oldest = await history(server.url, alice.token, { channelId: publicId, last: 50, before: messageCursor(51) });
    expect(oldest.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(oldest.edges.map((edge) => edge.node.id)).toEqual(expectedIds.slice(0, 50));
  }, 60_000);

  it('defaults to the newest 20, and answers an empty channel with an empty page', async () => {
    const empty = await history(server.url, alice.token, { channelId: publicId });
    expect(empty).toEqual({ edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } });
    const sent = await sendMany(server, [alice], publicId, 25);
    const page = await history(server.url, alice.token, { channelId: publicId });
    expect(page.edges.map((edge) => edge.node.body)).toEqual(
      (await history(server.url, alice.token, { channelId: publicId, first: 25 })).edges.slice(5).map((edge) => edge.node.body),
    );
    expect(page.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    expect(sent).toHaveLength(25);
  });

  it('validates arguments: page sizes, both first and last, malformed cursors', async () => {
    const run = (variables: Record<string, unknown>) => gql(server.url, HISTORY, { channelId: publicId, ...variables }, { token: alice.token });
    for (const variables of [{ first: 0 }, { first: 101 }, { last: 0 }, { last: 101 }, { first: -1 }]) {
      const response = await run(variables);
      expect(errorCode(response)).toBe('BAD_USER_INPUT');
    }
    const both = await run({ first: 10, last: 10 });
    expect(errorCode(both)).toBe('BAD_USER_INPUT');
    for (const cursor of ['', 'not a cursor', '!!!', Buffer.from('other:5').toString('base64url'), Buffer.from('msg:abc').toString('base64url')]) {
      const response = await run({ first: 5, after: cursor });
      expect(errorCode(response)).toBe('BAD_USER_INPUT');
      expect(response.errors?.[0].extensions?.field).toBe('after');
      expect(errorCode(await run({ last: 5, before: cursor }))).toBe('BAD_USER_INPUT');
    }
    expect((await run({ first: 100 })).errors).toBeUndefined();
    expect((await run({ last: 1 })).errors).toBeUndefined();
  });

  it('is NOT_FOUND for unknown and invisible channels, readable for non-members of PUBLIC ones, UNAUTHENTICATED anonymously', async () => {
    const secret = await createChannelDirectly(server.app, { ownerId: bob.id });
    await sendMessage(server.url, bob.token, secret, 'secret');
    const open = await createChannelDirectly(server.app, { kind: ChannelKind.PUBLIC, ownerId: bob.id });
    await sendMessage(server.url, bob.token, open, 'open');

    expect(errorCode(await gql(server.url, HISTORY, { channelId: secret }, { token: alice.token }))).toBe('NOT_FOUND');
    expect(errorCode(await gql(server.url, HISTORY, { channelId: '00000000-0000-4000-8000-000000000000' }, { token: alice.token }))).toBe('NOT_FOUND');
    expect(errorCode(await gql(server.url, HISTORY, { channelId: 'bogus' }, { token: alice.token }))).toBe('NOT_FOUND');
    expect(errorCode(await gql(server.url, HISTORY, { channelId: open }))).toBe('UNAUTHENTICATED');
    const page = await history(server.url, alice.token, { channelId: open });
    expect(page.edges.map((edge) => edge.node.body)).toEqual(['open']);
    expect((await history(server.url, bob.token, { channelId: secret })).edges).toHaveLength(1);
  });

  it('pages asked for at once are one statement, each answered as if alone', async () => {
    await sendMany(server, [alice, bob], publicId, 60);
    const pages = [10, 25, 40, 55, 25].map((before) => ({ forward: false, size: 7, after: null, before }));
    const alone = [];
    for (const page of pages) alone.push(await listPage(server.app.services.sql, { channelId: publicId }, page));
    const together = await countQueries(server.app, () => Promise.all(pages.map((page) => listPage(server.app.services.sql, { channelId: publicId }, page))));
    expect(together.queries.filter((sql) => /from messages m/.test(sql))).toHaveLength(1);
    expect(together.result).toEqual(alone);
    expect(alone[0].edges).toHaveLength(7);
    expect(alone[0].pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
    // Forward, from the start: nothing before the first page.
    const first = await listPage(server.app.services.sql, { channelId: publicId }, { forward: true, size: 5, after: null, before: null });
    expect(first.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
  });

  it("a page deep in history is one statement with its access check; its authors are the instance's copy of profiles", async () => {
    const sent = await sendMany(server, [alice, bob], publicId, 150);
    const before = messageCursor(60);
    const first = await history(server.url, alice.token, { channelId: publicId, last: 20, before });
    const again = await countQueries(server.app, () => history(server.url, alice.token, { channelId: publicId, last: 20, before }));
    expect(again.result).toEqual(first);
    expect(again.result.edges.map((edge) => [edge.node.id, edge.node.author.id])).toEqual(sent.slice(39, 59).map((message) => [message.id, message.author.id]));
    const pageStatements = again.queries.filter((sql) => /from messages m/.test(sql));
    expect(pageStatements).toHaveLength(1);
    // The channel and the viewer's membership come with the page, not by a statement of their own.
    expect(pageStatements[0]).toMatch(/from channels c left join memberships m/);
    expect(again.queries.filter((sql) => /from channels c|join channels c/.test(sql) && !/from messages m/.test(sql))).toEqual([]);
    expect(again.queries.filter((sql) => /\busers\b/.test(sql) && !/sessions/.test(sql))).toEqual([]);
  });

  it("answers a page's message reached by another path than edges.node.author with its author (a thread's root)", async () => {
    const THREAD_SEND = 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }';
    const root = await sendMessage(server.url, alice.token, publicId, 'root');
    await gqlOk(server.url, THREAD_SEND, { input: { channelId: publicId, body: 'reply', threadId: root.id } }, { token: bob.token });
    const ROOT_AUTHOR = 'query($channelId: ID!, $before: String) { messages(channelId: $channelId, last: 5, before: $before) { edges { node { id thread { root { id author { username } } } } } } }';
    await history(server.url, alice.token, { channelId: publicId, last: 5 }); // the window, filled
    for (const before of [null, messageCursor(100)]) {
      const data = await gqlOk<{ messages: { edges: Array<{ node: { id: string; thread: { root: { id: string; author: { username: string } } } | null } }> } }>(
        server.url,
        ROOT_AUTHOR,
        { channelId: publicId, before },
        { token: bob.token },
      );
      const node = data.messages.edges.find((edge) => edge.node.id === root.id)!.node;
      expect(node.thread).toEqual({ root: { id: root.id, author: { username: alice.username } } });
    }
  });

  it("a window page's edges are made once per message and author, and again when an author's profile changes", async () => {
    await sendMany(server, [alice, bob], publicId, 30);
    const scope = () => createRequestContext({ requestId: null, transport: 'http' as const, viewer: { userId: alice.id, sessionId: randomUUID() }, ip: null, userAgent: null });
    const { messages } = server.app.services;
    await messages.history(scope(), publicId, { last: 10 }); // fills the window
    const first = await messages.history(scope(), publicId, { last: 10 });
    const second = await messages.history(scope(), publicId, { last: 10 });
    expect(second.edges).toHaveLength(10);
    second.edges.forEach((edge, index) => expect(edge).toBe(first.edges[index]));
    await gqlOk(server.url, UPDATE_PROFILE, { input: { displayName: 'Renamed' } }, { token: bob.token });
    const third = await messages.history(scope(), publicId, { last: 10 });
    expect(third.edges.map((edge) => edge.node.id)).toEqual(first.edges.map((edge) => edge.node.id));
    for (const [index, edge] of third.edges.entries()) {
      if (edge.node.authorId === bob.id) {
        expect(edge).not.toBe(first.edges[index]);
        expect(edge.node.author?.displayName).toBe('Renamed');
      } else {
        expect(edge).toBe(first.edges[index]);
      }
    }
  });

  it('includes tombstones in history', async () => {
    const [first, second, third] = await sendMany(server, [alice], publicId, 3);
    await gqlOk(server.url, DELETE, { id: second.id }, { token: alice.token });
    for (const variables of [{ last: 10 }, { first: 10 }]) {
      const page = await history(server.url, bob.token, { channelId: publicId, ...variables });
      expect(page.edges.map((edge) => [edge.node.id, edge.node.deleted, edge.node.body])).toEqual([
        [first.id, false, first.body],
        [second.id, true, null],
        [third.id, false, third.body],
      ]);
    }
  });

  it('costs the same number of SQL statements for 10 and 100 messages with author, channel and myVote', async () => {
    const users = [alice, bob, ...(await Promise.all(Array.from({ length: 3 }, () => createUser(server.app))))];
    const sent = await sendMany(server, users, publicId, 100);
    for (const message of sent.filter((_, i) => i % 4 === 0)) {
      await gqlOk(server.url, VOTE, { id: message.id, value: 'UP' }, { token: alice.token });
    }
    const statements = async (variables: Record<string, unknown>) => {
      const { result, queries } = await countQueries(server.app, () => history(server.url, alice.token, { channelId: publicId, ...variables }));
      expect(result.edges.length).toBe((variables.first ?? variables.last) as number);
      expect(result.edges.every((edge) => edge.node.author.id && edge.node.channel.id === publicId)).toBe(true);
      return queries.length;
    };
    // From PostgreSQL (forward pages never use the cache).
    const small = await statements({ first: 10 });
    const large = await statements({ first: 100 });
    expect(large).toBe(small);
    expect(large).toBeLessThanOrEqual(6);
    // From the warm cache.
    await statements({ last: 100 });
    const cachedSmall = await statements({ last: 10 });
    const cachedLarge = await statements({ last: 100 });
    expect(cachedLarge).toBe(cachedSmall);
    expect(cachedLarge).toBeLessThanOrEqual(small);
  });

  it('answers the newest messages from the warm cache without reading messages from PostgreSQL', async () => {
    await sendMany(server, [alice, bob], publicId, 30);
    const cold = await countQueries(server.app, () => history(server.url, alice.token, { channelId: publicId, last: 20 }));
    expect(readsMessages(cold.queries)).toBe(true);
    const warm = await countQueries(server.app, () => history(server.url, alice.token, { channelId: publicId, last: 20 }));
    expect(readsMessages(warm.queries)).toBe(false);
    expect(warm.result).toEqual(cold.result);
    // A send appends to the warm cache: still no message read, and the new message is there.
    const added = await sendMessage(server.url, bob.token, publicId, 'appended');
    const afterSend = await countQueries(server.app, () => history(server.url, alice.token, { channelId: publicId, last: 5 }));
    expect(readsMessages(afterSend.queries)).toBe(false);
    expect(afterSend.result.edges[4].node.id).toBe(added.id);
  });

  it('gives the same answers from the cache as from PostgreSQL after sends, edits, deletions and votes', async () => {
    const users = [alice, bob];
    const tokenOf = (message: TestMessage) => (message.author.id === alice.id ? alice.token : bob.token);
    // Inside the cached window, across its lower edge, below it, and forward pages.
    const requests: Array<Record<string, unknown>> = [
      {},
      { last: 100 },
      { last: 7, before: messageCursor(105) },
      { last: 60, before: messageCursor(90) },
      { last: 30, before: messageCursor(40) },
      { last: 100, before: messageCursor(111) },
      { first: 30, after: messageCursor(80) },
    ];
    // Every request, as every user (myVote differs), as one JSON document.
    const answers = async (url: string) => {
      const all = await Promise.all(users.flatMap((user) => requests.map((variables) => history(url, user.token, { channelId: publicId, ...variables }))));
      return JSON.stringify(all);
    };
    // A second app with no Redis: an in-process cache, cold, reading PostgreSQL.
    const uncached = await startTestApp({ REDIS_URL: undefined });

    const deleted = new Set<string>();
    const mutate = async (candidates: TestMessage[], round: number) => {
      // Deleted messages are NOT_FOUND for edits and votes.
      const sent = candidates.filter((message) => !deleted.has(message.id));
      const writes: Array<Promise<unknown>> = [];
      for (const [i, message] of sent.entries()) {
        if (i % 7 === 0) writes.push(gqlOk(server.url, VOTE, { id: message.id, value: 'UP' }, { token: users[(i + round) % 2].token }));
        if (i % 11 === 0) writes.push(gqlOk(server.url, VOTE, { id: message.id, value: 'DOWN' }, { token: users[(i + round + 1) % 2].token }));
        if (i % 13 === 5) writes.push(gqlOk(server.url, EDIT, { id: message.id, body: `edited ${round}` }, { token: tokenOf(message) }));
      }
      await Promise.all(writes);
      // Deletions after the rest: an edit of a deleted message would be NOT_FOUND.
      const doomed = sent.filter((_, i) => i % 17 === 3);
      await Promise.all(doomed.map((message) => gqlOk(server.url, DELETE, { id: message.id }, { token: tokenOf(message) })));
      for (const message of doomed) deleted.add(message.id);
    };

    const sent = await sendMany(server, users, publicId, 110);
    await mutate(sent, 0);
    for (let round = 1; round <= 2; round += 1) {
      const filling = await answers(server.url); // fills the cache where cold
      const warm = await answers(server.url);
      await server.app.services.messages.recentCache.invalidate(publicId);
      const flushed = await answers(server.url);
      // The second app's own cache is cleared too: its answers come from PostgreSQL.
      await uncached.app.services.messages.recentCache.invalidate(publicId);
      const reference = await answers(uncached.url);
      expect(warm).toEqual(reference);
      expect(filling).toEqual(reference);
      expect(flushed).toEqual(reference);
      // More writes while the cache is warm: appends, votes, edits and deletions in and out of the window.
      const more = await sendMany(server, users, publicId, 15, `r${round}-`);
      await mutate([...sent.slice(-40), ...more], round);
    }
    await uncached.stop();
  }, 60_000);
});

describeWithRedis('messages: the recent-messages cache in Redis', () => {
  let server: TestApp;
  let alice: TestUser;
  let publicId: string;

  beforeAll(async () => {
    server = await startTestApp();
  });
  beforeEach(async () => {
    await resetState(server.app);
    alice = await createUser(server.app);
    publicId = await publicChannelId(server.app);
  });
  afterAll(async () => {
    await disposeAllWsClients();
    await stopAllApps();
  });

  it('keeps the newest 100 messages under the key prefix', async () => {
    await sendMany(server, [alice], publicId, 105);
    await history(server.url, alice.token, { channelId: publicId, last: 5 });
    await sendMany(server, [alice], publicId, 3, 'late');
    const redis = server.app.services.redis!.command;
    const key = `${server.app.services.config.redisKeyPrefix}recent:${publicId}`;
    const scores = (await redis.zrange(key, 0, -1, 'WITHSCORES')).filter((_, i) => i % 2 === 1).map(Number);
    // The marker (score 0), then seqs 9..108.
    expect(scores).toEqual([0, ...Array.from({ length: 100 }, (_, i) => i + 9)]);
  });

  it('drops a fill that raced with a write (stale data never overwrites newer data)', async () => {
    const message = await sendMessage(server.url, alice.token, publicId, 'original');
    const cache = server.app.services.messages.recentCache;
    const before = await cache.get(publicId);
    expect(before.window).toBeNull();
    // A reader read the version, then the database; meanwhile the message was edited.
    const [node] = (await history(server.url, alice.token, { channelId: publicId, first: 1 })).edges.map((edge) => edge.node);
    const stale = {
      older: false,
      messages: [{ ...node, channelId: publicId, seq: 1, authorId: alice.id, author: undefined, createdAt: new Date(node.createdAt), editedAt: null }],
    };
    await gqlOk(server.url, EDIT, { id: message.id, body: 'newer' }, { token: alice.token });
    await cache.fill(publicId, before.version, stale);
    expect((await cache.get(publicId)).window).toBeNull();
    // The same fill with the current version is stored (so the check above is the version's doing)...
    await cache.fill(publicId, (await cache.get(publicId)).version, stale);
    expect((await cache.get(publicId)).window?.messages[0].body).toBe('original');
    // Cleared again, a read fills from PostgreSQL and sees the edit.
    await cache.invalidate(publicId);
    const page = await history(server.url, alice.token, { channelId: publicId });
    expect(page.edges[0].node.body).toBe('newer');
  });

  /** Counts the cache's Redis reads (one `recentRead` round trip each) while `fn` runs. */
  async function countWindowReads<T>(fn: () => Promise<T>): Promise<{ result: T; reads: number }> {
    const reads = jest.spyOn(server.app.services.messages.recentCache as unknown as { read(channelId: string): Promise<unknown> }, 'read');
    try {
      const result = await fn();
      return { result, reads: reads.mock.calls.length };
    } finally {
      reads.mockRestore();
    }
  }

  it('readers of a channel asking at once share one Redis read; one asking after a write completed sees it', async () => {
    await sendMany(server, [alice], publicId, 10);
    const cache = server.app.services.messages.recentCache;
    await history(server.url, alice.token, { channelId: publicId, last: 5 }); // fills the window
    const { result: answers, reads } = await countWindowReads(() => Promise.all(Array.from({ length: 10 }, () => cache.get(publicId))));
    expect(reads).toBe(1);
    expect(new Set(answers.map((answer) => answer.version)).size).toBe(1);
    expect(answers[0].window?.messages).toHaveLength(10);
    await cache.invalidate(publicId);
    expect((await cache.get(publicId)).window).toBeNull();
  });

  it('a page before a cursor reads the window only when it can lie within it', async () => {
    const sent = await sendMany(server, [alice], publicId, 130);
    await history(server.url, alice.token, { channelId: publicId, last: 5 }); // fills the window (the newest 100)
    // The page before the newest 40 lies within the window: Redis, no messages statement.
    const near = await countQueries(server.app, () => countWindowReads(() => history(server.url, alice.token, { channelId: publicId, last: 50, before: messageCursor(91) })));
    expect(near.result.reads).toBe(1);
    expect(readsMessages(near.queries)).toBe(false);
    expect(near.result.result.edges.map((edge) => edge.node.id)).toEqual(sent.slice(40, 90).map((message) => message.id));
    // Deeper, it cannot: PostgreSQL only, no Redis round trip.
    const deep = await countQueries(server.app, () => countWindowReads(() => history(server.url, alice.token, { channelId: publicId, last: 50, before: messageCursor(60) })));
    expect(deep.result.reads).toBe(0);
    expect(readsMessages(deep.queries)).toBe(true);
    expect(deep.result.result.edges.map((edge) => edge.node.id)).toEqual(sent.slice(9, 59).map((message) => message.id));
  });

  it('a page below the window (by a last_seq seen before) is read with the access check, and dropped when it fails', async () => {
    const sent = await sendMany(server, [alice], publicId, 150);
    await history(server.url, alice.token, { channelId: publicId, last: 5 }); // this instance sees last_seq 150
    // Held behind a lock, the access check must not delay the page statement.
    const page = await sentBesideAccessCheck(server.app, /from messages m/, () => history(server.url, alice.token, { channelId: publicId, last: 10, before: messageCursor(40) }));
    expect(page.edges.map((edge) => edge.node.id)).toEqual(sent.slice(29, 39).map((message) => message.id));
    // Read for a channel the viewer may not see, the page is never answered.
    const bob = await createUser(server.app);
    const secret = await createChannelDirectly(server.app, { kind: ChannelKind.PRIVATE, ownerId: bob.id });
    await sendMessage(server.url, bob.token, secret, 'not for alice');
    await history(server.url, bob.token, { channelId: secret, last: 5 }); // its last_seq seen
    const response = await gql(server.url, HISTORY, { channelId: secret, first: 5 }, { token: alice.token });
    expect(errorCode(response)).toBe('NOT_FOUND');
    expect(response.data?.messages ?? null).toBeNull();
  });

  it('falls back to PostgreSQL when Redis fails, without failing the request', async () => {
    await sendMany(server, [alice], publicId, 5);
    const expected = await history(server.url, alice.token, { channelId: publicId, last: 5 });
    const service = server.app.services.messages as unknown as { recentCache: unknown };
    const working = service.recentCache;
    // Nothing listens on port 1: every command fails at once.
    // disconnectTimeout 0: disconnect() must not leave a timer that keeps the jest worker from exiting.
    const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, disconnectTimeout: 0 });
    dead.on('error', () => undefined);
    service.recentCache = new RedisRecentCache(dead, server.app.services.config.redisKeyPrefix, server.app.services.logger);
    try {
      expect(await history(server.url, alice.token, { channelId: publicId, last: 5 })).toEqual(expected);
      const sent = await sendMessage(server.url, alice.token, publicId, 'still works');
      await gqlOk(server.url, VOTE, { id: sent.id, value: 'UP' }, { token: alice.token });
      const page = await history(server.url, alice.token, { channelId: publicId, last: 1 });
      expect(page.edges[0].node).toMatchObject({ id: sent.id, upvotes: 1 });
    } finally {
      service.recentCache = working;
      dead.disconnect();
    }
  });
});

describe('messages: keyset pages are planned once per connection', () => {
  afterAll(() => stopAllApps());

  it('runs pages on connections with force_generic_plan (DB_POOL_MAX=5 keeps one), and answers with one connection in all', async () => {
    const server = await startTestApp({ DB_POOL_MAX: '5' });
    await resetState(server.app);
    const alice = await createUser(server.app);
    const publicId = await publicChannelId(server.app);
    // Deeper than the newest 100 (those come from the recent-messages window).
    const sent = await sendMany(server, [alice], publicId, 130);
    for (let before = 20; before < 28; before += 1) {
      const page = await history(server.url, alice.token, { channelId: publicId, last: 5, before: messageCursor(before) });
      expect(page.edges.map((edge) => edge.node.id)).toEqual(sent.slice(before - 6, before - 1).map((message) => message.id));
    }
    const { sql } = server.app.services;
    expect(await sql.plannedOnce.query('show plan_cache_mode')).toEqual([{ plan_cache_mode: 'force_generic_plan' }]);
    const plans = await sql.plannedOnce.query<{ name: string; generic_plans: string; custom_plans: string }>(
      "select name, generic_plans, custom_plans from pg_prepared_statements where name like 'messages_pages%'",
    );
    // The first page's access check runs first (no last_seq of the channel known yet), then its
    // page; the seven after it are read with their access check, by one statement each.
    expect(plans.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'messages_pages_channel_desc', generic_plans: '1', custom_plans: '0' },
      { name: 'messages_pages_channel_desc_visible', generic_plans: '7', custom_plans: '0' },
    ]);
    // The request pool keeps "auto" for everything else.
    expect(await sql.query('show plan_cache_mode')).toEqual([{ plan_cache_mode: 'auto' }]);

    const single = await startTestApp({ DB_POOL_MAX: '1' });
    expect(single.app.services.sql.plannedOnce).toBe(single.app.services.sql);
    const page = await history(single.url, alice.token, { channelId: publicId, last: 5, before: messageCursor(30) });
    expect(page.edges.map((edge) => edge.node.id)).toEqual(sent.slice(24, 29).map((message) => message.id));
  });
});
