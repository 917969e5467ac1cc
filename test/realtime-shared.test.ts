import { countQueries, resetState } from './helpers/db';
import { gqlOk } from './helpers/graphql';
import { startTestApp, stopAllApps, type TestApp } from './helpers/app';
import { createUser, type TestUser } from './helpers/factories';
import { connectWs, disposeAllWsClients, type TestSubscription } from './helpers/ws';
import { createChannel, sendMessage, waitForStreams } from './helpers/realtime';

const SHARED = `subscription ($channelId: ID!) { channelEvents(channelId: $channelId) {
  __typename ... on MessageUpdated { message { id upvotes channel { id kind } author { username } } } } }`;
const PER_VIEWER = `subscription ($channelId: ID!) { channelEvents(channelId: $channelId) {
  __typename ... on MessageUpdated { message { id upvotes myVote channel { id isMember } } } } }`;

// One event, many subscribers: a viewer-independent document is executed once per event
// on an instance (WS_SHARED_EXECUTION); one with per-viewer fields still once per viewer.
describe('shared execution of subscription events', () => {
  let server: TestApp;
  let owner: TestUser;
  let readers: TestUser[];
  let channelId: string;
  beforeAll(async () => {
    server = await startTestApp();
  });
  beforeEach(async () => {
    await resetState(server.app);
    owner = await createUser(server.app);
    readers = await Promise.all([1, 2, 3, 4].map(() => createUser(server.app)));
    channelId = await createChannel(server, owner.token, 'shared');
    for (const reader of readers) {
      await gqlOk(server.url, 'mutation ($c: ID!) { joinChannel(channelId: $c) { id } }', { c: channelId }, { token: reader.token });
    }
  });
  afterAll(async () => {
    await disposeAllWsClients();
    await stopAllApps();
  });

  async function subscribeAll(query: string, users: TestUser[]): Promise<TestSubscription[]> {
    const before = server.app.services.realtime.activeStreams;
    const subscriptions = users.map((user) => connectWs(server.wsUrl, user.token).subscribe(query, { channelId }));
    await waitForStreams(server.app, before + users.length);
    return subscriptions;
  }

  const vote = (user: TestUser, id: string, value: string) =>
    gqlOk(server.url, 'mutation ($id: ID!, $v: VoteValue!) { vote(messageId: $id, value: $v) { id } }', { id, v: value }, { token: user.token });

  it('costs the same SQL for four subscribers as for one when the document is viewer-independent', async () => {
    const message = await sendMessage(server, owner.token, channelId, 'vote on me');
    const [single] = await subscribeAll(SHARED, [readers[0]]);
    const one = await countQueries(server.app, async () => {
      await vote(owner, message.id, 'UP');
      await single.waitFor(1);
    });
    const many = await subscribeAll(SHARED, readers.slice(1));
    const four = await countQueries(server.app, async () => {
      await vote(owner, message.id, 'DOWN');
      await Promise.all([single, ...many].map((subscription) => subscription.waitFor(single === subscription ? 2 : 1)));
    });
    const perEvent = (queries: string[]) => queries.filter((sql) => !/"sessions"/.test(sql)).length;
    expect(perEvent(four.queries)).toBe(perEvent(one.queries));
    for (const subscription of many) {
      expect(subscription.results[0].data!.channelEvents.message).toMatchObject({ id: message.id, upvotes: 0, channel: { id: channelId, kind: 'PUBLIC' }, author: { username: owner.username } });
    }
  });

  it('still resolves per-viewer fields for each subscriber', async () => {
    const message = await sendMessage(server, owner.token, channelId, 'mine to vote');
    await vote(readers[0], message.id, 'UP');
    const subscriptions = await subscribeAll(PER_VIEWER, readers.slice(0, 2));
    await vote(readers[1], message.id, 'DOWN');
    await Promise.all(subscriptions.map((subscription) => subscription.waitFor(1)));
    const [first, second] = subscriptions.map((subscription) => subscription.results[0].data!.channelEvents.message);
    expect(first.myVote).toBe('UP');
    expect(second.myVote).toBe('DOWN');
    expect(first.channel.isMember && second.channel.isMember).toBe(true);
  });
});
