// A tiny schema and a fake socket for unit tests of the realtime core (protocol.ts,
// event-stream.ts, delivery.ts), in the style of graphql-ws's own server tests: no database,
// no Redis, no app, every frame the server sends recorded.
import {
  type DocumentNode,
  GraphQLError,
  GraphQLInt,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  parse,
  validate,
} from 'graphql';
import { GRAPHQL_TRANSPORT_WS_PROTOCOL } from 'graphql-ws';
import { EventRenderer } from '../../src/realtime/delivery';
import { EventStream } from '../../src/realtime/event-stream';
import { type Connection, type ProtocolHooks, ProtocolServer, type ProtocolSocket } from '../../src/realtime/protocol';
import { QueryExecutor } from '../../src/shared/jit';
import { VIEWER_EXTENSION, ViewerUse } from '../../src/shared/viewer-field';

/** What the tiny schema's subscription streams carry. */
export interface Tick {
  n: number;
  /** Resolve `slow` after this many milliseconds (asynchronous rendering); absent: synchronous. */
  delayMs?: number;
  /** `broken` throws for this tick. */
  broken?: boolean;
  /** What `text` gives (large frames for the transport's tests). */
  text?: string;
}

export interface TinyState {
  viewer: string;
}

interface TinyContext {
  viewer: string;
}

/** Streams open on the tiny schema's `ticks`, fed by `publish`: the same payload object for every subscriber, as the bus does. */
export class Hub {
  readonly streams = new Set<EventStream<Tick>>();
  /** Resolutions of `Tick.n`: one per execution of an event (every test document selects it). */
  executions = 0;

  publish(tick: Tick): void {
    for (const stream of [...this.streams]) stream.push(tick);
  }

  endAll(): void {
    for (const stream of [...this.streams]) stream.end();
  }

  failAll(error: Error): void {
    for (const stream of [...this.streams]) stream.fail(error);
  }
}

export function tinySchema(hub: Hub): GraphQLSchema {
  const tickType = new GraphQLObjectType<Tick, TinyContext>({
    name: 'Tick',
    fields: {
      n: {
        type: GraphQLInt,
        resolve: (tick) => {
          hub.executions += 1;
          return tick.n;
        },
      },
      // The viewer's name: marked per viewer, as the app's resolvers mark theirs.
      me: { type: GraphQLString, extensions: { [VIEWER_EXTENSION]: ViewerUse.Value }, resolve: (_tick, _args, context) => context.viewer },
      // Reads the viewer for an access check only: does not keep an event from being shared.
      guarded: { type: GraphQLString, extensions: { [VIEWER_EXTENSION]: ViewerUse.AccessCheck }, resolve: (tick, _args, context) => (context.viewer ? `tick ${tick.n}` : null) },
      slow: {
        type: GraphQLString,
        resolve: (tick) => (tick.delayMs === undefined ? `now ${tick.n}` : new Promise((resolve) => setTimeout(() => resolve(`later ${tick.n}`), tick.delayMs))),
      },
      text: { type: GraphQLString, resolve: (tick) => tick.text ?? null },
      broken: {
        type: GraphQLString,
        resolve: (tick) => {
          if (tick.broken) throw new Error(`tick ${tick.n} is broken`);
          return 'fine';
        },
      },
    },
  });
  return new GraphQLSchema({
    query: new GraphQLObjectType<unknown, TinyContext>({
      name: 'Query',
      fields: {
        hello: { type: GraphQLString, resolve: (_root, _args, context) => `hello ${context.viewer}` },
        fails: {
          type: GraphQLString,
          resolve: () => {
            throw new Error('secret internals');
          },
        },
      },
    }),
    subscription: new GraphQLObjectType<unknown, TinyContext>({
      name: 'Subscription',
      fields: {
        ticks: {
          type: tickType,
          args: { refuse: { type: GraphQLString } },
          subscribe: (_root, args: { refuse?: string }) => {
            if (args.refuse) throw new GraphQLError(args.refuse);
            const stream = new EventStream<Tick>();
            hub.streams.add(stream);
            stream.onClose(() => hub.streams.delete(stream));
            return stream;
          },
          resolve: (tick: unknown) => tick,
        },
      },
    }),
  });
}

