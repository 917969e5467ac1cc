import WebSocket from 'ws';
import { ServerCloseCode } from '../src/realtime/close-code';
import { Topic } from '../src/domain/topics';
import { resetState } from './helpers/db';
import { gqlOk } from './helpers/graphql';
import { startTestApp, stopAllApps, type TestApp } from './helpers/app';
import { createUser, type TestUser } from './helpers/factories';
import { sendMessage } from './helpers/messages';

/** A raw graphql-transport-ws client that has subscribed to channelEvents. */
async function subscribedSocket(server: TestApp, user: TestUser, channelId: string, options: WebSocket.ClientOptions = {}) {
  const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws', options);
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const acked = new Promise<void>((resolve) => socket.on('message', (data) => JSON.parse(String(data)).type === 'connection_ack' && resolve()));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${user.token}` } }));
  await acked;
  socket.send(JSON.stringify({ id: 'events', type: 'subscribe', payload: { query: 'subscription ($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageUpdated { message { id body } } } }', variables: { c: channelId } } }));
  return { socket, closed };
}

async function waitForStreams(server: TestApp, count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (server.app.services.realtime.activeStreams < count) {
    if (Date.now() > deadline) throw new Error('subscription did not start');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('graphql-ws transport: dead peers and slow readers', () => {
  let server: TestApp;
  beforeAll(async () => {
    server = await startTestApp({ WS_KEEPALIVE_MS: '200' });
  });
  beforeEach(() => resetState(server.app));
  afterAll(stopAllApps);

  it('drops a peer that stops answering pings within two keep-alive intervals', async () => {
    const user = await createUser(server.app);
    const { myChannels } = await gqlOk(server.url, '{ myChannels { id } }', {}, { token: user.token });
    const { socket, closed } = await subscribedSocket(server, user, myChannels[0].id, { autoPong: false });
    const started = Date.now();
    const code = await closed;
    expect(code).toBe(1006); // terminated: no close frame
    expect(Date.now() - started).toBeLessThan(2000);
    socket.terminate();
  });

  it('disconnects a client whose unsent data passes WS_MAX_BUFFERED_BYTES instead of buffering without bound', async () => {
    // Its own server: a paused reader cannot answer pings, and the short keep-alive above would drop it first.
    const server = await startTestApp({ WS_MAX_BUFFERED_BYTES: '65536' });
    const user = await createUser(server.app);
    const { myChannels } = await gqlOk(server.url, '{ myChannels { id } }', {}, { token: user.token });
    const channelId = myChannels[0].id;
    const message = await sendMessage(server.url, user.token, channelId, 'x');
    const { socket, closed } = await subscribedSocket(server, user, channelId);
    await waitForStreams(server, 1);
    // Stop reading: the kernel buffers fill, then the server's own send buffer grows.
    (socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const big = 'y'.repeat(4000);
    let code: number | undefined;
    void closed.then((c) => (code = c));
    const updated = { ...message, channelId, seq: 1, authorId: user.id, body: big, createdAt: new Date(), editedAt: new Date(), deleted: false, upvotes: 0, downvotes: 0 };
    for (let batch = 0; batch < 50 && code === undefined; batch += 1) {
      await Promise.all(Array.from({ length: 100 }, () => server.app.services.bus.publish(Topic.channel(channelId), { type: 'MessageUpdated', message: updated })));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    (socket as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await closed).toBe(ServerCloseCode.SlowConsumer);
    // The server stays healthy.
    expect(await gqlOk(server.url, '{ __typename }')).toEqual({ __typename: 'Query' });
  }, 30_000);
});
