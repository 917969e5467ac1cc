// The realtime core on its own: the graphql-transport-ws protocol (protocol.ts), the event
// stream (event-stream.ts) and shared rendering (delivery.ts), on a tiny schema and a fake
// socket (helpers/tiny-realtime.ts); the ws adapter (ws-transport.ts) on a real `ws` server.
// No database, Redis or app.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { parse } from 'graphql';
import WebSocket, { WebSocketServer } from 'ws';
import { ServerCloseCode } from '../src/realtime/close-code';
import { EventRenderer, RenderedResult, serialize } from '../src/realtime/delivery';
import { EventStream, MAX_QUEUED_EVENTS } from '../src/realtime/event-stream';
import { messageAddedValue } from '../src/realtime/event.types';
import { inboxCursor } from '../src/realtime/inbox';
import { ProtocolViolation } from '../src/realtime/protocol';
import { serveGraphqlWs, TextFrameHeaders } from '../src/realtime/ws-transport';
import { createLocalEventBus } from '../src/realtime/event-bus';
import { ResyncRequiredError } from '../src/shared/errors';
import type { MessageSnapshot } from '../src/domain/snapshots';
import { messageCursor } from '../src/messages/message.types';
import { QueryExecutor } from '../src/shared/jit';
import { createLogger } from '../src/shared/logger';
import { Hub, PartsSocket, tinySchema, tinyServer } from './helpers/tiny-realtime';
import { retryingClient } from './helpers/ws';

