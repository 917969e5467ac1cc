import { createApp, type App } from '../src/app';
import { testConfig } from './helpers/app';
import { createUser } from './helpers/factories';
import { gql } from './helpers/graphql';
import { PrivatePostgres, usePrivateRedis } from './helpers/processes';
import { resetState } from './helpers/db';
import { connectWs } from './helpers/ws';
import { CHANNEL_EVENTS, sendMessage, waitForStreams } from './helpers/realtime';

// These tests stop and restart their own Redis and PostgreSQL servers, never the shared ones.

async function startApp(env: Record<string, string>): Promise<{ app: App; url: string; base: string }> {
  const app = await createApp(testConfig({ REDIS_KEY_PREFIX: 'fault:', DB_STATEMENT_TIMEOUT_MS: '2000', ...env }), { migrate: false });
  const { url } = await app.start();
  return { app, url, base: url.replace(/\/graphql$/, '') };
}

async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in time; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('PostgreSQL restarted under a running server', () => {
  let postgres: PrivatePostgres;
  let app: App | undefined;
  beforeAll(async () => {
    postgres = await PrivatePostgres.start();
  }, 90_000);
  afterAll(async () => {
    await app?.stop();
    await postgres.destroy();
  });

  it('fails requests during the outage within 5 s with SERVICE_UNAVAILABLE, then recovers without a restart', async () => {
    const started = await startApp({ DATABASE_URL: postgres.url });
    app = started.app;
    const user = await createUser(app);
    const me = () => gql(started.url, '{ me { id } }', {}, { token: user.token });
    expect((await me()).data).toEqual({ me: { id: user.id } });

    const channels = await gql<{ myChannels: Array<{ id: string }> }>(started.url, '{ myChannels { id } }', {}, { token: user.token });
    const channelId = channels.data!.myChannels[0].id;
    const SEND = 'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id } }';
    expect((await gql(started.url, SEND, { input: { channelId, body: 'before' } }, { token: user.token })).errors).toBeUndefined();

    await postgres.stop();
    const began = Date.now();
    const during = await me();
    expect(Date.now() - began).toBeLessThan(5000);
    expect(during.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
    const failedSend = await gql(started.url, SEND, { input: { channelId, body: 'during' } }, { token: user.token });
    expect(failedSend.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(Date.now() - began).toBeLessThan(10_000);
    expect(JSON.stringify(during)).not.toMatch(/ECONNREFUSED|5432|stack/i);
    const ready = await fetch(`${started.base}/readyz`);
    expect(ready.status).toBe(503);

    await postgres.resume();
    const after = await eventually(me, (response) => response.data?.me?.id === user.id);
    expect(after.errors).toBeUndefined();
    expect((await fetch(`${started.base}/readyz`)).status).toBe(200);
    // No partial write: the failed send left nothing behind, and sequence numbers stay gapless.
    expect((await gql(started.url, SEND, { input: { channelId, body: 'after' } }, { token: user.token })).errors).toBeUndefined();
    const rows = await app.services.orm.em.getConnection().execute<{ body: string; seq: string }[]>('select body, seq from messages where channel_id = ? order by seq', [channelId]);
    expect(rows.map((row) => [row.body, Number(row.seq)])).toEqual([
      ['before', 1],
      ['after', 2],
    ]);
  }, 90_000);
});

describe('Redis unavailable, then back', () => {
  let app: App | undefined;
  const own = usePrivateRedis(async () => app?.stop());

  it('keeps answering, reports it on /readyz, counts failed publishes, and recovers by itself', async () => {
    const started = await startApp({ REDIS_URL: own.redis.url });
    app = started.app;
    const user = await createUser(app);
    expect((await fetch(`${started.base}/readyz`)).status).toBe(200);

    await own.redis.stop();
    const ready = await eventually(() => fetch(`${started.base}/readyz`), (response) => response.status === 503);
    expect(((await ready.json()) as { checks: { redis: string } }).checks.redis).not.toBe('ok');
    // Requests that do not need Redis keep working.
    expect((await gql(started.url, '{ me { id } }', {}, { token: user.token })).data).toEqual({ me: { id: user.id } });
    const failuresBefore = app.services.bus.stats.publishFailures;
    await app.services.bus.publish('probe', { type: 'probe' });
    expect(app.services.bus.stats.publishFailures).toBe(failuresBefore + 1);

    await own.redis.resume();
    await eventually(() => fetch(`${started.base}/readyz`), (response) => response.status === 200);
    await app.stop();
  }, 60_000);

  it('commits and acknowledges sends, then live streams, resumes and the cache catch up by themselves', async () => {
    const started = await startApp({ REDIS_URL: own.redis.url });
    app = started.app;
    const server = { app, url: started.url, wsUrl: started.url.replace(/^http/, 'ws'), port: 0, stop: () => app!.stop() };
    await resetState(app);
    const alice = await createUser(app);
    const bob = await createUser(app);
    const { data } = await gql<{ myChannels: Array<{ id: string }> }>(started.url, '{ myChannels { id } }', {}, { token: alice.token });
    const channelId = data!.myChannels[0].id;
    const history = async () =>
      (await gql<{ messages: { edges: Array<{ node: { body: string } }> } }>(started.url, 'query ($c: ID!) { messages(channelId: $c, last: 20) { edges { node { body } } } }', { c: channelId }, { token: bob.token })).data!.messages.edges.map((edge) => edge.node.body);

    const live = connectWs(server.wsUrl, bob.token).subscribe(CHANNEL_EVENTS, { channelId });
    await waitForStreams(app, 1);
    await sendMessage(server, alice.token, channelId, 'one');
    await live.waitFor(1);
    const cursorAfterOne: string = live.results[0].data!.channelEvents.cursor;
    expect(await history()).toEqual(['one']);

    await own.redis.stop();
    const failuresBefore = app.services.bus.stats.publishFailures;
    // Sends commit and return while Redis is away; their events cannot be published.
    await sendMessage(server, alice.token, channelId, 'two');
    await sendMessage(server, alice.token, channelId, 'three');
    expect(app.services.bus.stats.publishFailures).toBeGreaterThan(failuresBefore);
    expect(await history()).toEqual(['one', 'two', 'three']);

    await own.redis.resume();
    await eventually(() => fetch(`${started.base}/readyz`), (response) => response.status === 200);
    // The next live message reveals the gap; the stream fills it from PostgreSQL, in order.
    await eventually(
      async () => {
        await sendMessage(server, alice.token, channelId, `after ${Date.now()}`);
        return live.results.length;
      },
      (count) => count >= 4,
    );
    const committed = await history();
    expect(committed.slice(0, 3)).toEqual(['one', 'two', 'three']);
    // The live stream got every committed message exactly once, in order.
    await live.waitFor(committed.length);
    expect(live.results.map((result) => result.data!.channelEvents.message?.body)).toEqual(committed);

    // A client resuming from its cursor gets everything after it, exactly once.
    const resumed = connectWs(server.wsUrl, bob.token).subscribe(CHANNEL_EVENTS, { channelId, after: cursorAfterOne });
    await resumed.waitFor(committed.length - 1);
    expect(resumed.results.map((result) => result.data!.channelEvents.message.body)).toEqual(committed.slice(1));
  }, 60_000);
});
