import { startTestApp, stopAllApps, testRedisPrefix, type TestApp } from './helpers/app';
import { createUser, type TestUser } from './helpers/factories';
import { errorCode, gql, gqlOk } from './helpers/graphql';
import { haveRedisBinaries, PrivateRedisCluster } from './helpers/processes';
import { CHANNEL_EVENTS, createChannel, sendMessage, waitForStreams, waitUntil } from './helpers/realtime';
import { connectWs, disposeAllWsClients } from './helpers/ws';
import { Topic } from '../src/domain/topics';

// Two app instances on a Redis Cluster of our own (three masters, one replica each): events,
// resume, revocation, presence and rate limits cross instances through it, and a shard's
// master may die. Without redis-server this suite is skipped visibly, and fails in CI.
const available = haveRedisBinaries();
if (!available && process.env.REQUIRE_REDIS === '1') throw new Error('REQUIRE_REDIS=1 but redis-server/redis-cli are not installed (the Redis Cluster tests need them)');
const describeWithCluster = available ? describe : describe.skip;

const HISTORY = 'query ($c: ID!) { messages(channelId: $c, last: 100) { edges { node { body } } } }';
const ONLINE = 'query ($id: ID!) { user(id: $id) { online } }';
const CREATE = 'mutation ($name: String!) { createChannel(input: { name: $name, kind: PUBLIC }) { id } }';

