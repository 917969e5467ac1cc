import { CloseCode } from 'graphql-ws';

/**
 * Every code this server closes a graphql-ws socket with, and what it means. graphql-ws's own
 * codes (its `CloseCode`) keep their values; ours are chosen by how the official client
 * (graphql-ws 6 `createClient`) treats them: it never retries 4500, 4005, 4400, 4004, 4401,
 * 4406, 4409, 4429 nor a 1xxx code other than 1000, 1001, 1005, 1006, 1012, 1013 and 1014;
 * it retries every other close (with `retryAttempts`).
 */
export enum ServerCloseCode {
  /** The server is shutting down (retried: another instance takes over). */
  GoingAway = 1001,
  /** A frame over WS_MAX_PAYLOAD_BYTES (sent by `ws` itself; fatal for the client). */
  MessageTooBig = 1009,
  /**
   * "Try Again Later": the client reads too slowly, its unsent data passed
   * WS_MAX_BUFFERED_BYTES. The official client reconnects by itself, and a client that
   * resubscribes with its last cursor as `after` loses nothing.
   */
  SlowConsumer = 1013,
  /** A message that is not graphql-transport-ws, or one only a server may send (fatal). */
  BadRequest = CloseCode.BadRequest,
  /** `subscribe` before the connection was acknowledged (fatal). */
  Unauthorized = CloseCode.Unauthorized,
  /** connection_init with a bad token (retried: the client may bring a new one). */
  Forbidden = CloseCode.Forbidden,
  /** The session was revoked (logout, password change) or expired; the same code as Forbidden. */
  SessionRevoked = CloseCode.Forbidden,
  /** The socket did not ask for the graphql-transport-ws subprotocol (fatal). */
  SubprotocolNotAcceptable = CloseCode.SubprotocolNotAcceptable,
  /** No connection_init within WS_INIT_TIMEOUT_MS (retried). */
  ConnectionInitialisationTimeout = CloseCode.ConnectionInitialisationTimeout,
  /** A `subscribe` with the id of an operation still running (fatal). */
  SubscriberAlreadyExists = CloseCode.SubscriberAlreadyExists,
  /** A second connection_init (fatal). */
  TooManyInitialisationRequests = CloseCode.TooManyInitialisationRequests,
  /**
   * Over WS_MAX_CONNECTIONS_PER_USER, WS_MAX_CONNECTIONS_PER_ADDRESS or
   * WS_MAX_ANONYMOUS_CONNECTIONS (retried, with the client's backoff); the reason says which.
   */
  TooManyConnections = 4430,
  /**
   * A socket acknowledged without a token started no operation within WS_ANONYMOUS_IDLE_MS
   * (retried; the official client's default lazy mode connects only to run an operation).
   */
  AnonymousIdle = 4431,
  /** Handling a message failed unexpectedly (fatal). */
  InternalServerError = CloseCode.InternalServerError,
}
