// Issue 14, points 11 and 3: the inbox resumes after a cursor (replay from PostgreSQL, then
// live, with nothing lost or repeated), and its cost does not grow with the viewer's channels.
import { randomUUID } from 'node:crypto';
import { createApp, type App } from '../src/app';
import { describeWithRedis, testConfig, useTestServer } from './helpers/app';
import { createUser } from './helpers/factories';
import { gql } from './helpers/graphql';
import { usePrivateRedis } from './helpers/processes';
import { publicChannelId, waitUntil } from './helpers/realtime';
import { collectGarbage } from './helpers/memory';
import { sendMessage } from './helpers/messages';
import { connectWs, disposeAllWsClients, type TestSubscription } from './helpers/ws';

const INBOX = 'subscription { inbox { cursor message { id body } } }';
const INBOX_AFTER = `subscription ($after: String) { inbox(after: $after) { inboxCursor message { id body channel { id } } } }`;

type InboxEvent = { inbox: { inboxCursor: string; message: { id: string; body: string; channel: { id: string } } } };

function bodies(subscription: TestSubscription<InboxEvent>): string[] {
  return subscription.results.map((result) => {
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data!.inbox.message.body;
  });
}

describe('inbox(after:) across a Redis outage (issue 14, point 11)', () => {
  let app: App | undefined;
  const own = usePrivateRedis(async () => app?.stop());

  it('a client that resubscribes with the cursor of the last event it got receives every message sent meanwhile, once, in order', async () => {
    app = await createApp(testConfig({ REDIS_URL: own.redis.url, REDIS_KEY_PREFIX: 'inbox14:' }), { migrate: false });
    const { url } = await app.start();
    const wsUrl = url.replace(/^http/, 'ws');
    const [viewer, sender] = await Promise.all([createUser(app), createUser(app)]);
    const publicId = await publicChannelId(app);
    // A second channel of both, so the cursor spans channels.
    const { data } = await gql<{ createChannel: { id: string } }>(url, 'mutation ($input: CreateChannelInput!) { createChannel(input: $input) { id } }', { input: { name: `inbox-${randomUUID().slice(0, 8)}`, kind: 'PUBLIC' } }, { token: sender.token });
    const otherId = data!.createChannel.id;
    await gql(url, 'mutation ($id: ID!) { joinChannel(channelId: $id) { id } }', { id: otherId }, { token: viewer.token });

    const ws = connectWs(wsUrl, viewer.token);
    const live = ws.subscribe<InboxEvent>(INBOX_AFTER);
    await waitUntil(() => app!.services.realtime.activeStreams >= 1, 'the inbox stream');
    const channelOf = (index: number) => (index % 2 === 0 ? publicId : otherId);
    for (let index = 0; index < 6; index += 1) await sendMessage(url, sender.token, channelOf(index), `before-${index}`);
    await live.waitFor(6);
    expect(bodies(live)).toEqual(['before-0', 'before-1', 'before-2', 'before-3', 'before-4', 'before-5']);

    // Redis goes away: sends still commit, their events are lost.
    await own.redis.stop();
    for (let index = 0; index < 10; index += 1) await sendMessage(url, sender.token, channelOf(index), `during-${index}`);
    await own.redis.resume();
    await waitUntil(() => app!.services.redis!.subscriber.status === 'ready', 'the subscriber connection back');

    // The client reconnects with the cursor of the last event it received.
    const cursor = live.results[live.results.length - 1].data!.inbox.inboxCursor;
    await ws.dispose();
    const again = connectWs(wsUrl, viewer.token);
    const resumed = again.subscribe<InboxEvent>(INBOX_AFTER, { after: cursor });
    await resumed.waitFor(10);
    for (let index = 0; index < 4; index += 1) await sendMessage(url, sender.token, channelOf(index), `after-${index}`);
    await resumed.waitFor(14);
    expect(bodies(resumed)).toEqual([
      ...Array.from({ length: 10 }, (_, index) => `during-${index}`),
      ...Array.from({ length: 4 }, (_, index) => `after-${index}`),
    ]);
  }, 60_000);

});

/** What a user can hold open, at the default limits, may grow the server's RSS by at most this (docs/limits.md). */
const MAX_RSS_GROWTH_MB = 96;

describeWithRedis('inbox cost (issue 14, point 3)', () => {
  const suite = useTestServer();

  it('refuses a malformed cursor with BAD_USER_INPUT on after', async () => {
    const viewer = await createUser(suite.server.app);
    const ws = connectWs(suite.server.wsUrl, viewer.token);
    const refused = await ws.subscribe(INBOX_AFTER, { after: 'bm90LWEtY3Vyc29y' }).next();
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    await ws.dispose();
  });

  it('a user in the most channels allowed, with the most sockets and inbox subscriptions allowed, grows RSS by less than the documented bound', async () => {
    const { app, wsUrl } = suite.server;
    const { config, sql } = app.services;
    const viewer = await createUser(app);
    // Memberships up to the cap (`public` is one), made in one statement.
    const extra = config.limits.maxChannelsPerUser - 1;
    await sql.query(
      `with made as (
         insert into channels (id, name, kind, owner_id, member_count, created_at)
         select gen_random_uuid(), 'cap-' || substr(md5(random()::text), 1, 12) || '-' || n, 'PUBLIC', $1, 1, now() from generate_series(1, $2) n
         returning id)
       insert into memberships (channel_id, user_id, role, joined_at) select id, $1, 'OWNER', now() from made`,
      [viewer.id, extra],
    );
    const sockets = config.ws.maxConnectionsPerUser;
    const perSocket = config.ws.maxSubscriptionsPerConnection;

    // Warm up: one socket with one inbox, so what is measured is what the others add.
    const first = connectWs(wsUrl, viewer.token);
    first.subscribe(INBOX);
    await waitUntil(() => app.services.realtime.activeStreams >= 1, 'the first inbox', 20_000);
    // RSS after full collections: what the streams hold, not garbage of earlier suites in this worker.
    collectGarbage();
    const before = process.memoryUsage().rss;

    const clients = [first, ...Array.from({ length: sockets - 1 }, () => connectWs(wsUrl, viewer.token))];
    for (const [index, client] of clients.entries()) {
      for (let n = index === 0 ? 1 : 0; n < perSocket; n += 1) client.subscribe(INBOX);
    }
    await waitUntil(() => app.services.realtime.activeStreams >= sockets * perSocket, `${sockets * perSocket} inbox streams`, 120_000);
    collectGarbage();
    const grownMb = (process.memoryUsage().rss - before) / 1024 / 1024;
    console.log(`inbox cost: ${sockets} sockets x ${perSocket} inbox subscriptions, ${extra + 1} channels: RSS +${grownMb.toFixed(1)} MB`);
    expect(grownMb).toBeLessThan(MAX_RSS_GROWTH_MB);

    // Every one of them still delivers (a message in one of the many channels).
    const sender = await createUser(app);
    const channelIds = await sql.query<{ channel_id: string }>('select channel_id from memberships where user_id = $1 order by joined_at desc limit 1', [viewer.id]);
    await sql.query("insert into memberships (channel_id, user_id, role, joined_at) values ($1, $2, 'MEMBER', now())", [channelIds[0].channel_id, sender.id]);
    await sendMessage(suite.server.url, sender.token, channelIds[0].channel_id, 'to the many');
    await disposeAllWsClients();
  }, 180_000);
});