describeWithCluster(`Redis Cluster [${available ? 'redis-server found' : 'SKIPPED: no redis-server'}]`, () => {
  let cluster: PrivateRedisCluster;
  let a: TestApp;
  let b: TestApp;
  const prefix = `${testRedisPrefix()}cluster:`;

  beforeAll(async () => {
    cluster = await PrivateRedisCluster.start();
    const env = { REDIS_URL: cluster.url, REDIS_KEY_PREFIX: prefix, RATE_LIMIT_CREATE_CHANNEL: '3/60' };
    [a, b] = await Promise.all([startTestApp(env), startTestApp(env)]);
  }, 90_000);
  afterAll(async () => {
    await disposeAllWsClients();
    await stopAllApps();
    await cluster?.destroy();
  });

  async function channelWithReader(): Promise<{ alice: TestUser; bob: TestUser; channelId: string }> {
    const alice = await createUser(a.app);
    const bob = await createUser(a.app);
    const channelId = await createChannel(a, alice.token, `cl${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`);
    await gqlOk(b.url, 'mutation ($c: ID!) { joinChannel(channelId: $c) { id } }', { c: channelId }, { token: bob.token });
    return { alice, bob, channelId };
  }

  /** Subscribes and waits until the instance's stream is live (counting from the streams already open there). */
  async function follow(server: TestApp, token: string, channelId: string, after?: string) {
    const before = server.app.services.realtime.activeStreams;
    const socket = connectWs(server.wsUrl, token);
    const stream = socket.subscribe(CHANNEL_EVENTS, after === undefined ? { channelId } : { channelId, after });
    await waitForStreams(server.app, before + 1);
    return { socket, stream };
  }

  const history = async (server: TestApp, token: string, channelId: string) =>
    (await gqlOk<{ messages: { edges: Array<{ node: { body: string } }> } }>(server.url, HISTORY, { c: channelId }, { token })).messages.edges.map((edge) => edge.node.body);

  it('runs on a cluster and carries channel events over sharded pub/sub on the shard owning the channel', async () => {
    expect(a.app.services.redis!.command.isCluster).toBe(true);
    const { alice, bob, channelId } = await channelWithReader();
    const { stream: onB } = await follow(b, bob.token, channelId);
    const { stream: onA } = await follow(a, alice.token, channelId);

    const topic = prefix + Topic.channel(channelId);
    const owner = cluster.masterPortOf(topic);
    // Both instances follow the topic on its shard (SSUBSCRIBE), none through classic SUBSCRIBE.
    expect(cluster.cli(owner, 'pubsub', 'shardnumsub', topic).trim().split('\n')).toEqual([topic, '2']);
    expect(cluster.cli(owner, 'pubsub', 'numsub', topic).trim().split('\n')).toEqual([topic, '0']);

    await sendMessage(a, alice.token, channelId, 'from A');
    await sendMessage(b, bob.token, channelId, 'from B');
    await Promise.all([onA.waitFor(2), onB.waitFor(2)]);
    for (const stream of [onA, onB]) expect(stream.results.map((result) => result.data!.channelEvents.message.body)).toEqual(['from A', 'from B']);
    // The recent-messages window (two keys under one hash tag) serves both instances alike.
    expect(await history(b, bob.token, channelId)).toEqual(['from A', 'from B']);
    await sendMessage(b, bob.token, channelId, 'third');
    expect(await history(a, alice.token, channelId)).toEqual(['from A', 'from B', 'third']);
    // …and the window really is in the cluster (its scripts would fail CROSSSLOT without the tag).
    const cached = await b.app.services.messages.recentCache.get(channelId);
    expect(cached.window?.messages.map((message) => message.body)).toEqual(['from A', 'from B', 'third']);
  }, 30_000);

  it('resumes a stream on the other instance from its cursor, exactly once', async () => {
    const { alice, bob, channelId } = await channelWithReader();
    const { socket, stream: live } = await follow(b, bob.token, channelId);
    await sendMessage(a, alice.token, channelId, 'one');
    await live.waitFor(1);
    const cursor: string = live.results[0].data!.channelEvents.cursor;
    await socket.dispose();
    for (const body of ['two', 'three']) await sendMessage(a, alice.token, channelId, body);
    const resumed = connectWs(a.wsUrl, bob.token).subscribe(CHANNEL_EVENTS, { channelId, after: cursor });
    await resumed.waitFor(2);
    await sendMessage(b, alice.token, channelId, 'four');
    await resumed.waitFor(3);
    expect(resumed.results.map((result) => result.data!.channelEvents.message.body)).toEqual(['two', 'three', 'four']);
  }, 30_000);

  it('closes sockets on one instance when their session is revoked on the other (the instance-wide topic)', async () => {
    const alice = await createUser(a.app);
    const socket = connectWs(b.wsUrl, alice.token);
    socket.subscribe(CHANNEL_EVENTS, { channelId: (await gqlOk<{ myChannels: Array<{ id: string }> }>(a.url, '{ myChannels { id } }', {}, { token: alice.token })).myChannels[0].id });
    await waitUntil(() => b.app.ws.userSocketCount(alice.id) === 1, 'the socket on B');
    expect(await gqlOk(a.url, 'mutation { logout }', {}, { token: alice.token })).toEqual({ logout: true });
    expect(await socket.closed).toBe(4403);
    await waitUntil(() => b.app.ws.userSocketCount(alice.id) === 0, 'B to drop the socket');
  }, 30_000);

  it('reports presence across instances', async () => {
    const alice = await createUser(a.app);
    const bob = await createUser(a.app);
    const online = async () => (await gqlOk<{ user: { online: boolean } }>(a.url, ONLINE, { id: bob.id }, { token: alice.token })).user.online;
    expect(await online()).toBe(false);
    const socket = connectWs(b.wsUrl, bob.token);
    socket.subscribe(CHANNEL_EVENTS, { channelId: (await gqlOk<{ myChannels: Array<{ id: string }> }>(a.url, '{ myChannels { id } }', {}, { token: bob.token })).myChannels[0].id });
    await waitUntil(online, 'bob online as seen from A');
    await socket.dispose();
    await waitUntil(async () => !(await online()), 'bob offline as seen from A');
  }, 30_000);

  it('counts rate limits across instances', async () => {
    const alice = await createUser(a.app);
    const name = () => `rl${Date.now().toString(36)}${Math.floor(Math.random() * 1e6)}`;
    await gqlOk(a.url, CREATE, { name: name() }, { token: alice.token });
    await gqlOk(b.url, CREATE, { name: name() }, { token: alice.token });
    await gqlOk(a.url, CREATE, { name: name() }, { token: alice.token });
    expect(errorCode(await gql(b.url, CREATE, { name: name() }, { token: alice.token }))).toBe('RATE_LIMITED');
    expect(errorCode(await gql(a.url, CREATE, { name: name() }, { token: alice.token }))).toBe('RATE_LIMITED');
  }, 30_000);

  it('survives a failover of the shard owning a channel: nothing acknowledged is lost, live or resumed', async () => {
    const { alice, bob, channelId } = await channelWithReader();
    const { stream: live } = await follow(b, bob.token, channelId);
    await sendMessage(a, alice.token, channelId, 'before');
    await live.waitFor(1);
    const cursor: string = live.results[0].data!.channelEvents.cursor;

    // Sends keep coming while the master dies and its replica is promoted; only those
    // acknowledged count (a send may fail while the shard is away).
    const acknowledged = ['before'];
    let sending = true;
    const sender = (async () => {
      for (let i = 0; sending; i += 1) {
        const body = `during ${i}`;
        const response = await gql(a.url, 'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id } }', { input: { channelId, body } }, { token: alice.token });
        if (!response.errors) acknowledged.push(body);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    })();
    const killed = await cluster.stopMasterOf(prefix + Topic.channel(channelId));
    expect(cluster.masterPortOf(prefix + Topic.channel(channelId))).not.toBe(killed);
    sending = false;
    await sender;

    // The subscription moved to the new master: a message sent now arrives live, and the
    // stream fills any gap from PostgreSQL, in order.
    let committed: string[] = [];
    await waitUntil(
      async () => {
        const body = `after ${acknowledged.length}`;
        await sendMessage(a, alice.token, channelId, body);
        acknowledged.push(body);
        committed = await history(b, bob.token, channelId);
        return live.results.length >= committed.length;
      },
      'live delivery on the promoted replica',
      20_000,
    );
    // Every acknowledged send committed (a send that failed mid-way may have committed too).
    expect(committed.filter((body) => acknowledged.includes(body))).toEqual(acknowledged);
    expect(live.results.map((result) => result.data!.channelEvents.message.body)).toEqual(committed);

    // A client resuming from its cursor (on either instance) gets everything after it, exactly once.
    const resumed = connectWs(a.wsUrl, bob.token).subscribe(CHANNEL_EVENTS, { channelId, after: cursor });
    await resumed.waitFor(committed.length - 1);
    expect(resumed.results.map((result) => result.data!.channelEvents.message.body)).toEqual(committed.slice(1));
  }, 90_000);
});
