import { GraphQLError, type GraphQLFormattedError } from 'graphql';

/** The contract's `extensions.code` values. */
export enum ErrorCode {
  BadUserInput = 'BAD_USER_INPUT',
  Unauthenticated = 'UNAUTHENTICATED',
  Forbidden = 'FORBIDDEN',
  NotFound = 'NOT_FOUND',
  Conflict = 'CONFLICT',
  RateLimited = 'RATE_LIMITED',
  ResyncRequired = 'RESYNC_REQUIRED',
  ServiceUnavailable = 'SERVICE_UNAVAILABLE',
  InternalServerError = 'INTERNAL_SERVER_ERROR',
}

/** An error meant for the client: its message and extensions are safe to show. */
export class AppError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    extensions: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { ...extensions, code } });
    this.name = 'AppError';
  }
}

export class BadUserInputError extends AppError {
  constructor(field: string, message: string) {
    super(ErrorCode.BadUserInput, message, { field });
  }
}

export class UnauthenticatedError extends AppError {
  constructor(message = 'You must be signed in.') {
    super(ErrorCode.Unauthenticated, message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'You are not allowed to do that.') {
    super(ErrorCode.Forbidden, message);
  }
}

export class NotFoundError extends AppError {
  constructor(what = 'Resource') {
    super(ErrorCode.NotFound, `${what} not found.`);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, field?: string) {
    super(ErrorCode.Conflict, message, field ? { field } : {});
  }
}

export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number, message = 'Too many requests; try again later.') {
    super(ErrorCode.RateLimited, message, { retryAfter: Math.max(1, Math.ceil(retryAfterSeconds)) });
  }
}

export class ResyncRequiredError extends AppError {
  constructor(message = 'Too far behind to resume; reload the history and subscribe again.') {
    super(ErrorCode.ResyncRequired, message);
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(message = 'A backing service is unavailable; retry later.') {
    super(ErrorCode.ServiceUnavailable, message);
  }
}

export class InternalError extends AppError {
  constructor(errorId: string) {
    super(ErrorCode.InternalServerError, 'Internal server error.', { errorId });
  }
}

/** True when a database or Redis driver reports that it cannot reach its server. */
export function isConnectionFailure(error: unknown): boolean {
  const err = error as { code?: string; message?: string; name?: string } | null;
  if (!err) return false;
  const connectionCodes = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P03', '08006', '08001', '08003', '08004'];
  if (err.code && connectionCodes.includes(err.code)) return true;
  const message = err.message ?? '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Knex: Timeout acquiring a connection|Client has encountered a connection error|the database system is (starting up|shutting down)|Connection is closed/i.test(
    message,
  );
}

/**
 * The one formatter for both transports (Apollo over HTTP, graphql-ws): coded errors pass,
 * graphql-js request errors pass with their own code, anything else is masked. Unexpected
 * errors are recorded by the error middleware before they get here; `onUnexpected` covers
 * those that happen outside resolvers.
 */
export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
  onUnexpected: (error: unknown) => string,
): GraphQLFormattedError {
  const graphqlError = error instanceof GraphQLError ? error : undefined;
  const original = graphqlError?.originalError ?? error;
  if (original instanceof AppError) {
    return { message: original.message, locations: formatted.locations, path: formatted.path, extensions: { ...original.extensions } };
  }
  if (original instanceof GraphQLError) {
    // Raised on purpose by graphql-js or a scalar: parse, validation, variable coercion.
    const code = formatted.extensions?.code;
    return {
      message: formatted.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: typeof code === 'string' && code !== ErrorCode.InternalServerError ? code : 'GRAPHQL_VALIDATION_FAILED' },
    };
  }
  if (isConnectionFailure(original)) {
    const unavailable = new ServiceUnavailableError();
    return { message: unavailable.message, path: formatted.path, extensions: { ...unavailable.extensions } };
  }
  const errorId = onUnexpected(original);
  const internal = new InternalError(errorId);
  return { message: internal.message, path: formatted.path, extensions: { ...internal.extensions } };
}
