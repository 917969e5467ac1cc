import { createApp, type App } from '../src/app';
import { testConfig, startTestApp, stopAllApps } from './helpers/app';
import { createUser } from './helpers/factories';
import { gql } from './helpers/graphql';
import { LOGOUT } from './helpers/accounts';

const ME = '{ me { id } }';
import { usePrivateRedis } from './helpers/processes';
import { connectWs, delay, disposeAllWsClients, type TestWsClient } from './helpers/ws';
import { CHANNEL_EVENTS, waitForStreams } from './helpers/realtime';

// Issue 14, point 1: a socket's session is checked without relying on Redis (a revocation
// published while it was down never arrives) and closes at its expiry.

const SEND = 'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id } }';

/** A query over the socket: its result, or the close code when the server closed the socket instead. */
async function overSocket(client: TestWsClient, query: string, variables: Record<string, unknown> = {}): Promise<{ data?: any; errors?: any[] } | { closed: number }> {
  const operation = client.subscribe(query, variables);
  const result = await Promise.race([operation.next(5000).catch(() => null), client.closed.then((code) => ({ closed: code }))]);
  return result ?? { closed: await Promise.race([client.closed, delay(2000).then(() => -1)]) };
}

function closedWithin(client: TestWsClient, ms: number): Promise<number | 'open'> {
  return Promise.race([client.closed, delay(ms).then(() => 'open' as const)]);
}

describe('a logout while Redis is down reaches open sockets', () => {
  let app: App | undefined;
  const own = usePrivateRedis(async () => app?.stop());

  it('an operation started after it closes the socket with 4403, and every other socket of the session closes once Redis is back', async () => {
    app = await createApp(testConfig({ REDIS_URL: own.redis.url, REDIS_KEY_PREFIX: 'sessions14:' }), { migrate: false });
    const { url } = await app.start();
    const wsUrl = url.replace(/^http/, 'ws');
    const alice = await createUser(app);
    const { data } = await gql<{ myChannels: Array<{ id: string }> }>(url, '{ myChannels { id } }', {}, { token: alice.token });
    const channelId = data!.myChannels[0].id;

    const listening = connectWs(wsUrl, alice.token);
    const events = listening.subscribe(CHANNEL_EVENTS, { channelId });
    await waitForStreams(app, 1);
    const working = connectWs(wsUrl, alice.token);
    expect(await overSocket(working, ME)).toEqual({ data: { me: { id: alice.id } } });

    await own.redis.stop();
    expect((await gql(url, LOGOUT, {}, { token: alice.token })).data).toEqual({ logout: true });
    expect((await gql(url, ME, {}, { token: alice.token })).data).toEqual({ me: null });
    // Past the moment an earlier check is reused.
    await delay(1100);
    expect(await overSocket(working, SEND, { input: { channelId, body: 'after logout' } })).toEqual({ closed: 4403 });
    const rows = await app.services.orm.em.getConnection().execute<{ n: string }[]>('select count(*) as n from messages where body = ?', ['after logout']);
    expect(Number(rows[0].n)).toBe(0);

    await own.redis.resume();
    expect(await closedWithin(listening, 10_000)).toBe(4403);
    expect(events.isCompleted() || events.results.length === 0).toBe(true);
  }, 60_000);
});

describe('sockets of sessions that expire', () => {
  afterEach(async () => {
    await disposeAllWsClients();
    await stopAllApps();
  });

  it('close at the idle expiry when unused, with 4403', async () => {
    const server = await startTestApp({ SESSION_IDLE_TTL_SECONDS: '2' });
    const alice = await createUser(server.app);
    const socket = connectWs(server.wsUrl, alice.token);
    expect(await overSocket(socket, ME)).toEqual({ data: { me: { id: alice.id } } });
    expect(await closedWithin(socket, 6000)).toBe(4403);
    expect((await gql(server.url, ME, {}, { token: alice.token })).data).toEqual({ me: null });
  }, 30_000);

  it('operations on the socket count as use, and the socket closes at the absolute expiry', async () => {
    const server = await startTestApp({ SESSION_IDLE_TTL_SECONDS: '2', SESSION_ABSOLUTE_TTL_SECONDS: '5' });
    const alice = await createUser(server.app);
    const socket = connectWs(server.wsUrl, alice.token);
    const began = Date.now();
    // Busy for 4 s: past the idle TTL twice over, but in use.
    while (Date.now() - began < 4000) {
      expect(await overSocket(socket, ME)).toEqual({ data: { me: { id: alice.id } } });
      await delay(400);
    }
    expect((await gql(server.url, ME, {}, { token: alice.token })).data).toEqual({ me: { id: alice.id } });
    expect(await closedWithin(socket, 4000)).toBe(4403);
    expect((await gql(server.url, ME, {}, { token: alice.token })).data).toEqual({ me: null });
  }, 30_000);
});