/** A socket as the transport would give it: records every frame, and tells the connection when it closes. */
export class FakeSocket implements ProtocolSocket {
  readonly frames: Array<Record<string, any>> = [];
  closed: { code: number; reason: string } | null = null;
  connection!: Connection<TinyState, null>;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly protocol: string = GRAPHQL_TRANSPORT_WS_PROTOCOL) {}

  send(frame: string | Buffer): void {
    if (this.closed) throw new Error(`sent after close: ${String(frame)}`);
    this.frames.push(JSON.parse(String(frame)));
    this.wake();
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = { code, reason };
    this.connection?.closedWith(code, reason);
    this.wake();
  }

  /** The client sends a message. */
  receive(message: unknown): Promise<void> {
    return this.connection.receive(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Frames of one operation. */
  framesOf(id: string): Array<Record<string, any>> {
    return this.frames.filter((frame) => frame.id === id);
  }

  /** Waits until `predicate` holds on what was sent (or the socket closed). */
  async until(predicate: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 10);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

/** A FakeSocket whose transport writes frames in parts (ProtocolSocket.sendParts): records the parts of each, and the frame they make. */
export class PartsSocket extends FakeSocket {
  readonly parts: Array<readonly Buffer[]> = [];

  sendParts(parts: readonly Buffer[]): void {
    this.parts.push(parts);
    this.send(Buffer.concat(parts));
  }
}

export interface TinyServer {
  hub: Hub;
  schema: GraphQLSchema;
  renderer: EventRenderer;
  server: ProtocolServer<TinyState, null>;
  /** onClose calls: the state, code and reason. */
  closes: Array<{ state: TinyState | undefined; code: number }>;
  /** A new connection on a fake socket. */
  connect(protocol?: string): FakeSocket;
  /** A connection that was acknowledged for `viewer` (on a socket written in parts with `inParts`). */
  connected(viewer: string, inParts?: boolean): Promise<FakeSocket>;
}

export function tinyServer(options: { initTimeoutMs?: number; shared?: boolean; onConnect?: ProtocolHooks<TinyState, null>['onConnect'] } = {}): TinyServer {
  const hub = new Hub();
  const schema = tinySchema(hub);
  const executor = new QueryExecutor(schema);
  const renderer = new EventRenderer(schema, executor, options.shared ?? true);
  const closes: TinyServer['closes'] = [];
  const documents = new Map<string, DocumentNode>();
  const server = new ProtocolServer<TinyState, null>({
    schema,
    executor,
    renderer,
    hooks: {
      connectionInitWaitTimeout: options.initTimeoutMs ?? 0,
      onConnect:
        options.onConnect ??
        (async (params) => {
          if (params?.viewer === 'intruder') return false;
          return { viewer: typeof params?.viewer === 'string' ? params.viewer : 'anonymous' };
        }),
      onClose: (state, code) => closes.push({ state, code }),
      // Parsed once per query text, as the app's DocumentCache does: subscribers of one text share a document.
      prepare: (_state, payload) => {
        let document = documents.get(payload.query);
        try {
          document ??= parse(payload.query);
        } catch (error) {
          return [error as GraphQLError];
        }
        documents.set(payload.query, document);
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        return renderer.prepare(document, payload.operationName ?? undefined, payload.variables ?? undefined);
      },
      context: (state) => ({ viewer: state.viewer }),
      // Masks what is not a GraphQLError of our own making, as the app does.
      mask: (_state, errors) => errors.map((error) => ({ message: error.originalError && !(error.originalError instanceof GraphQLError) ? 'Internal error' : error.message })),
    },
  });
  const tiny: TinyServer = {
    hub,
    schema,
    renderer,
    server,
    closes,
    connect(protocol) {
      const socket = new FakeSocket(protocol);
      socket.connection = server.open(socket, null);
      return socket;
    },
    async connected(viewer, inParts = false) {
      let socket: FakeSocket;
      if (inParts) {
        socket = new PartsSocket();
        socket.connection = server.open(socket, null);
      } else socket = tiny.connect();
      await socket.receive({ type: 'connection_init', payload: { viewer } });
      expect(socket.frames).toEqual([{ type: 'connection_ack' }]);
      socket.frames.length = 0;
      return socket;
    },
  };
  return tiny;
}
