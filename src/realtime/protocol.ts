// The graphql-transport-ws protocol (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md),
// server side, independent of the transport: ws-transport.ts adapts it to `ws`. graphql-ws
// supplies the message types, close codes and message validation; this core replaces its
// makeServer so that subscription events are pushed to the socket as they arrive (no
// promise and no async iteration per subscriber and event) and rendered once for all the
// subscribers that share a result (delivery.ts).
import {
  createSourceEventStream,
  type ExecutionResult,
  getOperationAST,
  GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
  OperationTypeNode,
} from 'graphql';
import { GRAPHQL_TRANSPORT_WS_PROTOCOL, MessageType, parseMessage, type SubscribePayload } from 'graphql-ws';
import type { QueryExecutor } from '../shared/jit';
import { isPromise } from '../shared/promises';
import { type ErrorMasker, type EventContextSource, type EventRenderer, NEXT_FRAME_SUFFIX, nextFramePrefix, type PreparedOperation, RenderedResult, serialize } from './delivery';
import { ServerCloseCode } from './close-code';
import { EventStream, type StreamSink } from './event-stream';

/** The transport's side of one connection. */
export interface ProtocolSocket {
  /** The negotiated subprotocol. */
  readonly protocol: string;
  /** Queues a text frame (the transport drops clients that read too slowly). */
  send(frame: string | Buffer): void;
  /**
   * Optional: queues one text frame made of these bytes in order, written without joining
   * them. A `next` frame goes so: the subscription's own prefix, then a payload that every
   * subscriber of the event shares (the same bytes for all, whatever their subscription ids).
   */
  sendParts?(parts: readonly Buffer[]): void;
  close(code: number, reason: string): void;
}

/** The application's side: authentication, checks, contexts and error masking. */
export interface ProtocolHooks<S, E> {
  /** `connection_init` must arrive within this time (0: no limit), else 4408. */
  connectionInitWaitTimeout: number;
  /** After `connection_init`: the connection's state, or false to refuse it (4403). May close the socket itself. */
  onConnect(connectionParams: Record<string, unknown> | undefined, extra: E): Promise<S | false>;
  /** The socket closed (after every operation of the connection stopped). */
  onClose(state: S | undefined, code: number, reason: string): void;
  /** A `subscribe` message: the operation to run, or the errors to answer with. `active` counts the connection's operations, this one included. */
  prepare(state: S, payload: SubscribePayload, active: number): PreparedOperation | readonly GraphQLError[];
  /**
   * Before each `subscribe`: true to run it, false when the connection's session is no
   * longer live (the socket closes with the revocation code), or errors to answer it with.
   */
  admit?(state: S): boolean | readonly GraphQLError[] | Promise<boolean | readonly GraphQLError[]>;
  /** A fresh context for an operation, or for one event of a subscription. */
  context(state: S): unknown;
  /** Formats (and masks) errors for the client. */
  mask(state: S, errors: readonly GraphQLError[], operation: OperationTypeNode | undefined): GraphQLFormattedError[];
}

export interface ProtocolServerOptions<S, E> {
  schema: GraphQLSchema;
  executor: QueryExecutor;
  renderer: EventRenderer;
  hooks: ProtocolHooks<S, E>;
}

/** A running operation: a subscription's stop, or nothing to stop for a query in flight. */
interface Operation {
  stop(): void;
}

const completeFrame = (id: string) => `{"id":${JSON.stringify(id)},"type":"complete"}`;
const errorFrame = (id: string, errors: GraphQLFormattedError[]) => JSON.stringify({ id, type: MessageType.Error, payload: errors });

/** Thrown for a message type only a server may send: the caller closes with 4400. */
export class ProtocolViolation extends Error {}

export class ProtocolServer<S, E> {
  constructor(readonly options: ProtocolServerOptions<S, E>) {}

  /**
   * A new connection; the transport hands it every text message and tells it when the
   * socket closed. `extra` (the transport's own: the socket, the client's address) reaches onConnect.
   */
  open(socket: ProtocolSocket, extra: E): Connection<S, E> {
    return new Connection(this.options, socket, extra);
  }
}

export class Connection<S, E = unknown> implements EventContextSource {
  private initReceived = false;
  private acknowledged = false;
  private state: S | undefined;
  private initTimer: NodeJS.Timeout | null = null;
  /** By subscription id; null while an operation is being set up. */
  private operations = new Map<string, Operation | null>();
  private closed = false;
  private closeCode = 0;
  private closeReason = '';

