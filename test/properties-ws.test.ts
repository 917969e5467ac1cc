// Property-based tests over graphql-ws: hostile arguments to the subscriptions (channelEvents,
// inbox), to queries and mutations sent over the socket, and hostile connection parameters.
// Only the contract's error codes, sockets close only with protocol codes, no unhandled
// rejection in this process (which hosts the app), and the server stays healthy.
import fc from 'fast-check';
import { resetState } from './helpers/db';
import { gqlOk } from './helpers/graphql';
import { startTestApp, stopAllApps, type TestApp } from './helpers/app';
import { connectWs, disposeAllWsClients, type TestWsClient } from './helpers/ws';
import { MARK_READ } from './helpers/channels';
import { EDIT, HISTORY, SEND, VOTE } from './helpers/messages';
import { CHANNEL_EVENTS, INBOX } from './helpers/realtime';
import {
  anyJson,
  assertProperty,
  buildWorld,
  closeRawSockets,
  type CrashRecorder,
  errorLogRows,
  expectContractErrors,
  expectHealthy,
  GENEROUS_LIMITS,
  hostileCursor,
  hostileId,
  hostileInt,
  hostileString,
  installCrashRecorder,
  sometimesWrong,
  type World,
} from './helpers/security';

/** Runs per property; PROPERTY_RUNS=500 explores further (fast-check prints the seed of any failure). */
const NUM_RUNS = Number(process.env.PROPERTY_RUNS) || 30;

