import { countQueries } from './helpers/db';
import { errorCode, gql, gqlOk, type GraphQLResponse } from './helpers/graphql';
import { useTestServer } from './helpers/app';
import { createUser, type TestUser } from './helpers/factories';
import { connectWs } from './helpers/ws';
import { commitMessageSilently, createChannel, sendMessage, waitForStreams } from './helpers/realtime';
import { recordChannelEvents } from './helpers/messages';

const GROUP_FIELDS = 'reactions { emoji count reactedByMe users { id username } }';
const ADD = `mutation ($id: ID!, $emoji: String!) { addReaction(messageId: $id, emoji: $emoji) { id ${GROUP_FIELDS} } }`;
const REMOVE = `mutation ($id: ID!, $emoji: String!) { removeReaction(messageId: $id, emoji: $emoji) { id ${GROUP_FIELDS} } }`;
const DELETE = 'mutation ($id: ID!) { deleteMessage(messageId: $id) { id deleted reactions { emoji } } }';
const HISTORY = `query ($c: ID!, $last: Int) { messages(channelId: $c, last: $last) { edges { node { id ${GROUP_FIELDS} } } } }`;
const JOIN = 'mutation ($c: ID!) { joinChannel(channelId: $c) { id } }';

interface Group {
  emoji: string;
  count: number;
  reactedByMe: boolean;
  users: Array<{ id: string; username: string }>;
}
type MessageAnswer = { id: string; reactions: Group[] };

