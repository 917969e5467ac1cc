import { withOperationSpan } from './spans';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import { type DocumentNode, execute, type ExecutionResult, GraphQLError, type GraphQLSchema } from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import { isPromise, type MaybePromise } from './promises';

/** A document is compiled once it has run this many times: compiling costs more than one execution. */
const COMPILE_AFTER_RUNS = 2;

interface DocumentEntry {
  runs: number;
  compiled: Map<string, CompiledQuery>;
  /** jit could not compile it: it always runs on graphql-js. */
  uncompilable?: boolean;
}

/**
 * Executes operations with graphql-jit: a document that clients send again and again (all of
 * them, in a chat client) is compiled into a function once and then runs without
 * graphql-js's per-field interpretation. Documents seen once, and any that jit cannot
 * compile, run on graphql-js's `execute`, with the same results.
 */
export class QueryExecutor {
  // Keyed by the parsed document, which both transports cache and reuse per query text.
  private readonly documents = new WeakMap<DocumentNode, DocumentEntry>();

  constructor(private readonly schema: GraphQLSchema) {}

  execute(
    document: DocumentNode,
    operationName: string | null | undefined,
    rootValue: unknown,
    contextValue: unknown,
    variables: Record<string, unknown> | null | undefined,
  ): Promise<ExecutionResult> | ExecutionResult {
    const compiled = this.compiled(document, operationName);
    const run = () => execute({ schema: this.schema, document, operationName, rootValue, contextValue, variableValues: variables });
    if (!compiled) return run();
    const result = compiled.query(rootValue, contextValue, variables ?? {});
    return isPromise(result) ? result.then((settled) => this.canonical(settled, run)) : this.canonical(result, run);
  }

  /**
   * Errors as graphql-js gives them (jit has an error class of its own), so that formatting
   * and masking treat both executors alike. A request error (bad variables: nothing ran, no
   * `data`) is answered by graphql-js itself, with its exact message, locations and nodes.
   */
  private canonical(result: ExecutionResult, rerun: () => Promise<ExecutionResult> | ExecutionResult): Promise<ExecutionResult> | ExecutionResult {
    if (!result.errors || result.errors.length === 0) return result;
    if (!('data' in result) || result.data === undefined) return rerun();
    return { ...result, errors: result.errors.map(asGraphQLError) };
  }

  private compiled(document: DocumentNode, operationName: string | null | undefined): CompiledQuery | null {
    let entry = this.documents.get(document);
    if (!entry) {
      entry = { runs: 0, compiled: new Map() };
      this.documents.set(document, entry);
    }
    const key = operationName ?? '';
    const known = entry.compiled.get(key);
    if (known) return known;
    entry.runs += 1;
    if (entry.runs < COMPILE_AFTER_RUNS || entry.uncompilable) return null;
    let compiled: CompiledQuery | ExecutionResult;
    try {
      compiled = compileQuery(this.schema, document, operationName ?? undefined, { disablingCapturingStackErrors: true }) as CompiledQuery | ExecutionResult;
    } catch {
      compiled = { errors: [] };
    }
    // Not compilable (an unknown operation name, or anything jit does not support): graphql-js runs it, as before.
    if (!isCompiledQuery(compiled)) {
      entry.uncompilable = true;
      return null;
    }
    entry.compiled.set(key, compiled);
    return compiled;
  }
}

function asGraphQLError(error: GraphQLError): GraphQLError {
  // jit's own class extends GraphQLError but leaves `extensions` unset, which Apollo's error
  // formatting cannot read (a resolver's thrown error became an unmapped INTERNAL_SERVER_ERROR).
  if (error instanceof GraphQLError && error.extensions !== undefined) return error;
  const jitError = error as { message: string; path?: ReadonlyArray<string | number>; locations?: GraphQLError['locations']; originalError?: Error | null; extensions?: Record<string, unknown> };
  const converted = new GraphQLError(jitError.message, { path: jitError.path, originalError: jitError.originalError ?? undefined, extensions: jitError.extensions });
  if (jitError.locations) Object.defineProperty(converted, 'locations', { value: jitError.locations, enumerable: true });
  return converted;
}

/** Runs one operation of an HTTP request (the context is the request's). */
export type OperationRunner = (document: DocumentNode, operationName: string | undefined, kind: string, context: unknown, variables: Record<string, unknown> | undefined) => MaybePromise<ExecutionResult>;

/**
 * The executor as HTTP requests run it. `traced`: tracing is on (main.ts started it), and each
 * operation gets a span of its own (ops/tracing.ts) for its SQL and Redis spans to nest under;
 * untraced, the span and its context would be no-ops allocated for every request.
 */
export function operationRunner(executor: QueryExecutor, { traced }: { traced: boolean }): OperationRunner {
  return traced
    ? (document, operationName, kind, context, variables) =>
        withOperationSpan(kind, operationName, (context as { requestId?: string }).requestId, () => executor.execute(document, operationName, undefined, context, variables))
    : (document, operationName, _kind, context, variables) => executor.execute(document, operationName, undefined, context, variables);
}

/** An operation already run for a request: its result, or what it threw. */
export type SettledOperation = { result: ExecutionResult } | { error: unknown };

/**
 * Apollo Server's gateway interface, used only to plug in the executor: the schema is ours
 * and never changes, and every request still goes through Apollo's parsing, validation,
 * plugins and error formatting. `settled` holds results already computed for a request
 * (keyed by its context): the gateway answers with them instead of running the operation again.
 */
export function executorGateway(schema: GraphQLSchema, run: OperationRunner, settled: WeakMap<object, SettledOperation>): GatewayInterface {
  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => undefined;
    },
    async load() {
      return {
        executor: async (request) => {
          const context = request.context as object;
          const done = settled.get(context);
          if (done) {
            settled.delete(context);
            if ('error' in done) throw done.error;
            return done.result;
          }
          return run(request.document, request.operationName ?? undefined, request.operation.operation, context, request.request.variables);
        },
      };
    },
    async stop() {},
  };
}
