// graphql-ws protocol edge cases not covered by limits.test.ts: frames the client library
// would never send. Each is answered by the protocol's close code or an error message, and
// leaves the server healthy (HTTP and a fresh subscription work, nothing logged as internal,
// no unhandled rejection in this process, which hosts the app).
import { resetState } from './helpers/db';
import { gql } from './helpers/graphql';
import { startTestApp, stopAllApps, type TestApp } from './helpers/app';
import { createUser, type TestUser } from './helpers/factories';
import { disposeAllWsClients } from './helpers/ws';
import { SEND } from './helpers/messages';
import { CHANNEL_EVENTS, topicSubscribers, waitUntil } from './helpers/realtime';
import { Topic } from '../src/domain/topics';
import { closeRawSockets, type CrashRecorder, errorLogRows, expectContractErrors, expectHealthy, installCrashRecorder, rawSocket, type RawSocket } from './helpers/security';

describe('graphql-ws protocol edge cases', () => {
  let server: TestApp;
  let user: TestUser;
  let crashes: CrashRecorder;

  beforeAll(async () => {
    crashes = installCrashRecorder();
    server = await startTestApp();
  });
  beforeEach(async () => {
    await resetState(server.app);
    user = await createUser(server.app);
  });
  afterEach(async () => {
    await expectHealthy(server, user);
    expect(await errorLogRows(server.app)).toEqual([]);
    crashes.assertClean();
    // Streams of this test must not count in the next one.
    closeRawSockets();
    await disposeAllWsClients();
    await waitForStreams(0, 'at most');
  });
  afterAll(async () => {
    closeRawSockets();
    await disposeAllWsClients();
    await stopAllApps();
    crashes.uninstall();
  });

  async function signedIn(): Promise<RawSocket> {
    const raw = await rawSocket(server.wsUrl);
    await raw.init({ authorization: `Bearer ${user.token}` });
    return raw;
  }

  /** The socket still runs operations: the frame before it was harmless. */
  async function expectStillUsable(raw: RawSocket, id = 'probe'): Promise<void> {
    raw.send({ id, type: 'subscribe', payload: { query: '{ me { id } }' } });
    const next = await raw.waitFor((m) => m.id === id && m.type === 'next');
    expect(next.payload).toEqual({ data: { me: { id: user.id } } });
  }

  describe('frames that close the socket with 4400 Bad Request', () => {
    it.each<[string, unknown]>([
      ['invalid JSON', '{"type": "connection_init"'],
      ['JSON that is not an object', '[1, 2, 3]'],
      ['a JSON string', '"connection_init"'],
      ['null', 'null'],
      ['an unknown message type', { type: 'hello' }],
      ['a message without a type', { payload: {} }],
      ['a numeric type', { type: 42 }],
      ['subscribe without an id', { type: 'subscribe', payload: { query: '{ __typename }' } }],
      ['subscribe with an empty id', { id: '', type: 'subscribe', payload: { query: '{ __typename }' } }],
      ['subscribe with a numeric id', { id: 7, type: 'subscribe', payload: { query: '{ __typename }' } }],
      ['subscribe without a payload', { id: '1', type: 'subscribe' }],
      ['subscribe with a null payload', { id: '1', type: 'subscribe', payload: null }],
      ['subscribe without a query', { id: '1', type: 'subscribe', payload: {} }],
      ['subscribe with a numeric query', { id: '1', type: 'subscribe', payload: { query: 42 } }],
      ['subscribe with variables that are not an object', { id: '1', type: 'subscribe', payload: { query: '{ __typename }', variables: 'x' } }],
      ['subscribe with a numeric operationName', { id: '1', type: 'subscribe', payload: { query: '{ __typename }', operationName: 5 } }],
      ['subscribe with extensions that are not an object', { id: '1', type: 'subscribe', payload: { query: '{ __typename }', extensions: [1] } }],
      ['complete without an id', { type: 'complete' }],
    ])('%s (after the ack)', async (_name, frame) => {
      const raw = await signedIn();
      raw.send(frame);
      expect((await raw.closed).code).toBe(4400);
    });

    it('invalid JSON before the ack', async () => {
      const raw = await rawSocket(server.wsUrl);
      raw.send('not json at all');
      expect((await raw.closed).code).toBe(4400);
    });
  });

  it('a second connection_init closes the socket with 4429', async () => {
    const raw = await signedIn();
    raw.send({ type: 'connection_init', payload: { authorization: `Bearer ${user.token}` } });
    expect((await raw.closed).code).toBe(4429);
  });

  it.each<[string, unknown]>([
    ['a string', 'Bearer whatever'],
    ['a number', 1],
    ['an array', ['Bearer whatever']],
  ])('a connection_init whose payload is %s closes with 4400', async (_name, payload) => {
    const raw = await rawSocket(server.wsUrl);
    raw.send({ type: 'connection_init', payload });
    expect((await raw.closed).code).toBe(4400);
  });

  it.each<[string, unknown]>([
    ['a number', 12345],
    ['an object', { token: 'x' }],
    ['an array', ['Bearer x']],
    ['a huge string', `Bearer ${'a'.repeat(50_000)}`],
    ['a token with NUL', `Bearer ${'a'.repeat(30)}\u0000`],
  ])('an authorization connection parameter that is %s closes with 4403', async (_name, authorization) => {
    const raw = await rawSocket(server.wsUrl);
    raw.send({ type: 'connection_init', payload: { authorization } });
    expect((await raw.closed).code).toBe(4403);
  });

  it('complete for an unknown id is ignored', async () => {
    const raw = await signedIn();
    raw.send({ id: 'never-subscribed', type: 'complete' });
    raw.send({ id: 'x'.repeat(1000), type: 'complete' });
    await expectStillUsable(raw);
  });

  it('complete of a running subscription ends it; its id can be used again', async () => {
    const raw = await signedIn();
    const publicId = (await gql(server.url, '{ myChannels { id } }', {}, { token: user.token })).data!.myChannels[0].id;
    raw.send({ id: 'live', type: 'subscribe', payload: { query: CHANNEL_EVENTS, variables: { channelId: publicId } } });
    await waitForStreams(1);
    raw.send({ id: 'live', type: 'complete' });
    await waitForStreams(0, 'at most');
    await expectStillUsable(raw, 'live');
  });

  it('a subscribe completed at once, before it is live, leaves no stream or listener behind', async () => {
    const raw = await signedIn();
    const publicId = (await gql(server.url, '{ myChannels { id } }', {}, { token: user.token })).data!.myChannels[0].id;
    const before = server.app.services.realtime.activeStreams;
    for (let i = 0; i < 20; i += 1) {
      raw.send({ id: `quick${i}`, type: 'subscribe', payload: { query: CHANNEL_EVENTS, variables: { channelId: publicId } } });
      raw.send({ id: `quick${i}`, type: 'complete' });
      raw.send({ id: `inbox${i}`, type: 'subscribe', payload: { query: 'subscription { inbox { cursor } }' } });
      raw.send({ id: `inbox${i}`, type: 'complete' });
    }
    await expectStillUsable(raw);
    await waitForStreams(before, 'at most');
    // Still nothing live a moment later (a late-starting stream would show up here).
    await expectStillUsable(raw, 'probe2');
    expect(server.app.services.realtime.activeStreams).toBe(before);
    if (server.app.services.redis) {
      await waitUntil(async () => (await topicSubscribers(server.app, Topic.channel(publicId))) === 0, 'no Redis listener of the channel');
      // The inbox followed the user's topic: nothing stays subscribed once the socket is gone.
      raw.socket.close();
      await raw.closed;
      await waitUntil(async () => (await topicSubscribers(server.app, Topic.user(user.id))) === 0, 'no Redis listener of the user');
    }
  });

  it('sockets dropped right after subscribing leave no stream, listener or presence behind', async () => {
    const publicId = (await gql(server.url, '{ myChannels { id } }', {}, { token: user.token })).data!.myChannels[0].id;
    const before = server.app.services.realtime.activeStreams;
    for (let i = 0; i < 10; i += 1) {
      const raw = await signedIn();
      raw.send({ id: 'events', type: 'subscribe', payload: { query: CHANNEL_EVENTS, variables: { channelId: publicId } } });
      raw.send({ id: 'inbox', type: 'subscribe', payload: { query: 'subscription { inbox { cursor } }' } });
      raw.socket.terminate();
      await raw.closed;
    }
    await waitForStreams(before, 'at most');
    if (server.app.services.redis) {
      await waitUntil(async () => (await topicSubscribers(server.app, Topic.channel(publicId))) === 0, 'no Redis listener of the channel');
      await waitUntil(async () => (await topicSubscribers(server.app, Topic.user(user.id))) === 0, 'no Redis listener of the user');
    }
    // Not online any more: every connection of the user is gone.
    await waitUntil(async () => (await gql(server.url, 'query($id: ID) { user(id: $id) { online } }', { id: user.id }, { token: user.token })).data?.user.online === false, 'the user to be offline');
    expect(server.app.services.realtime.activeStreams).toBe(before);
  });

  it('ping is answered with pong carrying its payload; unsolicited pongs are ignored', async () => {
    const raw = await signedIn();
    raw.send({ type: 'ping', payload: { n: 1 } });
    expect(await raw.waitFor((m) => m.type === 'pong')).toEqual({ type: 'pong', payload: { n: 1 } });
    raw.send({ type: 'pong', payload: { anything: true } });
    await expectStillUsable(raw);
  });

  it('very large variables within the frame limit get a BAD_USER_INPUT, and the socket stays open', async () => {
    const raw = await signedIn();
    const publicId = (await gql(server.url, '{ myChannels { id } }', {}, { token: user.token })).data!.myChannels[0].id;
    const body = 'x'.repeat(60 * 1024); // under WS_MAX_PAYLOAD_BYTES (64 KiB), over the 4000-character body limit
    raw.send({ id: 'big', type: 'subscribe', payload: { query: SEND, variables: { input: { channelId: publicId, body } } } });
    const next = await raw.waitFor((m) => m.id === 'big' && m.type === 'next');
    expect(next.payload.errors.map((e: any) => [e.extensions.code, e.extensions.field])).toEqual([['BAD_USER_INPUT', 'body']]);
    // Many variables, deeply nested JSON and unknown ones are harmless too.
    const nested = JSON.parse(`${'['.repeat(2000)}${']'.repeat(2000)}`);
    raw.send({ id: 'nested', type: 'subscribe', payload: { query: '{ __typename }', variables: { deep: nested, ...Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`v${i}`, i])) } } });
    const nestedResult = await raw.waitFor((m) => m.id === 'nested' && (m.type === 'next' || m.type === 'error'));
    expectContractErrors({ errors: nestedResult.type === 'error' ? nestedResult.payload : nestedResult.payload.errors });
    await expectStillUsable(raw);
  });

  it('errors of a subscribe (bad operation name, several operations, unknown variables types) keep the socket open', async () => {
    const raw = await signedIn();
    const cases: Array<Record<string, unknown>> = [
      { query: 'query A { __typename } query B { __typename }' },
      { query: '{ __typename }', operationName: 'Missing' },
      { query: 'query($x: Int!) { __typename }' },
      { query: 'query($x: Int) { __typename }', variables: { x: 2 ** 53 } },
      { query: 'query($x: Int) { __typename }', variables: { x: 'nope' } },
      { query: 'subscription { inbox { cursor } } subscription { inbox { cursor } }' },
      { query: '' },
      { query: '\u0000' },
    ];
    for (const [index, payload] of cases.entries()) {
      const id = `case${index}`;
      raw.send({ id, type: 'subscribe', payload });
      const answer = await raw.waitFor((m) => m.id === id && (m.type === 'error' || m.type === 'next'));
      const errors = answer.type === 'error' ? answer.payload : answer.payload.errors;
      expect({ payload, hasErrors: Array.isArray(errors) && errors.length > 0 }).toEqual({ payload, hasErrors: true });
      expectContractErrors({ errors }, payload);
    }
    await expectStillUsable(raw);
  });

  it('a subscription sent over HTTP is refused with a contract error, not an internal one', async () => {
    const publicId = (await gql(server.url, '{ myChannels { id } }', {}, { token: user.token })).data!.myChannels[0].id;
    const events = await gql(server.url, CHANNEL_EVENTS, { channelId: publicId }, { token: user.token });
    expect(events.errors?.length).toBeGreaterThan(0);
    expectContractErrors(events);
    const inbox = await gql(server.url, 'subscription { inbox { cursor } }', {}, { token: user.token });
    expect(inbox.errors?.length).toBeGreaterThan(0);
    expectContractErrors(inbox);
  });

  it('a binary frame carrying a valid message is handled like text; binary garbage closes with 4400', async () => {
    const raw = await signedIn();
    raw.socket.send(Buffer.from(JSON.stringify({ id: 'bin', type: 'subscribe', payload: { query: '{ __typename }' } })));
    expect((await raw.waitFor((m) => m.id === 'bin' && m.type === 'next')).payload).toEqual({ data: { __typename: 'Query' } });
    raw.socket.send(Buffer.from([0xff, 0xfe, 0x00, 0x01]));
    expect((await raw.closed).code).toBe(4400);
  });

  it('a client sending server-only messages (next, error, connection_ack) is disconnected, and nothing else is hurt', async () => {
    // graphql-ws's handler throws "Unexpected message of type ..."; our transport answers 4400
    // (a protocol violation by the client), and only this socket goes.
    for (const frame of [
      { id: '1', type: 'next', payload: { data: {} } },
      { id: '1', type: 'error', payload: [{ message: 'x' }] },
      { type: 'connection_ack' },
    ]) {
      const raw = await signedIn();
      raw.send(frame);
      const { code } = await raw.closed;
      expect({ frame, code }).toEqual({ frame, code: 4400 });
    }
  });

  it('a subscription over the per-connection limit is RATE_LIMITED with retryAfter, and the socket stays open', async () => {
    const limited = await startTestApp({ WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '1' });
    try {
      const raw = await rawSocket(limited.wsUrl);
      raw.send({ type: 'connection_init', payload: { authorization: `Bearer ${(await createUser(limited.app)).token}` } });
      await raw.waitFor((m) => m.type === 'connection_ack');
      raw.send({ id: 'first', type: 'subscribe', payload: { query: 'subscription { inbox { cursor } }' } });
      await waitUntilLive(limited, 1);
      raw.send({ id: 'second', type: 'subscribe', payload: { query: '{ __typename }' } });
      const refused = await raw.waitFor((m) => m.id === 'second' && m.type === 'error');
      expect(refused.payload.map((e: any) => e.extensions)).toEqual([{ code: 'RATE_LIMITED', retryAfter: 1 }]);
      raw.send({ id: 'first', type: 'complete' });
      raw.send({ id: 'third', type: 'subscribe', payload: { query: '{ __typename }' } });
      expect((await raw.waitFor((m) => m.id === 'third' && m.type === 'next')).payload).toEqual({ data: { __typename: 'Query' } });
      raw.socket.close();
    } finally {
      await limited.stop();
    }
  });

  it('invalid variables are BAD_USER_INPUT naming the field, over ws as over HTTP', async () => {
    const raw = await signedIn();
    raw.send({ id: 'v', type: 'subscribe', payload: { query: SEND, variables: { input: { channelId: 'x', body: 5 } } } });
    const answer = await raw.waitFor((m) => m.id === 'v' && (m.type === 'next' || m.type === 'error'));
    const errors = answer.type === 'error' ? answer.payload : answer.payload.errors;
    expect(errors.map((e: any) => e.extensions)).toEqual([{ code: 'BAD_USER_INPUT', field: 'body' }]);
  });

  async function waitUntilLive(app: TestApp, count: number): Promise<void> {
    const deadline = Date.now() + 5000;
    while (app.app.services.realtime.activeStreams < count) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} live streams`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async function waitForStreams(count: number, mode: 'at least' | 'at most' = 'at least'): Promise<void> {
    const deadline = Date.now() + 5000;
    const done = () => (mode === 'at least' ? server.app.services.realtime.activeStreams >= count : server.app.services.realtime.activeStreams <= count);
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${mode} ${count} live streams`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
});
