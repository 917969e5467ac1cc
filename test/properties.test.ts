// Property-based tests: random and hostile values for every argument of every query and
// mutation in schema.graphql, sent through variables over HTTP the way clients do. Whatever
// comes in, the answer is JSON with only the contract's error codes (never
// INTERNAL_SERVER_ERROR, never a 5xx), nothing is recorded in the error log, no unhandled
// rejection or uncaught exception happens in this process (which hosts the app), and the
// server stays healthy. fast-check prints the seed and the shrunk counterexample on failure.
import fc from 'fast-check';
import { resetState } from './helpers/db';
import { gqlOk } from './helpers/graphql';
import { startTestApp, stopAllApps, type TestApp } from './helpers/app';
import { createUser, type TestUser } from './helpers/factories';
import { disposeAllWsClients } from './helpers/ws';
import { CHANNEL, CREATE, DELETE_CHANNEL, DIRECTORY, INVITE, JOIN, LEAVE, MARK_READ, MEMBERS, OPEN_DIRECT, REMOVE, UPDATE } from './helpers/channels';
import { DELETE, EDIT, HISTORY, SEND, VOTE } from './helpers/messages';
import { CHANGE_PASSWORD, LOGIN, MY_ACTIVITY, SIGNUP, UPDATE_PROFILE, USER_FIELDS } from './helpers/accounts';
import {
  buildWorld,
  closeRawSockets,
  contractViolation,
  type CrashRecorder,
  errorLogRows,
  expectHealthy,
  GENEROUS_LIMITS,
  hostileCursor,
  hostileId,
  hostileInt,
  hostileString,
  assertProperty,
  installCrashRecorder,
  safeJson,
  sometimesWrong,
  type World,
} from './helpers/security';

/** Runs per property; PROPERTY_RUNS=500 explores further (fast-check prints the seed of any failure). */
const NUM_RUNS = Number(process.env.PROPERTY_RUNS) || 40;
/** HTTP_MAX_BODY_BYTES's default. */
const MAX_BODY_BYTES = 100 * 1024;
const SET_TYPING = 'mutation($id: ID!) { setTyping(channelId: $id) }';
const USER = `query($id: ID, $username: String) { user(id: $id, username: $username) { ${USER_FIELDS} online } }`;
const USERS = `query($search: String, $first: Int, $after: String) {
  users(search: $search, first: $first, after: $after) { edges { cursor node { id username email } } pageInfo { hasNextPage endCursor } }
}`;

/** One POST, never throwing: the status, and the parsed body (null when it is not JSON). */
async function post(url: string, query: string, variables: unknown, token: string | null): Promise<{ status: number; body: any; text: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const text = await response.text();
  let body: any = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: response.status, body, text };
}

/** The contract for any input: a JSON GraphQL answer below 500, with only the contract's codes. */
function expectWellFormed(result: { status: number; body: any; text: string }, sent: unknown): void {
  const problem = (what: string) => new Error(`${what}\nanswer (${result.status}): ${result.text.slice(0, 600)}\nfor ${safeJson(sent)}`);
  if (result.status >= 500) throw problem('5xx answer');
  if (!result.body || typeof result.body !== 'object') throw problem('not a JSON object');
  if (!('data' in result.body) && !Array.isArray(result.body.errors)) throw problem('neither data nor errors');
  for (const error of result.body.errors ?? []) {
    const violation = contractViolation(error);
    if (violation) throw problem(violation);
  }
}

