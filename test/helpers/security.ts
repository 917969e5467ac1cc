// Shared pieces of the hardening suites (security*.test.ts, properties*.test.ts): crash
// recorders, the contract's error codes, health checks, raw graphql-ws sockets, and a small
// world of users and channels to attack.
import { randomUUID } from 'node:crypto';
import vm from 'node:vm';
import fc from 'fast-check';
import WebSocket from 'ws';
import type { App } from '../../src/app';
import { ChannelKind } from '../../src/channels/channel.entity';
import type { TestApp } from './app';
import { createUser, type TestUser } from './factories';
import { gql, gqlOk, type GraphQLResponse } from './graphql';
import { createChannelDirectly, publicChannelId, sendMessage } from './messages';
import { connectWs } from './ws';

/** Every `extensions.code` the contract allows; anything else (INTERNAL_SERVER_ERROR above all) is a bug. */
export const CONTRACT_CODES = new Set([
  'BAD_USER_INPUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'RATE_LIMITED',
  'RESYNC_REQUIRED',
  'SERVICE_UNAVAILABLE',
  'GRAPHQL_VALIDATION_FAILED',
  'GRAPHQL_PARSE_FAILED',
  'QUERY_TOO_COMPLEX',
  'BAD_REQUEST',
]);

/** Generous limits so property runs measure input handling, not throttling. */
export const GENEROUS_LIMITS: Record<string, string> = {
  LOGIN_MAX_FAILURES_PER_ACCOUNT: '10000',
  LOGIN_MAX_FAILURES_PER_ACCOUNT_TOTAL: '100000',
  LOGIN_MAX_FAILURES_PER_IP: '100000',
  RATE_LIMIT_SEND_MESSAGE: '100000/10',
  RATE_LIMIT_DIRECT_CHANNEL: '100000/10',
  RATE_LIMIT_EDIT_MESSAGE: '100000/10',
  RATE_LIMIT_VOTE: '100000/10',
  RATE_LIMIT_SET_TYPING: '100000/10',
  RATE_LIMIT_CREATE_CHANNEL: '100000/60',
  RATE_LIMIT_SIGNUP_PER_IP: '100000/600',
  WS_MAX_CONNECTIONS_PER_USER: '1000',
};

export interface CrashRecorder {
  readonly rejections: unknown[];
  readonly exceptions: unknown[];
  /** Fails with what was recorded, if anything. */
  assertClean(): void;
  uninstall(): void;
}

/**
 * The real `process` of this worker. Jest gives each test file a copy of `process` whose
 * events are its own; Node emits unhandledRejection and uncaughtException on the real one
 * (where jest's own listeners sit). vm.runInThisContext evaluates in the main context.
 */
function hostProcess(): NodeJS.Process {
  return vm.runInThisContext('process') as NodeJS.Process;
}

/**
 * Records unhandled rejections and uncaught exceptions of this process, which hosts the app
 * under test: a rejected request must never leave one behind.
 */
export function installCrashRecorder(): CrashRecorder {
  const rejections: unknown[] = [];
  const exceptions: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  const onException = (error: unknown) => exceptions.push(error);
  const host = hostProcess();
  host.on('unhandledRejection', onRejection);
  host.on('uncaughtException', onException);
  return {
    rejections,
    exceptions,
    assertClean() {
      const describe = (items: unknown[]) => items.map((item) => (item instanceof Error ? item.stack : String(item)));
      expect({ unhandledRejections: describe(rejections), uncaughtExceptions: describe(exceptions) }).toEqual({ unhandledRejections: [], uncaughtExceptions: [] });
    },
    uninstall() {
      host.off('unhandledRejection', onRejection);
      host.off('uncaughtException', onException);
    },
  };
}

/** The codes of a response's errors. */
export function errorCodes(response: Pick<GraphQLResponse, 'errors'>): Array<string | undefined> {
  return (response.errors ?? []).map((error) => error.extensions?.code);
}

/** Why an error breaks the contract (its code, or the extensions its code requires), or null when it does not. */
export function contractViolation(error: { extensions?: Record<string, any> } | null | undefined): string | null {
  const extensions = error?.extensions ?? {};
  if (!CONTRACT_CODES.has(extensions.code)) return `error code outside the contract: ${extensions.code}`;
  if (extensions.code === 'BAD_USER_INPUT' && (typeof extensions.field !== 'string' || extensions.field === '')) return 'BAD_USER_INPUT without extensions.field';
  if (extensions.code === 'RATE_LIMITED' && !(Number.isInteger(extensions.retryAfter) && extensions.retryAfter > 0)) return 'RATE_LIMITED without extensions.retryAfter';
  return null;
}