describe('reactions', () => {
  // No profile copy: a test here compares the statements of two renders, and the first would
  // leave the second its profiles (5 statements against 6, seen in a clean-clone run).
  const suite = useTestServer({ PROFILE_CACHE_TTL_MS: '0' });
  let owner: TestUser;
  let bob: TestUser;
  let channelId: string;
  let messageId: string;

  const url = () => suite.server.url;
  const add = (user: TestUser, emoji: string, id = messageId) => gql<{ addReaction: MessageAnswer }>(url(), ADD, { id, emoji }, { token: user.token });
  const remove = (user: TestUser, emoji: string, id = messageId) => gql<{ removeReaction: MessageAnswer }>(url(), REMOVE, { id, emoji }, { token: user.token });
  const groupsAs = async (user: TestUser): Promise<Group[]> => {
    const data = await gqlOk<{ messages: { edges: Array<{ node: MessageAnswer }> } }>(url(), HISTORY, { c: channelId, last: 20 }, { token: user.token });
    return data.messages.edges.find((edge) => edge.node.id === messageId)!.node.reactions;
  };
  const storedCounts = async (): Promise<Record<string, number>> => {
    const rows = await suite.server.app.services.sql.query<{ emoji: string; count: number }>(
      'select emoji, count(*)::int as count from message_reactions where message_id = $1 group by emoji',
      [messageId],
    );
    return Object.fromEntries(rows.map((row) => [row.emoji, row.count]));
  };
  const joinAll = (users: TestUser[]) => Promise.all(users.map((user) => gqlOk(url(), JOIN, { c: channelId }, { token: user.token })));

  beforeEach(async () => {
    [owner, bob] = await Promise.all([createUser(suite.server.app), createUser(suite.server.app)]);
    channelId = await createChannel(suite.server, owner.token, `react${Date.now() % 1e6}${Math.floor(Math.random() * 1e4)}`);
    await joinAll([bob]);
    messageId = (await sendMessage(suite.server, owner.token, channelId, 'react to me')).id;
  });

  it('adds and removes idempotently: groups in order of first use, exact counts, reactedByMe per viewer, emoji as sent', async () => {
    const first = await add(bob, '👍');
    expect(first.errors).toBeUndefined();
    expect(first.data!.addReaction.reactions).toEqual([{ emoji: '👍', count: 1, reactedByMe: true, users: [{ id: bob.id, username: bob.username }] }]);
    // Twice: nothing changes.
    expect((await add(bob, '👍')).data!.addReaction.reactions).toEqual(first.data!.addReaction.reactions);
    await add(owner, ':tada:');
    await add(owner, '👍');
    // Groups in order of first use; users oldest first; reactedByMe is each viewer's own.
    expect(await groupsAs(owner)).toEqual([
      { emoji: '👍', count: 2, reactedByMe: true, users: [{ id: bob.id, username: bob.username }, { id: owner.id, username: owner.username }] },
      { emoji: ':tada:', count: 1, reactedByMe: true, users: [{ id: owner.id, username: owner.username }] },
    ]);
    expect((await groupsAs(bob)).map((group) => [group.emoji, group.reactedByMe])).toEqual([
      ['👍', true],
      [':tada:', false],
    ]);
    // Removing one not added changes nothing; a group at zero disappears.
    expect((await remove(bob, ':tada:')).data!.removeReaction.reactions.map((group) => [group.emoji, group.count])).toEqual([
      ['👍', 2],
      [':tada:', 1],
    ]);
    expect((await remove(owner, ':tada:')).data!.removeReaction.reactions.map((group) => group.emoji)).toEqual(['👍']);
    await remove(owner, '👍');
    await remove(bob, '👍');
    expect(await groupsAs(bob)).toEqual([]);
    expect(await storedCounts()).toEqual({});
  });

  it('lists the first ten users, oldest first, and counts them all', async () => {
    const users = await Promise.all(Array.from({ length: 12 }, () => createUser(suite.server.app)));
    await joinAll(users);
    for (const user of users) expect((await add(user, '🔥')).errors).toBeUndefined();
    const [group] = await groupsAs(owner);
    expect(group.count).toBe(12);
    expect(group.reactedByMe).toBe(false);
    expect(group.users.map((user) => user.id)).toEqual(users.slice(0, 10).map((user) => user.id));
  }, 120_000);

  it('answers reactedByMe and the first ten users in a group of hundreds (past the size whose users come with the group)', async () => {
    // 250 reactions of seeded users, stored directly (oldest first), then bob's through the API.
    await suite.server.app.services.sql.query(
      `with seeded as (
         insert into users (id, email, username, username_key, display_name, password_hash)
         select gen_random_uuid(), 'bulk' || i || '@example.test', 'bulk' || i, 'bulk' || i, 'bulk' || i, 'x' from generate_series(1, 250) i
         returning id, username)
       insert into message_reactions (message_id, user_id, emoji, created_at)
       select $1, id, '🔥', now() - interval '1 hour' + (substr(username, 5)::int) * interval '1 second' from seeded`,
      [messageId],
    );
    await add(bob, '🔥');
    const asBob = (await groupsAs(bob))[0];
    const asOwner = (await groupsAs(owner))[0];
    expect([asBob.count, asBob.reactedByMe, asOwner.reactedByMe]).toEqual([251, true, false]);
    expect(asBob.users.map((user) => user.username)).toEqual(Array.from({ length: 10 }, (_, i) => `bulk${i + 1}`));
  }, 120_000);

  it('accepts one Unicode emoji (ZWJ, skin tone, flag, keycap) or a :shortcode:, and rejects anything else with BAD_USER_INPUT on emoji', async () => {
    const accepted = ['👍', '👨‍👩‍👧‍👦', '👍🏽', '🇫🇷', '1️⃣', '#️⃣', '❤️', '🏳️‍🌈', ':+1:', ':thumbs_up-2:', `:${'a'.repeat(32)}:`];
    for (const emoji of accepted) {
      const response = await add(bob, emoji);
      expect([emoji, response.errors]).toEqual([emoji, undefined]);
    }
    // Returned exactly as sent, in order.
    expect((await groupsAs(bob)).map((group) => group.emoji)).toEqual(accepted);
    const rejected = ['👍👍', 'a', 'ok', '', ' ', '👍 ', ':', '::', ':Tada:', ':ta da:', `:${'a'.repeat(33)}:`, '1', '©', '👍:+1:', 'x'.repeat(200)];
    for (const emoji of rejected) {
      for (const response of [await add(bob, emoji), await remove(bob, emoji)] as GraphQLResponse[]) {
        expect([emoji, errorCode(response), response.errors?.[0]?.extensions?.field]).toEqual([emoji, 'BAD_USER_INPUT', 'emoji']);
      }
    }
    expect(Object.keys(await storedCounts()).sort()).toEqual([...accepted].sort());
  });

  it('FORBIDDEN for who may not send (not a member, banned, timed out); NOT_FOUND for what the viewer cannot read, unknown or deleted messages; nothing written', async () => {
    const outsider = await createUser(suite.server.app);
    expect(errorCode(await add(outsider, '👍'))).toBe('FORBIDDEN');
    // Timed out: FORBIDDEN until the timeout ends.
    await gqlOk(url(), 'mutation ($c: ID!, $u: ID!) { muteInChannel(channelId: $c, userId: $u, durationSeconds: 600) { id } }', { c: channelId, u: bob.id }, { token: owner.token });
    expect(errorCode(await add(bob, '👍'))).toBe('FORBIDDEN');
    expect(errorCode(await remove(bob, '👍'))).toBe('FORBIDDEN');
    // Banned (which also ends the membership).
    const carol = await createUser(suite.server.app);
    await joinAll([carol]);
    await gqlOk(url(), 'mutation ($c: ID!, $u: ID!) { banFromChannel(channelId: $c, userId: $u) { id } }', { c: channelId, u: carol.id }, { token: owner.token });
    expect(errorCode(await add(carol, '👍'))).toBe('FORBIDDEN');
    // A message in a private channel the viewer is not in: NOT_FOUND, as unknown and malformed ids.
    const privateId = await createChannel(suite.server, owner.token, `priv${Date.now() % 1e6}`, 'PRIVATE');
    const hidden = await sendMessage(suite.server, owner.token, privateId, 'secret');
    expect(errorCode(await add(outsider, '👍', hidden.id))).toBe('NOT_FOUND');
    expect(errorCode(await add(outsider, '👍', '00000000-0000-4000-8000-000000000000'))).toBe('NOT_FOUND');
    expect(errorCode(await add(outsider, '👍', 'not-an-id'))).toBe('NOT_FOUND');
    // Signed out.
    expect(errorCode(await gql(url(), ADD, { id: messageId, emoji: '👍' }))).toBe('UNAUTHENTICATED');
    expect(await storedCounts()).toEqual({});
  });

  it('a deletion removes the reactions in its transaction; a deleted message takes none (NOT_FOUND) and answers an empty list', async () => {
    await add(bob, '👍');
    await add(owner, '🎉');
    const deleted = await gqlOk<{ deleteMessage: { deleted: boolean; reactions: Group[] } }>(url(), DELETE, { id: messageId }, { token: owner.token });
    expect(deleted.deleteMessage).toMatchObject({ deleted: true, reactions: [] });
    expect(await storedCounts()).toEqual({});
    expect(errorCode(await add(bob, '👍'))).toBe('NOT_FOUND');
    expect(errorCode(await remove(bob, '👍'))).toBe('NOT_FOUND');
    expect(await groupsAs(bob)).toEqual([]);
  });

  it('keeps counts exact with 32 clients adding and removing at once', async () => {
    const users = await Promise.all(Array.from({ length: 32 }, () => createUser(suite.server.app)));
    await joinAll(users);
    const emojis = ['👍', '🎉', ':eyes:'];
    // Round 1: everyone adds two emoji, twice over (repeats change nothing).
    await Promise.all(users.flatMap((user, i) => [add(user, emojis[i % 3]), add(user, emojis[(i + 1) % 3]), add(user, emojis[i % 3])]));
    // Round 2: a third remove one, others remove what they never added, all at once with more adds.
    const round2 = await Promise.all(
      users.flatMap((user, i) => (i % 3 === 0 ? [remove(user, emojis[i % 3]), remove(user, emojis[(i + 2) % 3])] : [add(user, emojis[(i + 1) % 3]), remove(user, emojis[(i + 2) % 3])])),
    );
    expect(round2.every((response) => response.errors === undefined)).toBe(true);
    const expected: Record<string, number> = {};
    users.forEach((_, i) => {
      const mine = new Set([emojis[i % 3], emojis[(i + 1) % 3]]);
      if (i % 3 === 0) mine.delete(emojis[i % 3]);
      for (const emoji of mine) expected[emoji] = (expected[emoji] ?? 0) + 1;
    });
    const stored = await storedCounts();
    expect(stored).toEqual(expected);
    const groups = await groupsAs(owner);
    expect(Object.fromEntries(groups.map((group) => [group.emoji, group.count]))).toEqual(expected);
  }, 120_000);

  it('publishes MessageUpdated for every change and nothing for a repeat', async () => {
    const recorder = await recordChannelEvents(suite.server.app, channelId);
    await add(bob, '👍');
    await add(bob, '👍');
    await remove(bob, '🎉');
    await remove(bob, '👍');
    await sendMessage(suite.server, owner.token, channelId, 'marker');
    await recorder.waitFor(3);
    recorder.stop();
    expect(recorder.events.map((event) => [event.type, 'message' in event ? event.message.id : null])).toEqual([
      ['MessageUpdated', messageId],
      ['MessageUpdated', messageId],
      ['MessageAdded', expect.any(String)],
    ]);
  });

  it('renders reactedByMe for each subscriber of a live stream (two users), and shared fields alike for both', async () => {
    const EVENTS = `subscription ($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageUpdated { message { id reactions { emoji count reactedByMe users { id } } } } } }`;
    const before = suite.server.app.services.realtime.activeStreams;
    const asOwner = connectWs(suite.server.wsUrl, owner.token).subscribe(EVENTS, { c: channelId });
    const asBob = connectWs(suite.server.wsUrl, bob.token).subscribe(EVENTS, { c: channelId });
    await waitForStreams(suite.server.app, before + 2);
    // Each event shows the reactions as they are when rendered: the next change waits for it.
    await add(bob, '👍');
    await Promise.all([asOwner.waitFor(1), asBob.waitFor(1)]);
    await add(owner, '🎉');
    await Promise.all([asOwner.waitFor(2), asBob.waitFor(2)]);
    const reactions = (subscription: typeof asOwner) => subscription.results.map((result) => result.data!.channelEvents.message.reactions);
    expect(reactions(asBob)[0]).toEqual([{ emoji: '👍', count: 1, reactedByMe: true, users: [{ id: bob.id }] }]);
    expect(reactions(asOwner)[0]).toEqual([{ emoji: '👍', count: 1, reactedByMe: false, users: [{ id: bob.id }] }]);
    expect(reactions(asBob)[1].map((group: Group) => [group.emoji, group.reactedByMe])).toEqual([
      ['👍', true],
      ['🎉', false],
    ]);
    expect(reactions(asOwner)[1].map((group: Group) => [group.emoji, group.reactedByMe])).toEqual([
      ['👍', false],
      ['🎉', true],
    ]);
  });

  it('fans a reaction change out to many per-viewer subscribers with the SQL of one: their lookups share statements', async () => {
    const EVENTS = `subscription ($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageUpdated { message { id pinned reactions { emoji count reactedByMe users { id } } } } } }`;
    const readers = await Promise.all(Array.from({ length: 4 }, () => createUser(suite.server.app)));
    await joinAll(readers);
    const subscribeAll = async (users: TestUser[]) => {
      const before = suite.server.app.services.realtime.activeStreams;
      const subscriptions = users.map((user) => connectWs(suite.server.wsUrl, user.token).subscribe(EVENTS, { c: channelId }));
      await waitForStreams(suite.server.app, before + users.length);
      return subscriptions;
    };
    // The statements of rendering the event (the message, its reactions and pin, their users):
    // what per-viewer rendering could repeat per subscriber. Other statements in the window
    // (session checks of the new sockets, the throttled last_used_at touch, background work of
    // the app) belong to neither and made the comparison flaky in CI.
    const perEvent = (queries: string[]) => queries.filter((sql) => /message_reactions|message_pins|\busers\b|\bmessages\b/.test(sql) && !/\bsessions\b/.test(sql)).length;
    const [single] = await subscribeAll([readers[0]]);
    const one = await countQueries(suite.server.app, async () => {
      await add(bob, '👍');
      await single.waitFor(1);
    });
    const many = await subscribeAll(readers.slice(1));
    const four = await countQueries(suite.server.app, async () => {
      await add(owner, '👍');
      await Promise.all([single, ...many].map((subscription) => subscription.waitFor(subscription === single ? 2 : 1)));
    });
    expect(perEvent(one.queries)).toBeGreaterThan(0);
    // Shared: four subscribers cost what one does. On a loaded machine their renders may fall
    // into two turns of the event loop, so two batches (seen once in a full CI run: 7 vs 5);
    // rendered one by one, each of the three more would add its own lookups. Either run may also
    // share a batch with the mutation's own answer (it selects the same fields), one statement
    // fewer than the other run (seen twice in full runs: 5 vs 6), so the floor is only non-zero.
    expect(perEvent(four.queries)).toBeGreaterThan(0);
    expect(perEvent(four.queries)).toBeLessThan(2 * perEvent(one.queries));
    // Each still got its own reactedByMe (none of the readers reacted).
    for (const subscription of [single, ...many]) {
      expect(subscription.results.at(-1)!.data!.channelEvents.message.reactions).toEqual([{ emoji: '👍', count: 2, reactedByMe: false, users: [{ id: bob.id }, { id: owner.id }] }]);
    }
  }, 120_000);

  it('reads a 50-message page with reactions, their users and pins in a fixed number of statements', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 50; i += 1) ids.push((await commitMessageSilently(suite.server.app, channelId, owner.id, `m${i}`)).id);
    await Promise.all(ids.map((id, i) => add(i % 2 ? owner : bob, i % 3 ? '👍' : ':x:', id)));
    const PAGE = `query ($c: ID!) { messages(channelId: $c, last: 50) { edges { node { id pinned reactions { emoji count reactedByMe users { id } } } } } }`;
    const { result, queries } = await countQueries(suite.server.app, () => gqlOk<{ messages: { edges: Array<{ node: MessageAnswer }> } }>(url(), PAGE, { c: channelId }, { token: owner.token }));
    expect(result.messages.edges.filter((edge) => edge.node.reactions.length === 1)).toHaveLength(50);
    const reads = queries.filter((sql) => /message_reactions|message_pins/.test(sql));
    // One for the groups (small groups carry all their users: reactedByMe needs no other), one for the pins.
    expect(reads).toHaveLength(2);
    expect(queries.length).toBeLessThan(12);
  }, 120_000);

  it('counts capped lists at their cap: messages(last: 20) with reactions and their users passes the default cost limit', async () => {
    const QUERY = `query ($c: ID!) { messages(channelId: $c, last: 20) { edges { cursor node { id body pinned author { id username }
      reactions { emoji count reactedByMe users { id username displayName } } } } pageInfo { hasPreviousPage startCursor } } }`;
    const response = await gql(url(), QUERY, { c: channelId }, { token: owner.token });
    expect(response.errors).toBeUndefined();
    // Uncapped lists are still priced as before: a channel's pins (50) of pages of 20 nested twice is too much.
    const tooMuch = await gql(url(), `query ($c: ID!) { messages(channelId: $c, last: 50) { edges { node { channel { pinnedMessages { channel { pinnedMessages { id } } } } } } } }`, { c: channelId }, { token: owner.token });
    expect(errorCode(tooMuch)).toBe('QUERY_TOO_COMPLEX');
  });
});