describe('properties: hostile input over HTTP', () => {
  let server: TestApp;
  let world: World;
  let dave: TestUser;
  let crashes: CrashRecorder;
  /** Alice owns this channel and wrote this message, so owner- and author-only paths run deep. */
  let aliceChannelId: string;
  let aliceMessageId: string;
  let cursors: string[];
  let ids: string[];

  beforeAll(async () => {
    crashes = installCrashRecorder();
    // Trusting X-Forwarded-For lets the client-address header reach the activity log and the throttles.
    server = await startTestApp({ ...GENEROUS_LIMITS, TRUST_PROXY: 'true' });
    await resetState(server.app);
    world = await buildWorld(server);
    dave = await createUser(server.app);
    const created = await gqlOk(server.url, CREATE, { input: { name: 'alices-channel', kind: 'PRIVATE' } }, { token: world.alice.token });
    aliceChannelId = created.createChannel.id;
    const sent = await gqlOk(server.url, SEND, { input: { channelId: aliceChannelId, body: 'by alice' } }, { token: world.alice.token });
    aliceMessageId = sent.sendMessage.id;
    // Real cursors of every kind, including ones from lists alice may not see.
    const bobHistory = await gqlOk(server.url, HISTORY, { channelId: world.bobPrivate.id, last: 5 }, { token: world.bob.token });
    const users = await gqlOk(server.url, USERS, { first: 3 }, { token: world.bob.token });
    const directory = await gqlOk(server.url, DIRECTORY, { first: 3 }, { token: world.bob.token });
    const members = await gqlOk(server.url, MEMBERS, { id: world.bobPrivate.id, first: 3 }, { token: world.bob.token });
    const activity = await gqlOk(server.url, MY_ACTIVITY, { first: 3 }, { token: world.bob.token });
    cursors = [
      ...bobHistory.messages.edges.map((e: any) => e.cursor),
      ...users.users.edges.map((e: any) => e.cursor),
      ...directory.channels.edges.map((e: any) => e.cursor),
      ...members.channel.members.edges.map((e: any) => e.cursor),
      ...activity.myActivity.edges.map((e: any) => e.cursor),
    ];
    ids = [
      world.publicId,
      world.bobPrivate.id,
      world.bobPrivate.messageId,
      world.direct.id,
      world.direct.messageId,
      world.bobPublic.id,
      world.bobPublic.messageId,
      world.bobPublicUnjoined.id,
      world.bobPublicUnjoined.messageId,
      world.bob.id,
      world.carol.id,
      world.alice.id,
      aliceMessageId,
    ];
  });
  afterAll(async () => {
    // Whatever came in, the server is healthy, logged no internal error and left no rejection.
    await expectHealthy(server, world.bob);
    expect(await errorLogRows(server.app)).toEqual([]);
    crashes.assertClean();
  });
  afterAll(async () => {
    closeRawSockets();
    await disposeAllWsClients();
    await stopAllApps();
    crashes.uninstall();
  });

  /** Runs `NUM_RUNS` requests of `query` with generated variables, as `token` (alice by default). */
  async function check(query: string, variables: fc.Arbitrary<Record<string, unknown>>, token: () => string | null = () => world.alice.token): Promise<void> {
    await assertProperty(NUM_RUNS,
      fc.asyncProperty(variables, async (vars) => {
        // Several long strings together can pass the body limit (413, tested in limits.test.ts): not this property's subject.
        fc.pre(Buffer.byteLength(JSON.stringify({ query, variables: vars })) <= MAX_BODY_BYTES);
        const result = await post(server.url, query, vars, token());
        expectWellFormed(result, vars);
      }),
    );
  }

  const id = () => hostileId(ids);
  const cursor = () => sometimesWrong(hostileCursor(cursors));
  const int = () => sometimesWrong(hostileInt);
  const text = () => sometimesWrong(hostileString());
  const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

  describe('every string and ID argument, one at a time, with each nasty value', () => {
    // Random runs may miss a rare slot; this sweep puts every nasty value in every slot once.
    const NASTY = [
      'a\u0000b',
      '\u0000',
      '\ud800',
      'x\udfffy',
      "%_\\'\"",
      '   ',
      '',
      'ǅ'.repeat(5000),
    ];
    /** For cursor arguments, also well-formed cursors of every kind whose payload has NUL or a lone surrogate. */
    const NASTY_CURSORS = ['channel', 'user', 'member', 'msg', 'activity'].flatMap((kind) =>
      [`${kind}:a\u0000`, `${kind}:\ud800`].map((text) => Buffer.from(text).toString('base64url')),
    );
    type Slot = { name: string; query: string; base: () => Record<string, unknown>; paths: string[]; token?: () => string | null };
    const slots = (): Slot[] => [
      { name: 'user', query: USER, base: () => ({ id: world.bob.id }), paths: ['id'] },
      { name: 'user by name', query: USER, base: () => ({ username: world.bob.username }), paths: ['username'] },
      { name: 'users', query: USERS, base: () => ({ search: 'a', after: cursors[5] }), paths: ['search', 'after'] },
      { name: 'myActivity', query: MY_ACTIVITY, base: () => ({ after: cursors[cursors.length - 1] }), paths: ['after'] },
      { name: 'channel', query: CHANNEL, base: () => ({ id: world.publicId }), paths: ['id'] },
      { name: 'members', query: MEMBERS, base: () => ({ id: world.publicId, after: cursors[0] }), paths: ['id', 'after'] },
      { name: 'channels', query: DIRECTORY, base: () => ({ search: 'a', after: cursors[0] }), paths: ['search', 'after'] },
      { name: 'messages', query: HISTORY, base: () => ({ channelId: world.bobPublic.id, after: cursors[0], before: cursors[0] }), paths: ['channelId', 'after', 'before'] },
      { name: 'signup', query: SIGNUP, base: () => ({ input: { email: 'nasty@example.test', username: 'nasty_user', password: 'a long enough password', displayName: 'N' } }), paths: ['input.email', 'input.username', 'input.password', 'input.displayName'], token: () => null },
      { name: 'login', query: LOGIN, base: () => ({ input: { login: world.carol.username, password: 'wrong password' } }), paths: ['input.login', 'input.password'], token: () => null },
      { name: 'changePassword', query: CHANGE_PASSWORD, base: () => ({ input: { currentPassword: 'wrong password', newPassword: 'another long password' } }), paths: ['input.currentPassword', 'input.newPassword'], token: () => dave.token },
      { name: 'updateProfile', query: UPDATE_PROFILE, base: () => ({ input: { displayName: 'Alice', bio: 'bio' } }), paths: ['input.displayName', 'input.bio'] },
      { name: 'createChannel', query: CREATE, base: () => ({ input: { name: 'nasty-channel', description: 'd', kind: 'PRIVATE' } }), paths: ['input.name', 'input.description', 'input.kind'] },
      { name: 'joinChannel', query: JOIN, base: () => ({ id: world.publicId }), paths: ['id'] },
      { name: 'leaveChannel', query: LEAVE, base: () => ({ id: world.bobPublic.id }), paths: ['id'], token: () => world.carol.token },
      { name: 'inviteToChannel', query: INVITE, base: () => ({ id: aliceChannelId, userId: world.carol.id }), paths: ['id', 'userId'] },
      { name: 'removeFromChannel', query: REMOVE, base: () => ({ id: aliceChannelId, userId: world.carol.id }), paths: ['id', 'userId'] },
      { name: 'updateChannel', query: UPDATE, base: () => ({ input: { channelId: aliceChannelId, name: 'alices-channel', description: 'd' } }), paths: ['input.channelId', 'input.name', 'input.description'] },
      { name: 'deleteChannel', query: DELETE_CHANNEL, base: () => ({ id: world.bobPublic.id }), paths: ['id'] },
      { name: 'openDirectChannel', query: OPEN_DIRECT, base: () => ({ userId: world.carol.id }), paths: ['userId'] },
      { name: 'markRead', query: MARK_READ, base: () => ({ id: aliceChannelId, messageId: aliceMessageId }), paths: ['id', 'messageId'] },
      { name: 'setTyping', query: SET_TYPING, base: () => ({ id: aliceChannelId }), paths: ['id'] },
      { name: 'sendMessage', query: SEND, base: () => ({ input: { channelId: aliceChannelId, body: 'b', clientMessageId: 'c' } }), paths: ['input.channelId', 'input.body', 'input.clientMessageId'] },
      { name: 'editMessage', query: EDIT, base: () => ({ id: aliceMessageId, body: 'b' }), paths: ['id', 'body'] },
      { name: 'vote', query: VOTE, base: () => ({ id: world.bobPublic.messageId, value: 'UP' }), paths: ['id', 'value'] },
      { name: 'deleteMessage', query: DELETE, base: () => ({ id: world.bobPublic.messageId }), paths: ['id'] },
    ];

    function withValue(base: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
      const copy = structuredClone(base);
      const keys = path.split('.');
      let target: any = copy;
      for (const key of keys.slice(0, -1)) target = target[key];
      target[keys[keys.length - 1]] = value;
      return copy;
    }

    it('never answers with an internal error', async () => {
      for (const slot of slots()) {
        for (const path of slot.paths) {
          const values = path === 'after' || path === 'before' ? [...NASTY, ...NASTY_CURSORS] : NASTY;
          await Promise.all(
            values.map(async (value) => {
              const variables = withValue(slot.base(), path, value);
              const result = await post(server.url, slot.query, variables, (slot.token ?? (() => world.alice.token))());
              expectWellFormed(result, { operation: slot.name, path, variables });
            }),
          );
        }
      }
    });
  });

  describe('queries', () => {
    it('user(id, username)', () => check(USER, fc.record({ id: optional(sometimesWrong(id())), username: optional(text()) })));
    it('users(search, first, after)', () => check(USERS, fc.record({ search: optional(text()), first: optional(int()), after: optional(cursor()) })));
    it('myActivity(first, after)', () => check(MY_ACTIVITY, fc.record({ first: optional(int()), after: optional(cursor()) })));
    it('channel(id)', () => check(CHANNEL, fc.record({ id: sometimesWrong(id()) })));
    it('channel.members(first, after)', () => check(MEMBERS, fc.record({ id: fc.oneof(fc.constant(world.publicId), id()), first: optional(int()), after: optional(cursor()) })));
    it('channels(search, first, after)', () => check(DIRECTORY, fc.record({ search: optional(text()), first: optional(int()), after: optional(cursor()) })));
    it('messages(channelId, first, after, last, before)', () =>
      check(
        HISTORY,
        fc.record({
          channelId: fc.oneof(fc.constant(world.bobPublic.id), sometimesWrong(id())),
          first: optional(int()),
          after: optional(cursor()),
          last: optional(int()),
          before: optional(cursor()),
        }),
      ));
    it('me, with any token in the Authorization header', async () => {
      await assertProperty(NUM_RUNS,
        fc.asyncProperty(fc.oneof(hostileString({ maxLong: 5000 }), fc.base64String(), fc.string().map((s) => `Bearer ${s}`)), async (header) => {
          let headerValue: string;
          try {
            headerValue = new Headers({ authorization: header }).get('authorization')!;
          } catch {
            return; // not sendable as an HTTP header at all
          }
          // Nor is a control character, which Headers keeps and fetch then refuses to send ("\u0001").
          if (!/^[\t\x20-\x7e\x80-\xff]*$/.test(headerValue)) return;
          const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: headerValue }, body: JSON.stringify({ query: '{ me { id } }' }) });
          const body = await response.text();
          expectWellFormed({ status: response.status, body: JSON.parse(body), text: body }, header);
        }),
      );
    });
  });

  describe('request headers', () => {
    // What an HTTP header can carry: Latin-1 without control characters (fetch refuses the rest).
    const headerText = fc.oneof(
      fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 2000 }),
      fc.constantFrom('', ' ', '::1', '127.0.0.1, 10.0.0.1', '999.999.999.999', 'unknown', ', , ,', "'; drop table activity_log; --", '%00', 'a'.repeat(8000)),
    );
    it('login and signup with any client address, user agent and request id', async () => {
      await assertProperty(
        NUM_RUNS,
        fc.asyncProperty(fc.record({ forwarded: headerText, agent: headerText, requestId: headerText, good: fc.boolean() }), async ({ forwarded, agent, requestId, good }) => {
          const headers = { 'content-type': 'application/json', 'x-forwarded-for': forwarded, 'user-agent': agent, 'x-request-id': requestId };
          const input = { login: world.carol.username, password: good ? world.carol.password : 'a wrong password' };
          for (const [query, variables] of [
            [LOGIN, { input }],
            [SIGNUP, { input: { email: `${Math.random().toString(36).slice(2)}@example.test`, username: `h${Math.random().toString(36).slice(2, 12)}`, password: 'a long enough password' } }],
          ] as const) {
            const response = await fetch(server.url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
            const text = await response.text();
            let body: any = null;
            try {
              body = JSON.parse(text);
            } catch {
              body = null;
            }
            expectWellFormed({ status: response.status, body, text }, { headers, query: query.slice(0, 20) });
          }
        }),
      );
    });
  });

  describe('account mutations', () => {
    it('signup(input)', () =>
      check(
        SIGNUP,
        fc.record({
          input: sometimesWrong(
            fc.record({
              email: fc.oneof(text(), fc.emailAddress(), hostileString().map((s) => `${s}@example.test`)),
              username: fc.oneof(text(), fc.stringMatching(/^[a-z][a-z0-9_]{2,20}$/)),
              password: fc.oneof(text(), fc.constant('a long enough password')),
              displayName: optional(text()),
            }),
          ),
        }),
        () => null,
      ));
    it('login(input)', () =>
      check(
        LOGIN,
        fc.record({
          input: sometimesWrong(
            fc.record({
              login: fc.oneof(text(), fc.constant(world.bob.username), fc.constant(world.bob.email)),
              password: fc.oneof(text(), fc.constant(`${world.bob.password}\u0000`)),
            }),
          ),
        }),
        () => null,
      ));
    it('changePassword(input)', () =>
      check(CHANGE_PASSWORD, fc.record({ input: sometimesWrong(fc.record({ currentPassword: text(), newPassword: text() })) }), () => dave.token));
    it('updateProfile(input)', () =>
      check(UPDATE_PROFILE, fc.record({ input: sometimesWrong(fc.record({ displayName: optional(text()), bio: optional(text()) })) })));
  });

  describe('channel mutations', () => {
    const kind = () => sometimesWrong(fc.oneof(fc.constantFrom('PUBLIC', 'PRIVATE', 'DIRECT'), hostileString({ maxLong: 100 })));
    it('createChannel(input)', () =>
      check(CREATE, fc.record({ input: sometimesWrong(fc.record({ name: text(), description: optional(text()), kind: optional(kind()) })) })));
    it('joinChannel(channelId)', () => check(JOIN, fc.record({ id: sometimesWrong(id()) })));
    it('leaveChannel(channelId)', () => check(LEAVE, fc.record({ id: sometimesWrong(id()) }), () => world.carol.token));
    it('inviteToChannel(channelId, userId)', () =>
      check(INVITE, fc.record({ id: fc.oneof(fc.constant(aliceChannelId), sometimesWrong(id())), userId: sometimesWrong(id()) })));
    it('removeFromChannel(channelId, userId)', () =>
      check(REMOVE, fc.record({ id: fc.oneof(fc.constant(aliceChannelId), sometimesWrong(id())), userId: sometimesWrong(id()) })));
    it('updateChannel(input)', () =>
      check(
        UPDATE,
        fc.record({
          input: sometimesWrong(fc.record({ channelId: fc.oneof(fc.constant(aliceChannelId), sometimesWrong(id())), name: optional(text()), description: optional(text()) })),
        }),
      ));
    it('deleteChannel(channelId)', () => check(DELETE_CHANNEL, fc.record({ id: sometimesWrong(id()) })));
    it('openDirectChannel(userId)', () => check(OPEN_DIRECT, fc.record({ userId: sometimesWrong(id()) })));
    it('markRead(channelId, messageId)', () =>
      check(MARK_READ, fc.record({ id: fc.oneof(fc.constant(aliceChannelId), sometimesWrong(id())), messageId: optional(sometimesWrong(id())) })));
    it('setTyping(channelId)', () => check(SET_TYPING, fc.record({ id: fc.oneof(fc.constant(aliceChannelId), sometimesWrong(id())) })));
  });

  describe('message mutations', () => {
    it('sendMessage(input)', () =>
      check(
        SEND,
        fc.record({
          input: sometimesWrong(
            fc.record({
              channelId: fc.oneof(fc.constant(aliceChannelId), fc.constant(world.publicId), sometimesWrong(id())),
              body: text(),
              clientMessageId: optional(fc.oneof(text(), fc.uuid())),
            }),
          ),
        }),
      ));
    it('editMessage(messageId, body)', () => check(EDIT, fc.record({ id: fc.oneof(fc.constant(aliceMessageId), sometimesWrong(id())), body: text() })));
    it('vote(messageId, value)', () =>
      check(
        VOTE,
        fc.record({
          id: fc.oneof(fc.constant(world.bobPublic.messageId), sometimesWrong(id())),
          value: sometimesWrong(fc.oneof(fc.constantFrom('UP', 'DOWN', 'NONE'), hostileString({ maxLong: 100 }))),
        }),
      ));
    it('deleteMessage(messageId)', () => check(DELETE, fc.record({ id: sometimesWrong(id()) })));
  });

});
