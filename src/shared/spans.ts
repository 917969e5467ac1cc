// Spans of our own and span attributes, through @opentelemetry/api only: no-ops unless
// main.ts started tracing (ops/tracing.ts), so the app never loads the SDK itself.
import { context, type Span, SpanStatusCode, trace } from '@opentelemetry/api';

/** The span attribute carrying our request id (the `x-request-id` answered to the client). */
export const REQUEST_ID_ATTRIBUTE = 'chat.request_id';

const TRACER = 'chat-api';

/** Tags the current span (the HTTP server span) with the request id. A no-op when tracing is off. */
export function tagRequest(requestId: string): void {
  trace.getActiveSpan()?.setAttribute(REQUEST_ID_ATTRIBUTE, requestId);
}

/**
 * One span per GraphQL operation, around its execution (graphql-js or graphql-jit, which the
 * graphql instrumentation does not see), so its SQL and Redis spans nest under it.
 */
export function withOperationSpan<T>(operationType: string, operationName: string | null | undefined, requestId: string | null | undefined, run: () => T | Promise<T>): T | Promise<T> {
  const tracer = trace.getTracer(TRACER);
  const span: Span = tracer.startSpan(`graphql.${operationType} ${operationName ?? 'anonymous'}`, {
    attributes: { 'graphql.operation.type': operationType, 'graphql.operation.name': operationName ?? '', ...(requestId ? { [REQUEST_ID_ATTRIBUTE]: requestId } : {}) },
  });
  const end = (error?: unknown) => {
    if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    span.end();
  };
  try {
    const result = context.with(trace.setSpan(context.active(), span), run);
    if (result instanceof Promise) return result.then((value) => (end(), value), (error: unknown) => (end(error), Promise.reject(error)));
    end();
    return result;
  } catch (error) {
    end(error);
    throw error;
  }
}