describe('properties: hostile input over graphql-ws', () => {
  let server: TestApp;
  let world: World;
  let crashes: CrashRecorder;
  let client: TestWsClient;
  let cursors: string[];
  let ids: string[];

  beforeAll(async () => {
    crashes = installCrashRecorder();
    server = await startTestApp(GENEROUS_LIMITS);
    await resetState(server.app);
    world = await buildWorld(server);
    const history = await gqlOk(server.url, HISTORY, { channelId: world.bobPrivate.id, last: 5 }, { token: world.bob.token });
    const ownHistory = await gqlOk(server.url, HISTORY, { channelId: world.bobPublic.id, last: 5 }, { token: world.alice.token });
    cursors = [...history.messages.edges, ...ownHistory.messages.edges].map((e: any) => e.cursor);
    ids = [world.publicId, world.bobPrivate.id, world.direct.id, world.bobPublic.id, world.bobPublicUnjoined.id, world.bobPublic.messageId, world.bobPrivate.messageId, world.bob.id];
    client = connectWs(server.wsUrl, world.alice.token);
  });
  afterAll(async () => {
    await client.dispose();
    await expectHealthy(server, world.alice);
    expect(await errorLogRows(server.app)).toEqual([]);
    crashes.assertClean();
  });
  afterAll(async () => {
    closeRawSockets();
    await disposeAllWsClients();
    await stopAllApps();
    crashes.uninstall();
  });

  async function waitFor(predicate: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  it('channelEvents(channelId, after): an error with a contract code, or a live stream', async () => {
    await assertProperty(
      NUM_RUNS,
      fc.asyncProperty(
        fc.record({
          channelId: sometimesWrong(fc.oneof(fc.constant(world.bobPublic.id), hostileId(ids))),
          after: fc.option(sometimesWrong(hostileCursor(cursors)), { nil: undefined }),
        }),
        async (variables) => {
          const before = server.app.services.realtime.activeStreams;
          const subscription = client.subscribe(CHANNEL_EVENTS, variables);
          // Either it fails (an error result), or it goes live (replaying or waiting for events).
          await waitFor(() => subscription.results.length > 0 || subscription.isCompleted() || server.app.services.realtime.activeStreams > before, 'an answer');
          for (const result of subscription.results) expectContractErrors(result, variables);
          subscription.unsubscribe();
          await waitFor(() => server.app.services.realtime.activeStreams <= before, 'the stream to close');
        },
      ),
    );
  });

  it('inbox, with variables it does not declare', async () => {
    await assertProperty(
      NUM_RUNS,
      fc.asyncProperty(fc.dictionary(fc.string({ maxLength: 10 }), anyJson, { maxKeys: 4 }), async (variables) => {
        const before = server.app.services.realtime.activeStreams;
        const subscription = client.subscribe(INBOX, variables);
        await waitFor(() => subscription.results.length > 0 || subscription.isCompleted() || server.app.services.realtime.activeStreams > before, 'an answer');
        for (const result of subscription.results) expectContractErrors(result, variables);
        subscription.unsubscribe();
        await waitFor(() => server.app.services.realtime.activeStreams <= before, 'the stream to close');
      }),
    );
  });

  it('queries and mutations over the socket', async () => {
    const SET_TYPING = 'mutation($id: ID!) { setTyping(channelId: $id) }';
    const operation = fc.oneof(
      fc.record({ channelId: sometimesWrong(hostileId(ids)), first: fc.option(sometimesWrong(hostileInt), { nil: undefined }), before: fc.option(hostileCursor(cursors), { nil: undefined }) }).map((v) => [HISTORY, v] as const),
      fc.record({ input: sometimesWrong(fc.record({ channelId: fc.oneof(fc.constant(world.bobPublic.id), hostileId(ids)), body: hostileString(), clientMessageId: fc.option(hostileString({ maxLong: 300 }), { nil: undefined }) })) }).map((v) => [SEND, v] as const),
      fc.record({ id: hostileId(ids), body: hostileString() }).map((v) => [EDIT, v] as const),
      fc.record({ id: hostileId(ids), value: sometimesWrong(fc.oneof(fc.constantFrom('UP', 'DOWN', 'NONE'), hostileString({ maxLong: 100 }))) }).map((v) => [VOTE, v] as const),
      fc.record({ id: hostileId(ids), messageId: fc.option(hostileId(ids), { nil: undefined }) }).map((v) => [MARK_READ, v] as const),
      fc.record({ id: sometimesWrong(hostileId(ids)) }).map((v) => [SET_TYPING, v] as const),
    );
    await assertProperty(
      NUM_RUNS * 2,
      fc.asyncProperty(operation, async ([query, variables]) => {
        // Frames over WS_MAX_PAYLOAD_BYTES close the socket with 1009 (limits.test.ts): not this property's subject.
        fc.pre(Buffer.byteLength(JSON.stringify({ query, variables })) < 60 * 1024);
        const result = await client.subscribe(query, variables).next();
        expectContractErrors(result, variables);
        expect(result.data !== undefined || (result.errors?.length ?? 0) > 0).toBe(true);
      }),
    );
  });

  it('connection parameters of any shape: a 4403 close or an authenticated-or-anonymous connection', async () => {
    const authorization = fc.oneof(
      hostileString({ maxLong: 20_000 }),
      hostileString({ maxLong: 500 }).map((s) => `Bearer ${s}`),
      fc.constant(`Bearer ${world.alice.token}`),
      fc.constant(`bearer   ${world.alice.token}  `),
      fc.constant(`Bearer ${world.alice.token}\u0000`),
      anyJson,
    );
    await assertProperty(
      NUM_RUNS,
      fc.asyncProperty(fc.record({ authorization: fc.option(authorization, { nil: undefined }), extra: fc.option(anyJson, { nil: undefined }) }), async (params) => {
        const socket = connectWs(server.wsUrl, null, { connectionParams: params as Record<string, unknown> });
        try {
          const me = socket.subscribe('{ me { id } }');
          // A refused connection ends the operation without a result.
          await waitFor(() => me.results.length > 0 || me.isCompleted(), 'an answer or a close');
          if (me.results.length === 0) {
            expect({ params, closed: await socket.closed }).toEqual({ params, closed: 4403 });
          } else {
            expectContractErrors(me.results[0], params);
            const viewer = me.results[0].data?.me;
            expect(viewer === null || viewer?.id === world.alice.id).toBe(true);
          }
        } finally {
          await socket.dispose();
        }
      }),
    );
  });
});