/** Fails unless every error carries one of the contract's codes (never INTERNAL_SERVER_ERROR), with the extensions that code requires. */
export function expectContractErrors(response: Pick<GraphQLResponse, 'errors'>, context: unknown = undefined): void {
  const bad = (response.errors ?? []).filter((error) => contractViolation(error) !== null);
  if (bad.length > 0) {
    throw new Error(`${contractViolation(bad[0])}: ${JSON.stringify(bad)}${context === undefined ? '' : `\nfor ${safeJson(context)}`}`);
  }
}

/** JSON for failure messages, cut to a readable size. */
export function safeJson(value: unknown, max = 600): string {
  const text = JSON.stringify(value, (_key, v) => (typeof v === 'string' && v.length > 120 ? `${v.slice(0, 120)}…(${v.length} chars)` : v));
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Rows in the error log (every INTERNAL_SERVER_ERROR leaves one). */
export async function errorLogRows(app: App): Promise<Array<{ operation: string | null; message: string }>> {
  return app.services.orm.em.fork().getConnection().execute('select operation, message from error_log order by at');
}

/**
 * The server still answers: `{ __typename }` over HTTP, and over a fresh graphql-ws
 * connection a new subscription (channelEvents of `public`, as `user`) replays and then
 * delivers live the messages `user` sends. Without a user, an anonymous operation over ws.
 */
export async function expectHealthy(server: TestApp, user?: TestUser): Promise<void> {
  const http = await gql(server.url, '{ __typename }');
  expect(http.status).toBe(200);
  expect(http.data).toEqual({ __typename: 'Query' });
  const client = connectWs(server.wsUrl, user?.token ?? null);
  try {
    if (!user) {
      expect((await client.subscribe('{ __typename }').next()).data).toEqual({ __typename: 'Query' });
      return;
    }
    // Resume after a message sent beforehand: the replay proves the stream started (no polling),
    // and a message sent after it arrives live.
    const channelId = await publicChannelId(server.app);
    const first = await sendMessage(server.url, user.token, channelId, 'health check 1');
    const page = await gqlOk<{ messages: { edges: Array<{ cursor: string; node: { id: string } }> } }>(
      server.url,
      'query($c: ID!) { messages(channelId: $c, last: 2) { edges { cursor node { id } } } }',
      { c: channelId },
      { token: user.token },
    );
    const cursor = page.messages.edges.find((edge) => edge.node.id === first.id)!.cursor;
    const second = await sendMessage(server.url, user.token, channelId, 'health check 2');
    const events = client.subscribe('subscription($c: ID!, $after: String) { channelEvents(channelId: $c, after: $after) { __typename ... on MessageAdded { message { id } } } }', { c: channelId, after: cursor });
    expect((await events.next()).data).toEqual({ channelEvents: { __typename: 'MessageAdded', message: { id: second.id } } });
    const third = await sendMessage(server.url, user.token, channelId, 'health check 3');
    expect((await events.next()).data).toEqual({ channelEvents: { __typename: 'MessageAdded', message: { id: third.id } } });
  } finally {
    await client.dispose();
  }
}

export interface RawSocket {
  socket: WebSocket;
  closed: Promise<{ code: number; reason: string }>;
  messages: any[];
  send(message: unknown): void;
  /** Waits for a server message matching `predicate`. */
  waitFor(predicate: (message: any) => boolean, timeoutMs?: number): Promise<any>;
  /** Sends connection_init and waits for the ack. */
  init(payload?: Record<string, unknown>): Promise<void>;
}

const rawSockets = new Set<WebSocket>();

/** A raw graphql-ws socket, for frames the client library would never send. closeRawSockets() in afterAll. */
export function rawSocket(url: string): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    rawSockets.add(socket);
    const messages: any[] = [];
    const closed = new Promise<{ code: number; reason: string }>((done) =>
      socket.on('close', (code, reason) => {
        rawSockets.delete(socket);
        done({ code, reason: reason.toString() });
      }),
    );
    socket.on('message', (data) => messages.push(JSON.parse(data.toString())));
    const waitFor = async (predicate: (message: any) => boolean, timeoutMs = 3000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching message in ${safeJson(messages)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const raw: RawSocket = {
      socket,
      closed,
      messages,
      send: (message) => socket.send(typeof message === 'string' ? message : JSON.stringify(message)),
      waitFor,
      async init(payload = {}) {
        raw.send({ type: 'connection_init', payload });
        await waitFor((m) => m.type === 'connection_ack');
      },
    };
    socket.once('open', () => resolve(raw));
    socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    socket.once('error', reject);
  });
}

