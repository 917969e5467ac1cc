import { BREAK, type DocumentNode, type ExecutionResult, type GraphQLFormattedError, type GraphQLSchema, TypeInfo, visit, visitWithTypeInfo } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { QueryExecutor } from '../shared/jit';
import { isPromise, type MaybePromise } from '../shared/promises';
import { isPerViewerField } from '../shared/viewer-field';

/** An operation as it runs for one subscriber: what graphql-ws's subscribe message asked for, checked. */
export interface PreparedOperation {
  document: DocumentNode;
  operationName: string | undefined;
  variables: Record<string, unknown> | undefined;
  /** Subscribers with the same key get the same result for the same event (null: per viewer). */
  shareKey: string | null;
  /**
   * The last event rendered for this shared operation and its result: the subscribers of one
   * event come one after the other, and this object is the one they all hold (events handed
   * out as a run alternate, and are found in EventRenderer's map instead).
   */
  lastPayload?: unknown;
  lastRendered?: MaybePromise<RenderedResult>;
}

/** What precedes a `next` message's payload for subscription `id` (made once per subscription). */
export function nextFramePrefix(id: string): Buffer {
  return Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
}

/** What follows a `next` message's payload. */
export const NEXT_FRAME_SUFFIX = Buffer.from('}');

/** One event's result as sent: the JSON of graphql-ws's `next` payload, and its frames by subscription id. */
export class RenderedResult {
  private firstId: string | null = null;
  private firstFrame: Buffer | null = null;
  private otherFrames: Map<string, Buffer> | null = null;
  private payloadBytes: Buffer | null = null;

  constructor(readonly json: string) {}

  /**
   * The payload's bytes, encoded once for every subscriber: a transport that writes a frame in
   * parts (ProtocolSocket.sendParts) sends each its own prefix, then these same bytes.
   */
  get payload(): Buffer {
    return (this.payloadBytes ??= Buffer.from(this.json));
  }

  /** The whole `next` message for subscription `id`; subscribers that chose the same id share its bytes. */
  frame(id: string): Buffer {
    if (id === this.firstId) return this.firstFrame!;
    const known = this.otherFrames?.get(id);
    if (known) return known;
    const frame = Buffer.concat([nextFramePrefix(id), this.payload, NEXT_FRAME_SUFFIX]);
    if (this.firstId === null) {
      this.firstId = id;
      this.firstFrame = frame;
    } else if ((this.otherFrames ??= new Map()).size < MAX_FRAMES_PER_RESULT) {
      this.otherFrames.set(id, frame);
    }
    return frame;
  }
}

/**
 * Bytes of shared operations remembered (one per channel and document, typically, of a few
 * hundred bytes), counted by their key, which holds the variables' JSON: distinct large
 * variables can only push older entries out.
 */
const MAX_SHARED_OPERATION_BYTES = 8 * 1024 * 1024;

/** Distinct subscription ids whose frames one result keeps (clients mostly count from "1"). */
const MAX_FRAMES_PER_RESULT = 16;

/** Formats (and masks) a result's errors for the client. */
export interface ErrorMasker {
  maskErrors(errors: NonNullable<ExecutionResult['errors']>): GraphQLFormattedError[];
}

/** A subscriber, as rendering sees it: a context to execute an event with (asked only when it has to be), and its masking. */
export interface EventContextSource extends ErrorMasker {
  eventContext(): unknown;
}

/**
 * Executes and serializes subscription events. Hasura and Phoenix call the main trick
 * multiplexing: an event (the same payload object, delivered by the bus to every subscriber
 * of this instance) is executed and serialized once per document and variables when the
 * document selects no per-viewer field, and every such subscriber gets the same bytes. The
 * cost of an event then no longer grows with the number of subscribers, only the writes do.
 */
