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

/** True when a database or Redis driver reports that it cannot reach its server, or gave up waiting for it. */
export function isConnectionFailure(error: unknown): boolean {
  const err = error as { code?: string; message?: string; name?: string } | null;
  if (!err) return false;
  // PostgreSQL: 57014 a statement cancelled (DB_STATEMENT_TIMEOUT_MS, e.g. behind a lock held
  // too long), 55P03 a lock not available, 53300 too many connections: the backend is
  // overloaded or stuck, not the request wrong.
  const connectionCodes = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P03', '57014', '55P03', '53300', '08006', '08001', '08003', '08004'];
  if (err.code && connectionCodes.includes(err.code)) return true;
  const message = err.message ?? '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Knex: Timeout acquiring a connection|Client has encountered a connection error|the database system is (starting up|shutting down)|Connection is closed|Stream isn't writeable and enableOfflineQueue|Command timed out|Reached the max retries per request limit|None of startup nodes is available|Failed to refresh slots cache/i.test(
    message,
  );
}

/**
 * The input field a graphql-js variable coercion error is about: the innermost field of
 * `at "input.body"`, the field of `Field "body" of required type ...`/`Field "x" is not
 * defined ...`, else the variable itself. Null when the message is not a coercion error.
 */
function variableField(message: string): string | null {
  // Only coercion errors ("got invalid value", "was not provided", "must not be null"); validation
  // errors about variables ("is never used", "is not defined") stay GRAPHQL_VALIDATION_FAILED.
  const variable = /^Variable "\$([A-Za-z_][A-Za-z0-9_]*)" (?:got invalid value |of required type "[^"]+" was not provided\.$|of non-null type "[^"]+" must not be null\.$)/.exec(message);
  if (!variable) return null;
  const inputField = /; Field "([A-Za-z_][A-Za-z0-9_]*)" (?:of required type|is not defined by type)/.exec(message);
  if (inputField) return inputField[1];
  const at = / at "([A-Za-z0-9_.[\]]+)"; /.exec(message);
  if (at) return at[1].replace(/\[\d+\]/g, '').split('.').pop() || variable[1];
  return variable[1];
}

/** Where an unexpected error happened, for the error log. */
export interface ErrorScope {
  /** `Query.me`, `Mutation.sendMessage`, `Subscription.channelEvents`... */
  operation: string | null;
  userId: string | null;
  requestId: string | null;
}

const ROOT_TYPES: Record<string, string> = { query: 'Query', mutation: 'Mutation', subscription: 'Subscription' };

/** `Query.me` from the operation type and the error's path (its root field). */
export function operationName(operationType: string | undefined, error: GraphQLError): string | null {
  const root = typeof error.path?.[0] === 'string' ? error.path[0] : null;
  if (!root) return operationType ? ROOT_TYPES[operationType] ?? null : null;
  return `${operationType ? ROOT_TYPES[operationType] ?? operationType : 'Operation'}.${root}`;
}

/** Where an unexpected error happened (for the error log). */
export interface ErrorDetails {
  operation?: string | null;
  userId?: string | null;
  requestId?: string | null;
}

/** Records an unexpected error; returns the id clients see as `extensions.errorId` (ops/error-recorder.ts). */
export interface ErrorSink {
  record(error: unknown, details?: ErrorDetails): string;
}

/**
 * The one formatter for both transports (Apollo over HTTP, graphql-ws), applied to the
 * response's errors rather than around every field (a per-field middleware costs a promise
 * per field on every result): coded errors pass, graphql-js request errors pass with their
 * own code, an unreachable database or Redis
 * becomes SERVICE_UNAVAILABLE, and anything else is recorded (`onUnexpected` returns the
 * errorId) and masked as INTERNAL_SERVER_ERROR with nothing internal.
 */
export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
  onUnexpected: (error: unknown) => string,
): GraphQLFormattedError {
  const graphqlError = error instanceof GraphQLError ? error : undefined;
  const original = graphqlError?.originalError ?? error;
  const coded = original instanceof AppError ? original : null;
  if (coded) {
    return { message: coded.message, locations: formatted.locations, path: formatted.path, extensions: { ...coded.extensions } };
  }
  // Apollo's own wrapper for a thrown non-Error ("Unexpected error value: ..."): internal, never shown.
  const apolloInternal = original instanceof GraphQLError && !original.originalError && formatted.extensions?.code === ErrorCode.InternalServerError;
  if (original instanceof GraphQLError && !apolloInternal) {
    // Raised on purpose by graphql-js or a scalar: parse, validation, variable coercion.
    const code = formatted.extensions?.code;
    // Bad variables: BAD_USER_INPUT naming the field, over graphql-ws (where graphql-js gives
    // no code) as over HTTP (where Apollo gives the code but no field).
    const field = typeof formatted.extensions?.field === 'string' ? formatted.extensions.field : variableField(formatted.message);
    if (field !== null && (code === undefined || code === ErrorCode.BadUserInput)) {
      return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code: ErrorCode.BadUserInput, field } };
    }
    const extensions: Record<string, unknown> = { code: typeof code === 'string' ? code : 'GRAPHQL_VALIDATION_FAILED' };
    // RATE_LIMITED carries retryAfter (the per-connection subscription limit); QUERY_TOO_COMPLEX its cost.
    for (const key of ['retryAfter', 'cost', 'maxCost']) {
      if (typeof formatted.extensions?.[key] === 'number') extensions[key] = formatted.extensions[key];
    }
    return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions };
  }
  if (isConnectionFailure(original)) {
    const unavailable = new ServiceUnavailableError();
    return { message: unavailable.message, path: formatted.path, extensions: { ...unavailable.extensions } };
  }
  const errorId = onUnexpected(apolloInternal ? new Error(formatted.message) : original);
  const internal = new InternalError(errorId);
  return { message: internal.message, path: formatted.path, extensions: { ...internal.extensions } };
}

/** Whether formatError would record this error as unexpected. */
export function isUnexpected(error: GraphQLError): boolean {
  const original = error.originalError;
  if (!original || original instanceof GraphQLError) return false;
  return !isConnectionFailure(original);
}

/** A graphql-js message without its "Did you mean ...?": where introspection is off, errors name no field or type the client did not. */
export function withoutSuggestions(message: string): string {
  return message.replace(/ ?Did you mean(.+?)\?$/, '');
}
