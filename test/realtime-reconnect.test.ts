// A slow consumer is cut off with a close code the official graphql-ws client retries, and a
// client that resubscribes with its last cursor loses nothing: proved with graphql-ws's own
// createClient, which reconnects by itself and resends the subscribe payload it was given.
import WebSocket from 'ws';
import { ServerCloseCode } from '../src/realtime/close-code';
import { Topic } from '../src/domain/topics';
import { startTestApp, stopAllApps } from './helpers/app';
import { resetState } from './helpers/db';
import { createUser } from './helpers/factories';
import { gqlOk } from './helpers/graphql';
import { sendMessage } from './helpers/messages';
import { waitForStreams, waitUntil } from './helpers/realtime';
import { retryingClient } from './helpers/ws';

const EVENTS = `subscription ($c: ID!, $after: String) {
  channelEvents(channelId: $c, after: $after) {
    __typename
    ... on MessageAdded { cursor message { id body } }
    ... on MessageUpdated { message { body } }
  }
}`;

afterAll(stopAllApps);

it('a slow consumer is closed with 1013, the official client reconnects by itself and resumes by cursor, each message exactly once', async () => {
  // A small send buffer, and keep-alive pings far apart (a paused reader cannot answer them).
  const server = await startTestApp({ WS_MAX_BUFFERED_BYTES: '65536', WS_KEEPALIVE_MS: '600000' });
  await resetState(server.app);
  const user = await createUser(server.app);
  const { myChannels } = await gqlOk(server.url, '{ myChannels { id } }', {}, { token: user.token });
  const channelId: string = myChannels[0].id;
  const first = await sendMessage(server.url, user.token, channelId, 'm0');

  const { client, seen, pauseReading, resumeReading } = retryingClient(server.wsUrl, { authorization: `Bearer ${user.token}` });
  const received: string[] = [];
  const firstCursor: string = (await gqlOk(server.url, 'query ($c: ID!) { messages(channelId: $c, first: 1) { edges { cursor } } }', { c: channelId }, { token: user.token }))
    .messages.edges[0].cursor;
  // The client resends this very object on every reconnect: keeping the last cursor in it resumes there.
  const variables = { c: channelId, after: firstCursor };
  let failed: unknown = null;
  const dispose = client.subscribe<{ channelEvents: { __typename: string; cursor?: string; message: { id: string; body: string } } }>(
    { query: EVENTS, variables },
    {
      next: ({ data }) => {
        const event = data?.channelEvents;
        if (event?.__typename !== 'MessageAdded') return;
        received.push(event.message.body);
        variables.after = event.cursor!;
      },
      error: (error) => (failed = error),
      complete: () => undefined,
    },
  );
  try {
    await waitForStreams(server.app, 1);
    await sendMessage(server.url, user.token, channelId, 'm1');
    await waitUntil(() => received.includes('m1'), 'm1 live');

    // Stop reading; flood the socket until the server gives up on it, sending real messages meanwhile.
    pauseReading();
    const big = { id: first.id, channelId, seq: 1, authorId: user.id, body: 'y'.repeat(4000), createdAt: new Date(), editedAt: new Date(), deleted: false, upvotes: 0, downvotes: 0 };
    const gap: string[] = [];
    // Closing starts the close handshake (the socket stays CLOSING until the client reads again).
    const serverSocketOpen = () => [...server.app.ws.wss.clients].some((socket) => socket.readyState === WebSocket.OPEN);
    for (let batch = 0; batch < 50 && serverSocketOpen(); batch += 1) {
      gap.push(`gap${batch}`);
      await sendMessage(server.url, user.token, channelId, `gap${batch}`);
      await Promise.all(Array.from({ length: 100 }, () => server.app.services.bus.publish(Topic.channel(channelId), { type: 'MessageUpdated', message: big })));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(serverSocketOpen()).toBe(false);
    // Sent while the client has no connection.
    gap.push('while-away');
    await sendMessage(server.url, user.token, channelId, 'while-away');
    resumeReading();

    await waitUntil(() => seen.connections >= 2, 'the client to reconnect', 15_000);
    await waitForStreams(server.app, 1);
    await sendMessage(server.url, user.token, channelId, 'after');
    await waitUntil(() => received.includes('after'), 'the message after reconnecting', 15_000);

    expect(seen.closes[0]).toBe(ServerCloseCode.SlowConsumer);
    expect(failed).toBeNull();
    // Every message exactly once, in order: what the dead socket delivered, then the replay from the cursor.
    expect(received).toEqual(['m1', ...gap, 'after']);
  } finally {
    dispose();
    await client.dispose();
    await server.stop();
  }
}, 60_000);