export function closeRawSockets(): void {
  for (const socket of rawSockets) socket.terminate();
  rawSockets.clear();
}

/**
 * The attacker (alice), the victim (bob) and a third user (carol), with:
 * - bobPrivate: bob's PRIVATE channel (carol a member), with a message by bob;
 * - direct: the DIRECT channel of bob and carol, with a message by bob;
 * - bobPublic: bob's PUBLIC channel that alice joined, with a message by bob;
 * - bobPublicUnjoined: bob's PUBLIC channel alice has not joined, with a message by bob;
 * - the `public` channel everyone is in.
 */
export interface World {
  alice: TestUser;
  bob: TestUser;
  carol: TestUser;
  publicId: string;
  bobPrivate: { id: string; messageId: string };
  direct: { id: string; messageId: string };
  bobPublic: { id: string; messageId: string };
  bobPublicUnjoined: { id: string; messageId: string };
}

export async function buildWorld(server: TestApp): Promise<World> {
  const { app, url } = server;
  // Bob's password differs from the factory default the others share.
  const [alice, bob, carol] = await Promise.all([createUser(app), createUser(app, { password: 'bobs own secret password' }), createUser(app)]);
  const publicId = await publicChannelId(app);
  const privateId = await createChannelDirectly(app, { kind: ChannelKind.PRIVATE, ownerId: bob.id, memberIds: [carol.id] });
  const publicJoined = await createChannelDirectly(app, { kind: ChannelKind.PUBLIC, ownerId: bob.id, memberIds: [alice.id, carol.id] });
  const publicUnjoined = await createChannelDirectly(app, { kind: ChannelKind.PUBLIC, ownerId: bob.id, memberIds: [carol.id] });
  const direct = await gqlOk<{ openDirectChannel: { id: string } }>(url, 'mutation($u: ID!) { openDirectChannel(userId: $u) { id } }', { u: carol.id }, { token: bob.token });
  const directId = direct.openDirectChannel.id;
  const [p, d, pj, pu] = await Promise.all([
    sendMessage(url, bob.token, privateId, 'private by bob'),
    sendMessage(url, bob.token, directId, 'direct by bob'),
    sendMessage(url, bob.token, publicJoined, 'public by bob'),
    sendMessage(url, bob.token, publicUnjoined, 'unjoined public by bob'),
  ]);
  return {
    alice,
    bob,
    carol,
    publicId,
    bobPrivate: { id: privateId, messageId: p.id },
    direct: { id: directId, messageId: d.id },
    bobPublic: { id: publicJoined, messageId: pj.id },
    bobPublicUnjoined: { id: publicUnjoined, messageId: pu.id },
  };
}

/** A UUID naming nothing: what an invisible thing must be indistinguishable from. */
export function randomId(): string {
  return randomUUID();
}

// ---- Hostile inputs for the property-based suites ----------------------------------------


/** SQL, LIKE and escaping metacharacters, and other strings that have broken parsers before. */
export const METACHARACTERS = [
  '%', '_', '\\', "'", '"', '%_\\', '\\%', '\\_', '%%', "' OR '1'='1", "'; drop table users; --", '"; select pg_sleep(5); --',
  '$1', '?', '${x}', '{{x}}', '<script>alert(1)</script>', '../../etc/passwd', 'NULL', 'null', 'undefined', ' ', '\t\n', '\u0000',
  '\\u0000', '\ud800', '\udfff', '\ud83d\ude00', '\u202e', '\ufeff', '\u200b', 'é', 'Ǆ', 'ß', 'İ', '\r\n.\r\n', '*', '[a-', '(?', '^$',
];

const loneSurrogate = fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff');

