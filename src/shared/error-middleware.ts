import type { MiddlewareFn } from 'type-graphql';
import { ArgumentValidationError } from 'type-graphql';
import type { ErrorRecorder } from '../ops/error-recorder';
import type { RequestContext } from './context';
import { AppError, BadUserInputError, InternalError, isConnectionFailure, ServiceUnavailableError } from './errors';

/**
 * The one global middleware that masks unexpected errors: coded errors pass, input
 * validation becomes BAD_USER_INPUT naming the field, an unreachable database or Redis
 * becomes SERVICE_UNAVAILABLE, and anything else is recorded and replaced by
 * INTERNAL_SERVER_ERROR with its errorId. It runs for every resolver, over HTTP and graphql-ws.
 */
export function errorMaskingMiddleware(recorder: ErrorRecorder): MiddlewareFn<RequestContext> {
  return async ({ context, info }, next) => {
    try {
      return await next();
    } catch (error) {
      throw toClientError(error, recorder, {
        operation: `${info.parentType.name}.${info.fieldName}`,
        userId: context?.viewer?.userId ?? null,
        requestId: context?.requestId ?? null,
      });
    }
  };
}

export function toClientError(error: unknown, recorder: ErrorRecorder, details: Parameters<ErrorRecorder['record']>[1]): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof ArgumentValidationError) {
    const first = error.extensions.validationErrors?.[0] as { property?: string; constraints?: Record<string, string>; children?: unknown[] } | undefined;
    const field = firstProperty(first) ?? 'input';
    const message = first?.constraints ? Object.values(first.constraints)[0] : 'Invalid input.';
    return new BadUserInputError(field, message ?? 'Invalid input.');
  }
  if (isConnectionFailure(error)) return new ServiceUnavailableError();
  return new InternalError(recorder.record(error, details));
}

/** The innermost failing property of a class-validator error ("input.body" becomes "body"). */
function firstProperty(error: { property?: string; children?: unknown[] } | undefined): string | undefined {
  let current = error;
  while (current?.children && current.children.length > 0) current = current.children[0] as typeof current;
  return current?.property;
}