export class EventRenderer {
  private readonly viewerIndependent = new WeakMap<DocumentNode, boolean>();
  private readonly documentIds = new WeakMap<DocumentNode, number>();
  private nextDocumentId = 1;
  private readonly shared = new WeakMap<object, Map<string, MaybePromise<RenderedResult>>>();
  /** One PreparedOperation per share key, for all the subscribers that have it (bounded). */
  private readonly operations = new LRUCache<string, PreparedOperation>({
    maxSize: MAX_SHARED_OPERATION_BYTES,
    // The key (with the variables' JSON) and about as much again for the variables themselves.
    sizeCalculation: (_operation, key) => 2 * key.length + 200,
  });

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly executor: QueryExecutor,
    private readonly enabled: boolean,
  ) {}

  /**
   * The operation as subscribers run it. Those whose document selects no per-viewer field get
   * a share key, and all the subscribers with the same key the same object: a subscription
   * then holds no document, variables or key of its own.
   */
  prepare(document: DocumentNode, operationName: string | undefined, variables: Record<string, unknown> | undefined): PreparedOperation {
    if (!this.enabled || !this.isViewerIndependent(document)) return { document, operationName, variables, shareKey: null };
    let id = this.documentIds.get(document);
    if (id === undefined) this.documentIds.set(document, (id = this.nextDocumentId++));
    const shareKey = `${id}|${operationName ?? ''}|${JSON.stringify(variables ?? {})}`;
    const known = this.operations.get(shareKey);
    if (known && known.document === document) return known;
    const operation: PreparedOperation = { document, operationName, variables, shareKey };
    this.operations.set(shareKey, operation);
    return operation;
  }

  /**
   * The result of one event for one subscriber. A context is asked for only when the event
   * has to be executed (once per share key, or for every per-viewer subscriber).
   */
  render(operation: PreparedOperation, payload: unknown, subscriber: EventContextSource): MaybePromise<RenderedResult> {
    const key = operation.shareKey;
    if (key === null || typeof payload !== 'object' || payload === null) return this.run(operation, payload, subscriber);
    if (operation.lastPayload === payload) return operation.lastRendered!;
    let byKey = this.shared.get(payload);
    if (!byKey) this.shared.set(payload, (byKey = new Map()));
    let rendered = byKey.get(key);
    if (!rendered) {
      rendered = this.run(operation, payload, subscriber);
      byKey.set(key, rendered);
      if (isPromise(rendered)) {
        const settling = rendered;
        // Later subscribers get the value itself, not another promise.
        void settling
          .then((value) => {
            if (byKey.get(key) === settling) byKey.set(key, value);
            if (operation.lastRendered === settling) operation.lastRendered = value;
          })
          .catch(() => undefined);
      }
    }
    operation.lastPayload = payload;
    operation.lastRendered = rendered;
    return rendered;
  }

  private run(operation: PreparedOperation, payload: unknown, subscriber: EventContextSource): MaybePromise<RenderedResult> {
    const result = this.executor.execute(operation.document, operation.operationName, payload, subscriber.eventContext(), operation.variables);
    return isPromise(result) ? result.then((settled) => serialize(settled, subscriber)) : serialize(result, subscriber);
  }

  /**
   * True when the document selects no field marked per-viewer (shared/viewer-field.ts) in
   * the schema; walked once per document.
   */
  private isViewerIndependent(document: DocumentNode): boolean {
    let known = this.viewerIndependent.get(document);
    if (known === undefined) {
      let independent = true;
      const typeInfo = new TypeInfo(this.schema);
      visit(
        document,
        visitWithTypeInfo(typeInfo, {
          Field() {
            const field = typeInfo.getFieldDef();
            if (field && isPerViewerField(field)) {
              independent = false;
              return BREAK;
            }
            return undefined;
          },
        }),
      );
      known = independent;
      this.viewerIndependent.set(document, known);
    }
    return known;
  }
}

/** graphql-ws's `next` payload: the result, with errors formatted (and masked). */
export function serialize(result: ExecutionResult, masker: ErrorMasker): RenderedResult {
  if (!result.errors || result.errors.length === 0) {
    return new RenderedResult(result.extensions ? JSON.stringify({ data: result.data, extensions: result.extensions }) : JSON.stringify({ data: result.data }));
  }
  return new RenderedResult(JSON.stringify({ ...result, errors: masker.maskErrors(result.errors) }));
}