/** Strings of every shape: random (UTF-16 and full Unicode), with NUL and lone surrogates, metacharacters, very long. */
export function hostileString(options: { maxLong?: number } = {}): fc.Arbitrary<string> {
  // At most 2 UTF-8 bytes per character below, so 45,000 characters stay within the 100 KiB body.
  const maxLong = Math.max(options.maxLong ?? 45_000, 200);
  const piece = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.constantFrom(...METACHARACTERS),
    loneSurrogate,
  );
  return fc.oneof(
    { arbitrary: fc.string(), weight: 2 },
    { arbitrary: fc.string({ unit: 'binary' }), weight: 2 },
    { arbitrary: fc.constantFrom(...METACHARACTERS), weight: 2 },
    { arbitrary: fc.array(piece, { minLength: 1, maxLength: 8 }).map((parts) => parts.join('')), weight: 3 },
    // NUL (PostgreSQL refuses it in text) and lone surrogates, alone or inside ordinary text.
    { arbitrary: fc.tuple(fc.string({ maxLength: 5 }), fc.constantFrom('\u0000', '\ud800', '\udc00'), fc.string({ maxLength: 5 })).map(([a, bad, b]) => `${a}${bad}${b}`), weight: 3 },
    // Very long, within the 100 KiB body limit once JSON-encoded (ASCII and surrogate-heavy variants).
    { arbitrary: fc.tuple(fc.constantFrom('a', '%', '_', "'", 'é'), fc.integer({ min: 100, max: maxLong })).map(([c, n]) => c.repeat(n)), weight: 1 },
    { arbitrary: fc.integer({ min: 3, max: Math.floor(maxLong / 6) }).map((n) => '\ud83d\ude00\ud800'.repeat(Math.floor(n / 3))), weight: 1 },
  );
}

/** base64 and base64url garbage, and well-formed cursors of every kind with any payload. */
export function hostileCursor(known: string[] = []): fc.Arbitrary<string> {
  const kinds = fc.constantFrom('msg', 'user', 'activity', 'channel', 'member', 'message', '', 'msg:msg');
  const payload = fc.oneof(
    fc.integer().map(String),
    fc.constantFrom('-1', '0', '1e3', '0x10', '9'.repeat(16), '9'.repeat(40), '1.5', ' 1', 'NaN', 'Infinity', '', '1;2', '00000000000000000001', '\u0000', 'a\u0000', '\ud800', '%', "'"),
    fc.uuid(),
    hostileString({ maxLong: 300 }),
  );
  const options: Array<fc.Arbitrary<string>> = [
    hostileString({ maxLong: 2000 }),
    fc.base64String(),
    fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('base64url')),
    fc.tuple(kinds, payload).map(([kind, p]) => Buffer.from(`${kind}:${p}`, 'utf8').toString('base64url')),
    fc.tuple(kinds, payload).map(([kind, p]) => Buffer.from(`${kind}:${p}`, 'utf8').toString('base64')),
  ];
  if (known.length > 0) options.push(fc.constantFrom(...known));
  return fc.oneof(...options);
}

/** Integers around every limit, and numbers GraphQL's Int cannot hold. */
export const hostileInt: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, -1, 1, 20, 100, 101, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 53, -(2 ** 53), 2 ** 53 + 2, 1e308, -1e308, 0.5, 1.5, -0),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** IDs: UUIDs (random, nil, upper-case, padded), non-UUIDs, numbers, and the given real ones. */
export function hostileId(known: string[] = []): fc.Arbitrary<string | number> {
  const options: Array<fc.Arbitrary<string | number>> = [
    fc.uuid(),
    fc.uuid().map((id) => id.toUpperCase()),
    fc.uuid().map((id) => ` ${id} `),
    fc.uuid().map((id) => `${id}\u0000`),
    fc.uuid().map((id) => id.replace(/-/g, '')),
    fc.constantFrom('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '{00000000-0000-0000-0000-000000000000}'),
    hostileString({ maxLong: 2000 }),
    fc.integer(),
  ];
  if (known.length > 0) options.push(fc.constantFrom(...known), fc.constantFrom(...known));
  return fc.oneof(...options);
}

/** Any JSON value, for variables of the wrong type entirely. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  hostileInt,
  fc.string({ maxLength: 20 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
);

/** `value`, or sometimes a value of the wrong type, null, or nothing at all (undefined drops it from the JSON). */
export function sometimesWrong<T>(value: fc.Arbitrary<T>): fc.Arbitrary<T | unknown> {
  return fc.oneof({ arbitrary: value, weight: 8 }, { arbitrary: anyJson, weight: 1 }, { arbitrary: fc.constantFrom(null, undefined), weight: 1 });
}

/**
 * fc.assert with `numRuns`, keeping the failure report readable: fast-check prints the whole
 * counterexample, and a 45,000-character string would bury the seed, the path and the cause.
 */
export async function assertProperty(numRuns: number, property: fc.IAsyncPropertyWithHooks<any>): Promise<void> {
  try {
    await fc.assert(property, { numRuns });
  } catch (error) {
    const cut = (text: string) => text.split('\n').map((line) => (line.length > 800 ? `${line.slice(0, 800)}…(${line.length} chars)` : line)).join('\n');
    const cause = (error as { cause?: unknown }).cause;
    throw new Error(cut((error as Error).message) + (cause instanceof Error ? `\n${cut(cause.message)}` : ''));
  }
}