  constructor(
    private readonly options: ProtocolServerOptions<S, E>,
    readonly socket: ProtocolSocket,
    private extra: E | undefined,
  ) {
    if (socket.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) {
      socket.close(ServerCloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
      return;
    }
    const wait = options.hooks.connectionInitWaitTimeout;
    if (wait > 0 && Number.isFinite(wait)) {
      this.initTimer = setTimeout(() => {
        this.initTimer = null;
        if (!this.initReceived) socket.close(ServerCloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
      }, wait);
    }
  }

  /** One text message from the client. Rejects only with ProtocolViolation or an internal failure. */
  async receive(data: string): Promise<void> {
    let message: ReturnType<typeof parseMessage>;
    try {
      message = parseMessage(data);
    } catch {
      return this.socket.close(ServerCloseCode.BadRequest, 'Invalid message received');
    }
    switch (message.type) {
      case MessageType.ConnectionInit: {
        if (this.initReceived) return this.socket.close(ServerCloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
        this.initReceived = true;
        if (this.initTimer) clearTimeout(this.initTimer);
        this.initTimer = null;
        const params = message.payload !== null && typeof message.payload === 'object' && !Array.isArray(message.payload) ? (message.payload as Record<string, unknown>) : undefined;
        const extra = this.extra as E;
        // Needed only to connect: not kept for the connection's lifetime.
        this.extra = undefined;
        const state = await this.options.hooks.onConnect(params, extra);
        if (state === false) return this.socket.close(ServerCloseCode.Forbidden, 'Forbidden');
        // Closed while connecting: the application still has to hear of the state it created.
        if (this.closed) return this.options.hooks.onClose(state, this.closeCode, this.closeReason);
        this.state = state;
        this.acknowledged = true;
        this.socket.send('{"type":"connection_ack"}');
        return;
      }
      case MessageType.Ping:
        this.socket.send(message.payload ? JSON.stringify({ type: MessageType.Pong, payload: message.payload }) : '{"type":"pong"}');
        return;
      case MessageType.Pong:
        return;
      case MessageType.Subscribe: {
        if (!this.acknowledged) return this.socket.close(ServerCloseCode.Unauthorized, 'Unauthorized');
        const { id, payload } = message;
        if (this.operations.has(id)) return this.socket.close(ServerCloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
        this.operations.set(id, null);
        try {
          let admitted = this.options.hooks.admit?.(this.state as S) ?? true;
          if (admitted !== true) admitted = await admitted;
          if (admitted !== true) {
            if (admitted === false) return this.socket.close(ServerCloseCode.SessionRevoked, 'Session revoked');
            if (this.isRegistered(id)) this.sendErrors(id, admitted, undefined);
            this.operations.delete(id);
            return;
          }
          await this.run(id, payload);
        } catch (error) {
          this.operations.delete(id);
          throw error;
        }
        return;
      }
      case MessageType.Complete: {
        const operation = this.operations.get(message.id);
        this.operations.delete(message.id);
        operation?.stop();
        return;
      }
      default:
        throw new ProtocolViolation(`Unexpected message of type ${message.type} received`);
    }
  }

  /** The socket closed: every operation stops, then the application hears of it. */
  closedWith(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closeCode = code;
    this.closeReason = reason;
    if (this.initTimer) clearTimeout(this.initTimer);
    this.initTimer = null;
    const operations = [...this.operations.values()];
    this.operations = new Map();
    for (const operation of operations) operation?.stop();
    this.options.hooks.onClose(this.state, code, reason);
  }

  private isRegistered(id: string, operation: Operation | null = null): boolean {
    // Values are an Operation or null (being set up), never undefined: one lookup tells both.
    return !this.closed && this.operations.get(id) === operation;
  }

  private async run(id: string, payload: SubscribePayload): Promise<void> {
    const { hooks, schema, executor } = this.options;
    const state = this.state as S;
    const prepared = hooks.prepare(state, payload, this.operations.size);
    if (Array.isArray(prepared)) {
      if (this.isRegistered(id)) this.sendErrors(id, prepared as readonly GraphQLError[], undefined);
      this.operations.delete(id);
      return;
    }
    const operation = prepared as PreparedOperation;
    const kind = getOperationAST(operation.document, operation.operationName)?.operation;
    if (!kind) {
      if (this.isRegistered(id)) this.sendErrors(id, [new GraphQLError('Unable to identify operation')], undefined);
      this.operations.delete(id);
      return;
    }
    const masker: ErrorMasker = { maskErrors: (errors) => hooks.mask(state, errors, kind) };
    const contextValue = hooks.context(state);
    if (kind !== 'subscription') {
      const result = await executor.execute(operation.document, operation.operationName, undefined, contextValue, operation.variables);
      this.finishWith(id, null, serialize(result, masker));
      return;
    }
    const source = await createSourceEventStream({
      schema,
      document: operation.document,
      operationName: operation.operationName,
      variableValues: operation.variables,
      contextValue,
    });
    if (!(source instanceof EventStream)) {
      if (Symbol.asyncIterator in (source as object)) {
        // Every subscription of this schema returns an EventStream; anything else is a programming error.
        void (source as AsyncGenerator).return?.(undefined);
        throw new Error('subscription sources must be EventStreams');
      }
      // A refused subscription (graphql-js gives the resolver's error as a result): next, then complete.
      this.finishWith(id, null, serialize(source as ExecutionResult, masker));
      return;
    }
    if (!this.isRegistered(id)) {
      // Completed by the client (or the socket closed) while it was being set up.
      void source.return();
      return;
    }
    const subscription = new Subscription(this, id, operation, source);
    this.operations.set(id, subscription);
    subscription.start();
  }

  /** Sends a result (if the operation is still registered), then completes it. */
  private finishWith(id: string, operation: Operation | null, rendered: RenderedResult | null): void {
    if (!this.isRegistered(id, operation)) return;
    if (rendered) this.socket.send(rendered.frame(id));
    this.socket.send(completeFrame(id));
    this.operations.delete(id);
  }

  /** graphql-ws's `error` message: the operation ends without `complete`. */
  private sendErrors(id: string, errors: readonly GraphQLError[], kind: OperationTypeNode | undefined): void {
    const state = this.state as S;
    this.socket.send(errorFrame(id, this.options.hooks.mask(state, errors, kind)));
  }

  /** @internal */
  deliver(subscription: Subscription<S, E>, rendered: RenderedResult): void {
    if (!this.isRegistered(subscription.id, subscription)) return;
    const { socket } = this;
    if (socket.sendParts) socket.sendParts([subscription.framePrefix, rendered.payload, NEXT_FRAME_SUFFIX]);
    else socket.send(rendered.frame(subscription.id));
  }

  /** @internal */
  complete(subscription: Subscription<S, E>): void {
    this.finishWith(subscription.id, subscription, null);
  }

  /** @internal */
  fail(subscription: Subscription<S, E>, error: unknown): void {
    if (!this.isRegistered(subscription.id, subscription)) return;
    const original = error instanceof Error ? error : new Error(String(error));
    this.sendErrors(subscription.id, [new GraphQLError(original.message, { originalError: original })], OperationTypeNode.SUBSCRIPTION);
    this.operations.delete(subscription.id);
  }

  /** @internal A fresh context for one event of one of this connection's subscriptions. */
  eventContext(): unknown {
    return this.options.hooks.context(this.state as S);
  }

  /** @internal */
  maskErrors(errors: readonly GraphQLError[]): GraphQLFormattedError[] {
    return this.options.hooks.mask(this.state as S, errors, OperationTypeNode.SUBSCRIPTION);
  }

  /** @internal */
  get renderer(): EventRenderer {
    return this.options.renderer;
  }
}

/**
 * One subscription, fed by its EventStream in push mode. Events are rendered as they come
 * (shared with other subscribers where possible) and written in order: a result that needs
 * asynchronous work holds back the ones after it until it is sent.
 */
class Subscription<S, E> implements Operation, StreamSink<unknown> {
  private stopped = false;
  private prefix: Buffer | null = null;
  /** Results waiting behind one still being computed, in order; null when nothing waits. */
  private backlog: Array<RenderedResult | Promise<RenderedResult> | { end: true; error: unknown }> | null = null;

  constructor(
    private readonly connection: Connection<S, E>,
    readonly id: string,
    private readonly operation: PreparedOperation,
    private readonly stream: EventStream<unknown>,
  ) {}

  start(): void {
    if (!this.stream.drainTo(this)) this.stopped = true;
  }

  /** The bytes before the payload of this subscription's `next` frames. */
  get framePrefix(): Buffer {
    return (this.prefix ??= nextFramePrefix(this.id));
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.backlog = null;
    void this.stream.return();
  }

  next(payload: unknown): void {
    if (this.stopped) return;
    let rendered: RenderedResult | Promise<RenderedResult>;
    try {
      rendered = this.connection.renderer.render(this.operation, payload, this.connection);
    } catch (error) {
      return this.error(error);
    }
    if (this.backlog === null && !isPromise(rendered)) {
      this.connection.deliver(this, rendered);
      return;
    }
    this.enqueue(rendered);
  }

  complete(): void {
    if (this.stopped) return;
    if (this.backlog !== null) return this.enqueue({ end: true, error: null });
    this.stopped = true;
    this.connection.complete(this);
  }

  error(error: unknown): void {
    if (this.stopped) return;
    if (this.backlog !== null) return this.enqueue({ end: true, error });
    this.stopped = true;
    this.connection.fail(this, error);
  }

  private enqueue(item: RenderedResult | Promise<RenderedResult> | { end: true; error: unknown }): void {
    if (this.backlog !== null) {
      this.backlog.push(item);
      return;
    }
    this.backlog = [item];
    void this.flush();
  }

  private async flush(): Promise<void> {
    while (this.backlog !== null && this.backlog.length > 0) {
      const item = this.backlog[0];
      let rendered: RenderedResult | { end: true; error: unknown };
      try {
        rendered = item instanceof RenderedResult || 'end' in item ? item : await item;
      } catch (error) {
        rendered = { end: true, error };
      }
      if (this.backlog === null) return;
      this.backlog.shift();
      if (rendered instanceof RenderedResult) {
        this.connection.deliver(this, rendered);
        continue;
      }
      this.backlog = null;
      this.stopped = true;
      void this.stream.return();
      if (rendered.error !== null) this.connection.fail(this, rendered.error);
      else this.connection.complete(this);
      return;
    }
    this.backlog = null;
  }
}

