import {
  createSourceEventStream,
  type DocumentNode,
  execute,
  type ExecutionArgs,
  type ExecutionResult,
  getNamedType,
  type GraphQLSchema,
  TypeInfo,
  visit,
  visitWithTypeInfo,
} from 'graphql';

/**
 * Fields whose value depends on who is asking. A subscription document that selects none
 * of them gives every subscriber the same result for the same event.
 */
export const PER_VIEWER_FIELDS = new Set(['Message.myVote', 'Channel.isMember', 'Channel.unreadCount', 'Channel.peer', 'Channel.name', 'User.email']);

type MaybePromise<T> = T | Promise<T>;

/** Maps an async iterator, passing return() through at once (an async generator would wait for the next event). */
function mapAsyncIterator<T, U>(iterable: AsyncIterable<T>, map: (value: T) => MaybePromise<U>): AsyncGenerator<U, void, void> {
  const iterator = iterable[Symbol.asyncIterator]();
  const mapResult = async (result: IteratorResult<T>): Promise<IteratorResult<U, void>> => {
    if (result.done) return { value: undefined, done: true };
    try {
      return { value: await map(result.value), done: false };
    } catch (error) {
      await iterator.return?.().catch(() => undefined);
      throw error;
    }
  };
  const mapped: AsyncGenerator<U, void, void> = {
    next: async () => mapResult(await iterator.next()),
    return: async () => {
      await iterator.return?.();
      return { value: undefined, done: true };
    },
    throw: async (error: unknown) => {
      if (iterator.throw) return mapResult(await iterator.throw(error));
      throw error;
    },
    [Symbol.asyncIterator]() {
      return mapped;
    },
    // Node 20's AsyncGenerator type also asks for asyncDispose on newer lib settings.
  } as AsyncGenerator<U, void, void>;
  return mapped;
}

/**
 * graphql-js's `subscribe`, except that an event (the same payload object, delivered by the
 * bus to every subscriber on this instance) is executed once per document and variables
 * when the document selects no per-viewer field; every such subscriber gets that result.
 * Hasura and Phoenix call this multiplexing: the cost of an event no longer grows with the
 * number of subscribers, only the send does.
 */
export function createSharedSubscribe(schema: GraphQLSchema, enabled: boolean) {
  const viewerIndependent = new WeakMap<DocumentNode, boolean>();
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 1;
  const results = new WeakMap<object, Map<string, Promise<ExecutionResult> | ExecutionResult>>();

  const isViewerIndependent = (document: DocumentNode): boolean => {
    let known = viewerIndependent.get(document);
    if (known === undefined) {
      known = true;
      const typeInfo = new TypeInfo(schema);
      visit(
        document,
        visitWithTypeInfo(typeInfo, {
          Field(node) {
            const parent = typeInfo.getParentType();
            if (parent && PER_VIEWER_FIELDS.has(`${getNamedType(parent).name}.${node.name.value}`)) known = false;
          },
        }),
      );
      viewerIndependent.set(document, known);
    }
    return known;
  };

  const keyOf = (args: ExecutionArgs): string => {
    let id = documentIds.get(args.document);
    if (id === undefined) documentIds.set(args.document, (id = nextDocumentId++));
    return `${id}|${args.operationName ?? ''}|${JSON.stringify(args.variableValues ?? {})}`;
  };

  return async function subscribe(args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult, void, void> | ExecutionResult> {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in (source as object))) return source as ExecutionResult;
    const shared = enabled && isViewerIndependent(args.document) ? keyOf(args) : null;
    return mapAsyncIterator(source as AsyncIterable<unknown>, (payload) => {
      const run = () => execute({ ...args, rootValue: payload });
      if (!shared || typeof payload !== 'object' || payload === null) return run();
      let byDocument = results.get(payload);
      if (!byDocument) results.set(payload, (byDocument = new Map()));
      let result = byDocument.get(shared);
      if (!result) byDocument.set(shared, (result = run()));
      return result;
    });
  };
}