const TICKS = 'subscription { ticks { n } }';
const subscribe = (id: string, query: string, variables?: Record<string, unknown>) => ({ id, type: 'subscribe', payload: { query, variables } });
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('protocol core', () => {
  describe('connection initialisation', () => {
    it('closes a socket without the graphql-transport-ws subprotocol with 4406', () => {
      const socket = tinyServer().connect('graphql-ws');
      expect(socket.closed?.code).toBe(ServerCloseCode.SubprotocolNotAcceptable);
    });

    it('closes with 4408 when connection_init does not come in time', async () => {
      const tiny = tinyServer({ initTimeoutMs: 20 });
      const socket = tiny.connect();
      await socket.until(() => socket.closed !== null, 'the close');
      expect(socket.closed).toEqual({ code: ServerCloseCode.ConnectionInitialisationTimeout, reason: 'Connection initialisation timeout' });
      expect(tiny.closes).toEqual([{ state: undefined, code: ServerCloseCode.ConnectionInitialisationTimeout }]);
    });

    it('does not time out once connection_init came', async () => {
      const tiny = tinyServer({ initTimeoutMs: 20 });
      const socket = tiny.connect();
      await socket.receive({ type: 'connection_init', payload: { viewer: 'ann' } });
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(socket.closed).toBeNull();
      expect(socket.frames).toEqual([{ type: 'connection_ack' }]);
    });

    it('closes a second connection_init with 4429 TooManyInitialisationRequests', async () => {
      const socket = await tinyServer().connected('ann');
      await socket.receive({ type: 'connection_init', payload: { viewer: 'ann' } });
      expect(socket.closed?.code).toBe(ServerCloseCode.TooManyInitialisationRequests);
    });

    it('closes with 4403 when onConnect refuses', async () => {
      const tiny = tinyServer();
      const socket = tiny.connect();
      await socket.receive({ type: 'connection_init', payload: { viewer: 'intruder' } });
      expect(socket.frames).toEqual([]);
      expect(socket.closed?.code).toBe(ServerCloseCode.Forbidden);
    });

    it('closes a subscribe before the ack with 4401, also while onConnect is still running', async () => {
      const early = tinyServer().connect();
      await early.receive(subscribe('1', TICKS));
      expect(early.closed?.code).toBe(ServerCloseCode.Unauthorized);

      let admit!: (state: { viewer: string }) => void;
      const tiny = tinyServer({ onConnect: () => new Promise((resolve) => (admit = resolve)) });
      const socket = tiny.connect();
      const connecting = socket.receive({ type: 'connection_init' });
      await socket.receive(subscribe('1', TICKS));
      expect(socket.closed?.code).toBe(ServerCloseCode.Unauthorized);
      admit({ viewer: 'late' });
      await connecting;
      // Closed while connecting: no ack. The application hears of the close at once (no state
      // yet), then of the state onConnect created, so it can release it.
      expect(socket.frames).toEqual([]);
      expect(tiny.closes).toEqual([
        { state: undefined, code: ServerCloseCode.Unauthorized },
        { state: { viewer: 'late' }, code: ServerCloseCode.Unauthorized },
      ]);
    });

    it('closes an invalid message with 4400, and rejects a server-only message type', async () => {
      const socket = await tinyServer().connected('ann');
      await expect(socket.receive({ type: 'next', id: '1', payload: {} })).rejects.toBeInstanceOf(ProtocolViolation);
      expect(socket.closed).toBeNull();
      await socket.receive('{not json');
      expect(socket.closed?.code).toBe(ServerCloseCode.BadRequest);
    });

    it('answers ping with pong (echoing its payload) and ignores pong', async () => {
      const socket = await tinyServer().connected('ann');
      await socket.receive({ type: 'ping' });
      await socket.receive({ type: 'ping', payload: { at: 1 } });
      await socket.receive({ type: 'pong' });
      expect(socket.frames).toEqual([{ type: 'pong' }, { type: 'pong', payload: { at: 1 } }]);
    });
  });

  describe('operations', () => {
    it('answers a query with next, then complete', async () => {
      const socket = await tinyServer().connected('ann');
      await socket.receive(subscribe('q', '{ hello }'));
      expect(socket.frames).toEqual([
        { id: 'q', type: 'next', payload: { data: { hello: 'hello ann' } } },
        { id: 'q', type: 'complete' },
      ]);
    });

    it('masks execution errors in next', async () => {
      const socket = await tinyServer().connected('ann');
      await socket.receive(subscribe('q', '{ fails }'));
      expect(socket.frames).toEqual([
        { id: 'q', type: 'next', payload: { data: { fails: null }, errors: [{ message: 'Internal error' }] } },
        { id: 'q', type: 'complete' },
      ]);
    });

    it('answers an invalid document with error (no complete) and keeps the socket open', async () => {
      const socket = await tinyServer().connected('ann');
      await socket.receive(subscribe('bad', '{ nope }'));
      await socket.receive(subscribe('broken', '{ hello'));
      expect(socket.frames).toEqual([
        { id: 'bad', type: 'error', payload: [{ message: 'Cannot query field "nope" on type "Query".' }] },
        { id: 'broken', type: 'error', payload: [{ message: 'Syntax Error: Expected Name, found <EOF>.' }] },
      ]);
      expect(socket.closed).toBeNull();
    });

    it('answers a subscription its resolver refuses with next (the errors), then complete', async () => {
      const socket = await tinyServer().connected('ann');
      await socket.receive(subscribe('s', 'subscription { ticks(refuse: "not yours") { n } }'));
      expect(socket.frames).toEqual([
        { id: 's', type: 'next', payload: { errors: [{ message: 'not yours' }] } },
        { id: 's', type: 'complete' },
      ]);
    });

    it('closes a subscribe with the id of a running subscription with 4409; the id is free again after complete', async () => {
      const tiny = tinyServer();
      const socket = await tiny.connected('ann');
      await socket.receive(subscribe('1', TICKS));
      await socket.receive({ id: '1', type: 'complete' });
      expect(tiny.hub.streams.size).toBe(0);
      await socket.receive(subscribe('1', TICKS));
      expect(tiny.hub.streams.size).toBe(1);
      await socket.receive(subscribe('1', TICKS));
      expect(socket.closed?.code).toBe(ServerCloseCode.SubscriberAlreadyExists);
      // Closing stopped the subscription.
      expect(tiny.hub.streams.size).toBe(0);
    });

    it('pushes events as next; the client completing stops the stream and nothing follows', async () => {
      const tiny = tinyServer();
      const socket = await tiny.connected('ann');
      await socket.receive(subscribe('s', TICKS));
      tiny.hub.publish({ n: 1 });
      tiny.hub.publish({ n: 2 });
      await socket.receive({ id: 's', type: 'complete' });
      tiny.hub.publish({ n: 3 });
      expect(tiny.hub.streams.size).toBe(0);
      expect(socket.frames).toEqual([
        { id: 's', type: 'next', payload: { data: { ticks: { n: 1 } } } },
        { id: 's', type: 'next', payload: { data: { ticks: { n: 2 } } } },
      ]);
    });

    it('sends complete when the stream ends, and error (masked) when it fails', async () => {
      const tiny = tinyServer();
      const socket = await tiny.connected('ann');
      await socket.receive(subscribe('ends', TICKS));
      tiny.hub.publish({ n: 1 });
      tiny.hub.endAll();
      await socket.receive(subscribe('fails', TICKS));
      tiny.hub.failAll(new ResyncRequiredError());
      await socket.receive(subscribe('crashes', TICKS));
      tiny.hub.failAll(new Error('database on fire'));
      expect(socket.frames).toEqual([
        { id: 'ends', type: 'next', payload: { data: { ticks: { n: 1 } } } },
        { id: 'ends', type: 'complete' },
        { id: 'fails', type: 'error', payload: [{ message: new ResyncRequiredError().message }] },
        { id: 'crashes', type: 'error', payload: [{ message: 'Internal error' }] },
      ]);
    });

    it('reports a resolver error of one event in its result and keeps the subscription', async () => {
      const tiny = tinyServer();
      const socket = await tiny.connected('ann');
      await socket.receive(subscribe('s', 'subscription { ticks { n broken } }'));
      tiny.hub.publish({ n: 1, broken: true });
      tiny.hub.publish({ n: 2 });
      expect(socket.frames).toEqual([
        { id: 's', type: 'next', payload: { data: { ticks: { n: 1, broken: null } }, errors: [{ message: 'Internal error' }] } },
        { id: 's', type: 'next', payload: { data: { ticks: { n: 2, broken: 'fine' } } } },
      ]);
    });

    it('stops every operation when the socket closes, and tells the application once', async () => {
      const tiny = tinyServer();
      const socket = await tiny.connected('ann');
      await socket.receive(subscribe('a', TICKS));
      await socket.receive(subscribe('b', TICKS));
      expect(tiny.hub.streams.size).toBe(2);
      socket.close(1000, 'bye');
      socket.connection.closedWith(1000, 'bye');
      expect(tiny.hub.streams.size).toBe(0);
      expect(tiny.closes).toEqual([{ state: { viewer: 'ann' }, code: 1000 }]);
    });
  });

  describe('ordering', () => {
    it('keeps events in order when some render asynchronously', async () => {
      const tiny = tinyServer();
      const socket = await tiny.connected('ann');
      await socket.receive(subscribe('s', 'subscription { ticks { n slow } }'));
      tiny.hub.publish({ n: 1, delayMs: 30 });
      tiny.hub.publish({ n: 2 });
      tiny.hub.publish({ n: 3, delayMs: 5 });
      tiny.hub.publish({ n: 4 });
      tiny.hub.endAll();
      await socket.until(() => socket.frames.some((frame) => frame.type === 'complete'), 'complete');
      expect(socket.frames.map((frame) => (frame.type === 'next' ? frame.payload.data.ticks.slow : frame.type))).toEqual(['later 1', 'now 2', 'later 3', 'now 4', 'complete']);
    });

    it('sends nothing of a pending result once the client completed', async () => {
      const tiny = tinyServer();
      const socket = await tiny.connected('ann');
      await socket.receive(subscribe('s', 'subscription { ticks { n slow } }'));
      tiny.hub.publish({ n: 1, delayMs: 20 });
      tiny.hub.publish({ n: 2 });
      await socket.receive({ id: 's', type: 'complete' });
      await new Promise((resolve) => setTimeout(resolve, 40));
      expect(socket.frames).toEqual([]);
    });

    it('delivers events to each subscriber in publication order, across subscriptions', async () => {
      const tiny = tinyServer();
      const socket = await tiny.connected('ann');
      await socket.receive(subscribe('a', TICKS));
      await socket.receive(subscribe('b', 'subscription { ticks { n me } }'));
      for (let n = 1; n <= 50; n += 1) tiny.hub.publish({ n });
      for (const id of ['a', 'b']) expect(socket.framesOf(id).map((frame) => frame.payload.data.ticks.n)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    });
  });

  describe('shared rendering', () => {
    it('executes an event once for every subscriber of a document without per-viewer fields, and gives each the same bytes', async () => {
      const tiny = tinyServer();
      const sockets = await Promise.all(['ann', 'bob', 'cid'].map((viewer) => tiny.connected(viewer)));
      for (const socket of sockets) await socket.receive(subscribe('1', 'subscription { ticks { n guarded } }'));
      tiny.hub.publish({ n: 7 });
      expect(tiny.hub.executions).toBe(1);
      for (const socket of sockets) expect(socket.frames).toEqual([{ id: '1', type: 'next', payload: { data: { ticks: { n: 7, guarded: 'tick 7' } } } }]);
    });

    it('executes an event for each subscriber when the document selects a per-viewer field (also in a fragment)', async () => {
      const tiny = tinyServer();
      const sockets = await Promise.all(['ann', 'bob'].map((viewer) => tiny.connected(viewer)));
      for (const socket of sockets) await socket.receive(subscribe('1', 'subscription { ticks { n ...Mine } } fragment Mine on Tick { me }'));
      tiny.hub.publish({ n: 7 });
      expect(tiny.hub.executions).toBe(2);
      expect(sockets.map((socket) => socket.frames[0].payload.data.ticks)).toEqual([
        { n: 7, me: 'ann' },
        { n: 7, me: 'bob' },
      ]);
    });

    it('shares per document and variables, not across different ones, and not at all when disabled', async () => {
      for (const [shared, expected] of [
        [true, 2],
        [false, 3],
      ] as const) {
        const tiny = tinyServer({ shared });
        const sockets = await Promise.all(['ann', 'bob', 'cid'].map((viewer) => tiny.connected(viewer)));
        await sockets[0].receive(subscribe('1', TICKS));
        await sockets[1].receive(subscribe('1', TICKS));
        await sockets[2].receive(subscribe('1', 'subscription { ticks { n slow } }'));
        tiny.hub.publish({ n: 1 });
        expect(tiny.hub.executions).toBe(expected);
      }
    });

    it('writes a shared event in parts where the transport can: each subscription its own prefix, every subscriber the same payload bytes', async () => {
      const tiny = tinyServer();
      const ids = ['1', 'two', 'x"y'];
      const sockets = (await Promise.all(['ann', 'bob', 'cid'].map((viewer) => tiny.connected(viewer, true)))) as PartsSocket[];
      for (const [index, socket] of sockets.entries()) await socket.receive(subscribe(ids[index], TICKS));
      tiny.hub.publish({ n: 1 });
      tiny.hub.publish({ n: 2 });
      expect(tiny.hub.executions).toBe(2);
      for (const [index, socket] of sockets.entries()) {
        expect(socket.frames).toEqual([1, 2].map((n) => ({ id: ids[index], type: 'next', payload: { data: { ticks: { n } } } })));
        // The subscription's prefix is made once, for both events.
        expect(socket.parts[1][0]).toBe(socket.parts[0][0]);
      }
      // One payload per event, the same Buffer for all three (not a copy per subscription id).
      for (const event of [0, 1]) for (const socket of sockets) expect(socket.parts[event][1]).toBe(sockets[0].parts[event][1]);
      expect(sockets[0].parts[0][1]).not.toBe(sockets[0].parts[1][1]);
    });

    it('shares an asynchronous result too, in order for each subscriber', async () => {
      const tiny = tinyServer();
      const sockets = await Promise.all(['ann', 'bob'].map((viewer) => tiny.connected(viewer)));
      for (const socket of sockets) await socket.receive(subscribe('1', 'subscription { ticks { n slow } }'));
      tiny.hub.publish({ n: 1, delayMs: 10 });
      tiny.hub.publish({ n: 2 });
      for (const socket of sockets) await socket.until(() => socket.frames.length === 2, 'two results');
      expect(tiny.hub.executions).toBe(2);
      for (const socket of sockets) expect(socket.frames.map((frame) => frame.payload.data.ticks.slow)).toEqual(['later 1', 'now 2']);
    });
  });
});

describe('EventRenderer and RenderedResult', () => {
  const hub = new Hub();
  const schema = tinySchema(hub);
  const executor = new QueryExecutor(schema);

  it('gives subscribers of the same document and variables the same prepared operation', () => {
    const renderer = new EventRenderer(schema, executor, true);
    const document = parse('subscription ($x: String) { ticks(refuse: $x) { n } }');
    const first = renderer.prepare(document, undefined, { x: null });
    expect(first.shareKey).not.toBeNull();
    expect(renderer.prepare(document, undefined, { x: null })).toBe(first);
    expect(renderer.prepare(document, undefined, { x: 'other' }).shareKey).not.toBe(first.shareKey);
    expect(renderer.prepare(parse('subscription { ticks { me } }'), undefined, undefined).shareKey).toBeNull();
    expect(new EventRenderer(schema, executor, false).prepare(document, undefined, undefined).shareKey).toBeNull();
  });

  it('renders one payload once per share key, and another payload again', async () => {
    const renderer = new EventRenderer(schema, executor, true);
    const operation = renderer.prepare(parse('subscription { ticks { n } }'), undefined, undefined);
    let contexts = 0;
    const subscriber = { eventContext: () => ((contexts += 1), { viewer: 'x' }), maskErrors: () => [] };
    const tick = { n: 1 };
    const first = await renderer.render(operation, tick, subscriber);
    expect(await renderer.render(operation, tick, subscriber)).toBe(first);
    expect(contexts).toBe(1);
    expect((await renderer.render(operation, { n: 2 }, subscriber)).json).toBe('{"data":{"ticks":{"n":2}}}');
    expect(contexts).toBe(2);
  });

  it('hands subscribers after the first the settled result of an event that rendered asynchronously, not its promise', async () => {
    const renderer = new EventRenderer(schema, { execute: () => Promise.resolve({ data: { ticks: { n: 3 } } }) } as unknown as QueryExecutor, true);
    const operation = renderer.prepare(parse('subscription { ticks { n } }'), undefined, undefined);
    const subscriber = { eventContext: () => ({ viewer: 'x' }), maskErrors: () => [] };
    const tick = { n: 3 };
    const pending = renderer.render(operation, tick, subscriber);
    expect(renderer.render(operation, tick, subscriber)).toBe(pending);
    const settled = await pending;
    expect(renderer.render(operation, tick, subscriber)).toBe(settled);
    expect(settled.json).toBe('{"data":{"ticks":{"n":3}}}');
  });

  it('builds each frame once per subscription id and shares its bytes', () => {
    const rendered = new RenderedResult('{"data":1}');
    const frame = rendered.frame('1');
    expect(String(frame)).toBe('{"id":"1","type":"next","payload":{"data":1}}');
    expect(rendered.frame('1')).toBe(frame);
    expect(String(rendered.frame('x"y'))).toBe('{"id":"x\\"y","type":"next","payload":{"data":1}}');
  });

  it('serializes results with masked errors, and extensions', () => {
    const masker = { maskErrors: () => [{ message: 'masked' }] };
    expect(serialize({ data: { a: 1 } }, masker).json).toBe('{"data":{"a":1}}');
    expect(serialize({ data: { a: 1 }, extensions: { cost: 2 } }, masker).json).toBe('{"data":{"a":1},"extensions":{"cost":2}}');
    expect(JSON.parse(serialize({ data: null, errors: [new Error('raw') as never] }, masker).json)).toEqual({ data: null, errors: [{ message: 'masked' }] });
  });
});

describe('EventStream', () => {
  it('iterates values pushed before and after next()', async () => {
    const stream = new EventStream<number>();
    stream.push(1);
    expect(await stream.next()).toEqual({ value: 1, done: false });
    const waiting = stream.next();
    stream.push(2);
    expect(await waiting).toEqual({ value: 2, done: false });
    stream.end();
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('delivers what is queued before it ends or fails', async () => {
    const stream = new EventStream<number>();
    stream.push(1);
    stream.fail(new Error('gone'));
    stream.push(2);
    expect(await stream.next()).toEqual({ value: 1, done: false });
    await expect(stream.next()).rejects.toThrow('gone');
  });

  it('in push mode hands queued values, then live ones, then the end to the sink in the same turn', () => {
    const stream = new EventStream<number>();
    const seen: unknown[] = [];
    stream.push(1);
    expect(stream.drainTo({ next: (value) => seen.push(value), complete: () => seen.push('complete'), error: (error) => seen.push(error) })).toBe(true);
    stream.push(2);
    stream.end();
    stream.push(3);
    expect(seen).toEqual([1, 2, 'complete']);
    expect(stream.drainTo({ next: () => undefined, complete: () => undefined, error: () => undefined })).toBe(false);
  });

  it('runs its cleanups once when returned, even while a next() waits, and at once when added later', async () => {
    const stream = new EventStream<number>();
    const cleanups: string[] = [];
    stream.onClose(() => cleanups.push('a'));
    stream.onClose(() => {
      throw new Error('a failing cleanup does not stop the others');
    });
    stream.onClose(() => cleanups.push('b'));
    const waiting = stream.next();
    await stream.return();
    expect(await waiting).toEqual({ value: undefined, done: true });
    await stream.return();
    stream.onClose(() => cleanups.push('late'));
    expect(cleanups).toEqual(['a', 'b', 'late']);
    expect(stream.isClosed).toBe(true);
  });

  it('fails with RESYNC_REQUIRED when more than MAX_QUEUED_EVENTS wait undelivered (backpressure)', async () => {
    const stream = new EventStream<number>();
    let closed = false;
    stream.onClose(() => (closed = true));
    for (let n = 0; n <= MAX_QUEUED_EVENTS; n += 1) stream.push(n);
    expect(closed).toBe(true);
    await expect(stream.next()).rejects.toBeInstanceOf(ResyncRequiredError);
  });
});

/** A tiny realtime server behind the ws transport on a real `ws` server (a free port). */
async function servedOverWs(maxBufferedBytes: number, keepAliveMs = 60_000) {
  const tiny = tinyServer();
  const wss = new WebSocketServer({ port: 0 });
  await once(wss, 'listening');
  const served = serveGraphqlWs(wss, tiny.server as never, {
    logger: createLogger({ logLevel: 'silent' } as never),
    keepAliveMs,
    maxBufferedBytes,
    slowConsumerCloseCode: ServerCloseCode.SlowConsumer,
  });
  return { tiny, wss, served };
}

describe('ws transport', () => {
  it('writes frames in parts with the header ws itself writes, for every length encoding', () => {
    // ws's own framing (untyped in @types/ws).
    const { Sender } = WebSocket as unknown as { Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] } };
    const headers = new TextFrameHeaders();
    for (const length of [0, 1, 125, 126, 65_535, 65_536, 70_000, 125, 65_536]) {
      const data = Buffer.alloc(length, 0x61);
      const own = Buffer.concat(Sender.frame(data, { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: true }));
      expect(Buffer.concat([headers.for(length), data]).equals(own)).toBe(true);
    }
  });

  it('delivers events written in parts over a real socket intact, small and large, in order', async () => {
    const { tiny, wss, served } = await servedOverWs(16 * 1024 * 1024);
    const sockets = await Promise.all(
      ['a', 'a much longer subscription id'].map(async (id) => {
        const socket = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, 'graphql-transport-ws');
        const received: Array<Record<string, any>> = [];
        socket.on('message', (data) => received.push(JSON.parse(String(data))));
        await once(socket, 'open');
        socket.send(JSON.stringify({ type: 'connection_init', payload: { viewer: 'ann' } }));
        // A subscribe before the ack would be refused (4401).
        while (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        socket.send(JSON.stringify(subscribe(id, 'subscription { ticks { n text } }')));
        return { id, socket, received };
      }),
    );
    try {
      const deadline = Date.now() + 5000;
      while (tiny.hub.streams.size < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      const texts = ['', 'x'.repeat(100), 'y'.repeat(3000), 'z'.repeat(70_000), 'é'.repeat(40_000)];
      texts.forEach((text, n) => tiny.hub.publish({ n, text }));
      for (const { id, received } of sockets) {
        while (received.length < 1 + texts.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
        expect(received[0]).toEqual({ type: 'connection_ack' });
        expect(received.slice(1)).toEqual(texts.map((text, n) => ({ id, type: 'next', payload: { data: { ticks: { n, text } } } })));
      }
    } finally {
      for (const { socket } of sockets) socket.terminate();
      await served.dispose();
      wss.close();
    }
  });

  it('pings every socket once per keep-alive interval, a share of them at a time, and drops one that does not answer', async () => {
    const intervalMs = 1200;
    const { wss, served } = await servedOverWs(16 * 1024 * 1024, intervalMs);
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    const pings: number[][] = [];
    const sockets = await Promise.all(
      Array.from({ length: 48 }, async (_, n) => {
        // The last one never answers a ping.
        const socket = new WebSocket(url, 'graphql-transport-ws', { autoPong: n < 47 });
        const times: number[] = [];
        pings.push(times);
        socket.on('ping', () => times.push(performance.now()));
        await once(socket, 'open');
        return socket;
      }),
    );
    const silent = sockets[47];
    const closed = once(silent, 'close');
    try {
      const started = performance.now();
      const [code] = (await closed) as [number];
      // Terminated (no close frame) at its turn after the unanswered ping.
      expect(code).toBe(1006);
      expect(performance.now() - started).toBeLessThan(2.5 * intervalMs);
      const firsts = pings.slice(0, 47).map((times) => times[0]);
      expect(firsts.every((at) => at !== undefined)).toBe(true);
      // Spread over the interval, not all in one turn.
      expect(Math.max(...firsts) - Math.min(...firsts)).toBeGreaterThan(intervalMs / 3);
      // Each socket's pings are about an interval apart.
      for (const times of pings.slice(0, 47)) {
        for (let n = 1; n < times.length; n += 1) expect(times[n] - times[n - 1]).toBeGreaterThan(intervalMs / 2);
      }
      expect(sockets.slice(0, 47).every((socket) => socket.readyState === WebSocket.OPEN)).toBe(true);
    } finally {
      for (const socket of sockets) socket.terminate();
      await served.dispose();
      wss.close();
    }
  });

  it('closes a client that stops reading with 1013 SlowConsumer, which the official client retries', async () => {
    const { tiny, wss, served } = await servedOverWs(16 * 1024);
    const { client, seen, pauseReading, resumeReading } = retryingClient(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { viewer: 'ann' });
    let failed: unknown = null;
    const dispose = client.subscribe({ query: 'subscription { ticks { n text } }' }, { next: () => undefined, error: (error) => (failed = error), complete: () => undefined });
    const until = async (predicate: () => boolean, what: string) => {
      const deadline = Date.now() + 5000;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    try {
      await until(() => tiny.hub.streams.size === 1, 'the subscription');
      pauseReading();
      const text = 'x'.repeat(2000);
      const open = () => [...wss.clients].some((socket) => socket.readyState === WebSocket.OPEN);
      for (let n = 0; n < 5000 && open(); n += 1) {
        tiny.hub.publish({ n, text });
        if (n % 20 === 0) await flush();
      }
      expect(open()).toBe(false);
      resumeReading();
      await until(() => seen.connections === 2 && tiny.hub.streams.size === 1, 'the client to reconnect and resubscribe');
      expect(seen.closes).toEqual([ServerCloseCode.SlowConsumer]);
      expect(failed).toBeNull();
    } finally {
      dispose();
      await client.dispose();
      await served.dispose();
    }
  });
});

describe('event values', () => {
  it('a MessageAdded value computes inboxCursor on its prototype (no accessor literal: V8 keeps those in the old generation)', () => {
    const message = { id: randomUUID(), channelId: randomUUID(), seq: 7, createdAt: new Date(1_700_000_000_123) } as MessageSnapshot;
    const value = messageAddedValue(message);
    expect(Object.getOwnPropertyDescriptor(value, 'inboxCursor')).toBeUndefined();
    expect(value).toMatchObject({ type: 'MessageAdded', cursor: messageCursor(7), message });
    expect(value.inboxCursor).toBe(inboxCursor(message));
  });
});

describe('event bus dispatch', () => {
  /** A listener that takes `busyMs` per event (a socket write, say) and logs what it got. */
  const slowListener = (index: number, log: Array<[number, number]>, busyMs: number) => ({
    onBusEvent(payload: unknown) {
      const until = performance.now() + busyMs;
      while (performance.now() < until);
      log.push([index, (payload as { n: number }).n]);
    },
  });

  it('hands events that queued up behind a slow topic to each listener together, in order, in slices', async () => {
    const bus = createLocalEventBus('dispatch:', createLogger({ logLevel: 'silent' } as never));
    const log: Array<[number, number]> = [];
    const listeners = Array.from({ length: 300 }, (_, index) => slowListener(index, log, 0.05));
    for (const listener of listeners) await bus.attach('t', listener);
    // 300 listeners at 50 µs each outlast a slice: the first event is still going out when the
    // next two arrive, and those two wait together.
    void bus.publish('t', { n: 0 });
    expect(log.length).toBeGreaterThan(0);
    expect(log.length).toBeLessThan(300);
    void bus.publish('t', { n: 1 });
    void bus.publish('t', { n: 2 });
    const deadline = Date.now() + 5000;
    while (log.length < 900 && Date.now() < deadline) await flush();
    expect(log).toHaveLength(900);
    for (let index = 0; index < 300; index += 1) expect(log.filter(([who]) => who === index).map(([, n]) => n)).toEqual([0, 1, 2]);
    // Every listener got the first event before any got the others (it was being delivered)...
    expect(log.slice(0, 300).every(([, n]) => n === 0)).toBe(true);
    // ...then each listener both waiting events, one right after the other.
    const rest = log.slice(300);
    for (let at = 0; at < rest.length; at += 2) {
      expect(rest[at][1]).toBe(1);
      expect(rest[at + 1]).toEqual([rest[at][0], 2]);
    }
    await bus.close();
  });
});
