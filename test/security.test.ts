// Authorization rules of every mutation, query and subscription, attacked by a signed-in
// user (alice) against another user's (bob's) channels, messages and sessions, and by callers
// without a token or with a revoked one. Invisible things answer exactly as a random UUID does.
import { resetState } from './helpers/db';
import { gql, gqlOk, type GraphQLResponse } from './helpers/graphql';
import { startTestApp, stopAllApps, type TestApp } from './helpers/app';
import { createUser, type TestUser } from './helpers/factories';
import { connectWs, disposeAllWsClients } from './helpers/ws';
import { CHANNEL, CREATE, DELETE_CHANNEL, INVITE, JOIN, LEAVE, MARK_READ, MEMBERS, REMOVE, UPDATE } from './helpers/channels';
import { DELETE, EDIT, HISTORY, SEND, VOTE } from './helpers/messages';
import { CHANNEL_EVENTS } from './helpers/realtime';
import { LOGIN, MY_ACTIVITY } from './helpers/accounts';
import {
  buildWorld,
  closeRawSockets,
  type CrashRecorder,
  errorLogRows,
  expectContractErrors,
  expectHealthy,
  installCrashRecorder,
  randomId,
  type World,
} from './helpers/security';

const SET_TYPING = 'mutation($id: ID!) { setTyping(channelId: $id) }';
const SET_ROLE = 'mutation($id: ID!, $userId: ID!) { setMemberRole(channelId: $id, userId: $userId, role: MODERATOR) { id } }';
const BAN = 'mutation($id: ID!, $userId: ID!) { banFromChannel(channelId: $id, userId: $userId) { id } }';
const UNBAN = 'mutation($id: ID!, $userId: ID!) { unbanFromChannel(channelId: $id, userId: $userId) { id } }';
const MUTE = 'mutation($id: ID!, $userId: ID!) { muteInChannel(channelId: $id, userId: $userId, durationSeconds: 60) { id } }';
const REPORTS = 'query($id: ID!) { reports(channelId: $id) { edges { node { id } } } }';
const REPORT = 'mutation($id: ID!) { reportMessage(messageId: $id, reason: "spam") }';
const RESOLVE = 'mutation($id: ID!) { resolveReport(reportId: $id) }';

interface Case {
  name: string;
  query: string;
  /** The attacker's variables against the real target. */
  variables: (w: World) => Record<string, unknown>;
  /** The same request naming nothing (random UUIDs): a NOT_FOUND must be indistinguishable from it. */
  nothing?: (w: World) => Record<string, unknown>;
  expected: 'NOT_FOUND' | 'FORBIDDEN' | 'NULL';
}

/** Alice against bob's PRIVATE channel and bob and carol's DIRECT channel: they do not exist for her. */
function invisibleCases(which: 'bobPrivate' | 'direct'): Case[] {
  const c = (w: World) => w[which];
  return [
    { name: 'channel', query: CHANNEL, variables: (w) => ({ id: c(w).id }), nothing: () => ({ id: randomId() }), expected: 'NULL' },
    { name: 'channel members', query: MEMBERS, variables: (w) => ({ id: c(w).id }), nothing: () => ({ id: randomId() }), expected: 'NULL' },
    { name: 'messages (history)', query: HISTORY, variables: (w) => ({ channelId: c(w).id, last: 10 }), nothing: () => ({ channelId: randomId(), last: 10 }), expected: 'NOT_FOUND' },
    { name: 'sendMessage', query: SEND, variables: (w) => ({ input: { channelId: c(w).id, body: 'hi' } }), nothing: () => ({ input: { channelId: randomId(), body: 'hi' } }), expected: 'NOT_FOUND' },
    { name: 'editMessage', query: EDIT, variables: (w) => ({ id: c(w).messageId, body: 'pwned' }), nothing: () => ({ id: randomId(), body: 'pwned' }), expected: 'NOT_FOUND' },
    { name: 'deleteMessage', query: DELETE, variables: (w) => ({ id: c(w).messageId }), nothing: () => ({ id: randomId() }), expected: 'NOT_FOUND' },
    { name: 'vote', query: VOTE, variables: (w) => ({ id: c(w).messageId, value: 'UP' }), nothing: () => ({ id: randomId(), value: 'UP' }), expected: 'NOT_FOUND' },
    { name: 'setTyping', query: SET_TYPING, variables: (w) => ({ id: c(w).id }), nothing: () => ({ id: randomId() }), expected: 'NOT_FOUND' },
    { name: 'markRead', query: MARK_READ, variables: (w) => ({ id: c(w).id }), nothing: () => ({ id: randomId() }), expected: 'NOT_FOUND' },
    { name: 'markRead at its message', query: MARK_READ, variables: (w) => ({ id: c(w).id, messageId: c(w).messageId }), nothing: () => ({ id: randomId(), messageId: randomId() }), expected: 'NOT_FOUND' },
    // Alice's own channel with bob's hidden message: still nothing to see.
    { name: 'markRead of public at its message', query: MARK_READ, variables: (w) => ({ id: w.publicId, messageId: c(w).messageId }), nothing: (w) => ({ id: w.publicId, messageId: randomId() }), expected: 'NOT_FOUND' },
    { name: 'joinChannel', query: JOIN, variables: (w) => ({ id: c(w).id }), nothing: () => ({ id: randomId() }), expected: 'NOT_FOUND' },
    { name: 'leaveChannel', query: LEAVE, variables: (w) => ({ id: c(w).id }), nothing: () => ({ id: randomId() }), expected: 'NOT_FOUND' },
    { name: 'inviteToChannel (herself)', query: INVITE, variables: (w) => ({ id: c(w).id, userId: w.alice.id }), nothing: (w) => ({ id: randomId(), userId: w.alice.id }), expected: 'NOT_FOUND' },
    { name: 'removeFromChannel', query: REMOVE, variables: (w) => ({ id: c(w).id, userId: w.carol.id }), nothing: (w) => ({ id: randomId(), userId: w.carol.id }), expected: 'NOT_FOUND' },
    { name: 'updateChannel', query: UPDATE, variables: (w) => ({ input: { channelId: c(w).id, description: 'pwned' } }), nothing: () => ({ input: { channelId: randomId(), description: 'pwned' } }), expected: 'NOT_FOUND' },
    { name: 'deleteChannel', query: DELETE_CHANNEL, variables: (w) => ({ id: c(w).id }), nothing: () => ({ id: randomId() }), expected: 'NOT_FOUND' },
    { name: 'setMemberRole', query: SET_ROLE, variables: (w) => ({ id: c(w).id, userId: w.carol.id }), nothing: (w) => ({ id: randomId(), userId: w.carol.id }), expected: 'NOT_FOUND' },
    { name: 'banFromChannel', query: BAN, variables: (w) => ({ id: c(w).id, userId: w.carol.id }), nothing: (w) => ({ id: randomId(), userId: w.carol.id }), expected: 'NOT_FOUND' },
    { name: 'unbanFromChannel', query: UNBAN, variables: (w) => ({ id: c(w).id, userId: w.carol.id }), nothing: (w) => ({ id: randomId(), userId: w.carol.id }), expected: 'NOT_FOUND' },
    { name: 'muteInChannel', query: MUTE, variables: (w) => ({ id: c(w).id, userId: w.carol.id }), nothing: (w) => ({ id: randomId(), userId: w.carol.id }), expected: 'NOT_FOUND' },
    { name: 'reports', query: REPORTS, variables: (w) => ({ id: c(w).id }), nothing: () => ({ id: randomId() }), expected: 'NOT_FOUND' },
    { name: 'reportMessage', query: REPORT, variables: (w) => ({ id: c(w).messageId }), nothing: () => ({ id: randomId() }), expected: 'NOT_FOUND' },
  ];
}

/** Alice against bob's PUBLIC channels: she sees them, but they are not hers. */
const visibleCases: Case[] = [
  { name: 'editMessage of bob (joined channel)', query: EDIT, variables: (w) => ({ id: w.bobPublic.messageId, body: 'pwned' }), expected: 'FORBIDDEN' },
  { name: 'deleteMessage of bob (joined channel)', query: DELETE, variables: (w) => ({ id: w.bobPublic.messageId }), expected: 'FORBIDDEN' },
  { name: 'editMessage of bob (unjoined channel)', query: EDIT, variables: (w) => ({ id: w.bobPublicUnjoined.messageId, body: 'pwned' }), expected: 'FORBIDDEN' },
  { name: 'deleteMessage of bob (unjoined channel)', query: DELETE, variables: (w) => ({ id: w.bobPublicUnjoined.messageId }), expected: 'FORBIDDEN' },
  { name: 'vote in an unjoined channel', query: VOTE, variables: (w) => ({ id: w.bobPublicUnjoined.messageId, value: 'UP' }), expected: 'FORBIDDEN' },
  { name: 'sendMessage to an unjoined channel', query: SEND, variables: (w) => ({ input: { channelId: w.bobPublicUnjoined.id, body: 'hi' } }), expected: 'FORBIDDEN' },
  { name: 'setTyping in an unjoined channel', query: SET_TYPING, variables: (w) => ({ id: w.bobPublicUnjoined.id }), expected: 'FORBIDDEN' },
  { name: 'markRead of an unjoined channel', query: MARK_READ, variables: (w) => ({ id: w.bobPublicUnjoined.id }), expected: 'FORBIDDEN' },
  { name: 'updateChannel of bob', query: UPDATE, variables: (w) => ({ input: { channelId: w.bobPublic.id, description: 'pwned' } }), expected: 'FORBIDDEN' },
  { name: 'deleteChannel of bob', query: DELETE_CHANNEL, variables: (w) => ({ id: w.bobPublic.id }), expected: 'FORBIDDEN' },
  { name: 'removeFromChannel of bob', query: REMOVE, variables: (w) => ({ id: w.bobPublic.id, userId: w.carol.id }), expected: 'FORBIDDEN' },
  { name: 'removeFromChannel of bob (unjoined)', query: REMOVE, variables: (w) => ({ id: w.bobPublicUnjoined.id, userId: w.carol.id }), expected: 'FORBIDDEN' },
  { name: 'updateChannel of public', query: UPDATE, variables: (w) => ({ input: { channelId: w.publicId, description: 'pwned' } }), expected: 'FORBIDDEN' },
  { name: 'deleteChannel of public', query: DELETE_CHANNEL, variables: (w) => ({ id: w.publicId }), expected: 'FORBIDDEN' },
  { name: 'removeFromChannel of public', query: REMOVE, variables: (w) => ({ id: w.publicId, userId: w.bob.id }), expected: 'FORBIDDEN' },
  { name: 'setMemberRole in bob\'s channel', query: SET_ROLE, variables: (w) => ({ id: w.bobPublic.id, userId: w.alice.id }), expected: 'FORBIDDEN' },
  { name: 'banFromChannel of bob\'s channel', query: BAN, variables: (w) => ({ id: w.bobPublic.id, userId: w.carol.id }), expected: 'FORBIDDEN' },
  { name: 'banFromChannel of bob\'s channel (unjoined)', query: BAN, variables: (w) => ({ id: w.bobPublicUnjoined.id, userId: w.carol.id }), expected: 'FORBIDDEN' },
  { name: 'unbanFromChannel of bob\'s channel', query: UNBAN, variables: (w) => ({ id: w.bobPublic.id, userId: w.carol.id }), expected: 'FORBIDDEN' },
  { name: 'muteInChannel of bob\'s channel', query: MUTE, variables: (w) => ({ id: w.bobPublic.id, userId: w.carol.id }), expected: 'FORBIDDEN' },
  { name: 'reports of bob\'s channel', query: REPORTS, variables: (w) => ({ id: w.bobPublic.id }), expected: 'FORBIDDEN' },
  { name: 'reports of bob\'s channel (unjoined)', query: REPORTS, variables: (w) => ({ id: w.bobPublicUnjoined.id }), expected: 'FORBIDDEN' },
];

/** Carol, a plain member of bob's PRIVATE channel and bob's peer in their DIRECT one: she may read, not rule. */
const memberCases: Case[] = [
  { name: 'updateChannel of a PRIVATE channel', query: UPDATE, variables: (w) => ({ input: { channelId: w.bobPrivate.id, description: 'pwned' } }), expected: 'FORBIDDEN' },
  { name: 'deleteChannel of a PRIVATE channel', query: DELETE_CHANNEL, variables: (w) => ({ id: w.bobPrivate.id }), expected: 'FORBIDDEN' },
  { name: 'removeFromChannel of the owner', query: REMOVE, variables: (w) => ({ id: w.bobPrivate.id, userId: w.bob.id }), expected: 'FORBIDDEN' },
  { name: "editMessage of the owner's message", query: EDIT, variables: (w) => ({ id: w.bobPrivate.messageId, body: 'pwned' }), expected: 'FORBIDDEN' },
  { name: "deleteMessage of the owner's message", query: DELETE, variables: (w) => ({ id: w.bobPrivate.messageId }), expected: 'FORBIDDEN' },
  { name: 'inviteToChannel of a DIRECT channel', query: INVITE, variables: (w) => ({ id: w.direct.id, userId: w.alice.id }), expected: 'FORBIDDEN' },
  { name: 'updateChannel of a DIRECT channel', query: UPDATE, variables: (w) => ({ input: { channelId: w.direct.id, description: 'pwned' } }), expected: 'FORBIDDEN' },
  { name: 'deleteChannel of a DIRECT channel', query: DELETE_CHANNEL, variables: (w) => ({ id: w.direct.id }), expected: 'FORBIDDEN' },
  { name: 'removeFromChannel of the peer of a DIRECT channel', query: REMOVE, variables: (w) => ({ id: w.direct.id, userId: w.bob.id }), expected: 'FORBIDDEN' },
  { name: "editMessage of the peer's DIRECT message", query: EDIT, variables: (w) => ({ id: w.direct.messageId, body: 'pwned' }), expected: 'FORBIDDEN' },
  { name: "deleteMessage of the peer's DIRECT message", query: DELETE, variables: (w) => ({ id: w.direct.messageId }), expected: 'FORBIDDEN' },
  { name: 'banFromChannel of the owner', query: BAN, variables: (w) => ({ id: w.bobPrivate.id, userId: w.bob.id }), expected: 'FORBIDDEN' },
  { name: 'muteInChannel of the owner', query: MUTE, variables: (w) => ({ id: w.bobPrivate.id, userId: w.bob.id }), expected: 'FORBIDDEN' },
  { name: 'setMemberRole of herself', query: SET_ROLE, variables: (w) => ({ id: w.bobPrivate.id, userId: w.carol.id }), expected: 'FORBIDDEN' },
  { name: 'unbanFromChannel in a PRIVATE channel', query: UNBAN, variables: (w) => ({ id: w.bobPrivate.id, userId: w.alice.id }), expected: 'FORBIDDEN' },
  { name: 'reports of a PRIVATE channel', query: REPORTS, variables: (w) => ({ id: w.bobPrivate.id }), expected: 'FORBIDDEN' },
];

/** Every operation that needs a signed-in viewer, with otherwise-valid variables. */
const signedInOnly: Array<{ name: string; query: string; variables: (w: World) => Record<string, unknown> }> = [
  { name: 'user', query: 'query($id: ID) { user(id: $id) { id } }', variables: (w) => ({ id: w.bob.id }) },
  { name: 'users', query: '{ users { edges { node { id } } } }', variables: () => ({}) },
  { name: 'myActivity', query: MY_ACTIVITY, variables: () => ({}) },
  { name: 'channel', query: CHANNEL, variables: (w) => ({ id: w.publicId }) },
  { name: 'channels', query: '{ channels { edges { node { id } } } }', variables: () => ({}) },
  { name: 'myChannels', query: '{ myChannels { id } }', variables: () => ({}) },
  { name: 'messages', query: HISTORY, variables: (w) => ({ channelId: w.publicId }) },
  { name: 'logout', query: 'mutation { logout }', variables: () => ({}) },
  { name: 'changePassword', query: 'mutation($input: ChangePasswordInput!) { changePassword(input: $input) }', variables: (w) => ({ input: { currentPassword: w.alice.password, newPassword: 'another long password' } }) },
  { name: 'updateProfile', query: 'mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { id } }', variables: () => ({ input: { bio: 'x' } }) },
  { name: 'createChannel', query: 'mutation($input: CreateChannelInput!) { createChannel(input: $input) { id } }', variables: () => ({ input: { name: 'anonymous-made' } }) },
  { name: 'joinChannel', query: JOIN, variables: (w) => ({ id: w.bobPublicUnjoined.id }) },
  { name: 'leaveChannel', query: LEAVE, variables: (w) => ({ id: w.bobPublic.id }) },
  { name: 'inviteToChannel', query: INVITE, variables: (w) => ({ id: w.bobPrivate.id, userId: w.alice.id }) },
  { name: 'removeFromChannel', query: REMOVE, variables: (w) => ({ id: w.bobPublic.id, userId: w.alice.id }) },
  { name: 'updateChannel', query: UPDATE, variables: (w) => ({ input: { channelId: w.bobPublic.id, description: 'x' } }) },
  { name: 'deleteChannel', query: DELETE_CHANNEL, variables: (w) => ({ id: w.bobPublic.id }) },
  { name: 'openDirectChannel', query: 'mutation($u: ID!) { openDirectChannel(userId: $u) { id } }', variables: (w) => ({ u: w.bob.id }) },
  { name: 'markRead', query: MARK_READ, variables: (w) => ({ id: w.publicId }) },
  { name: 'sendMessage', query: SEND, variables: (w) => ({ input: { channelId: w.publicId, body: 'hi' } }) },
  { name: 'editMessage', query: EDIT, variables: (w) => ({ id: w.bobPublic.messageId, body: 'x' }) },
  { name: 'deleteMessage', query: DELETE, variables: (w) => ({ id: w.bobPublic.messageId }) },
  { name: 'vote', query: VOTE, variables: (w) => ({ id: w.bobPublic.messageId, value: 'UP' }) },
  { name: 'setTyping', query: SET_TYPING, variables: (w) => ({ id: w.publicId }) },
  { name: 'setMemberRole', query: SET_ROLE, variables: (w) => ({ id: w.bobPublic.id, userId: w.alice.id }) },
  { name: 'banFromChannel', query: BAN, variables: (w) => ({ id: w.bobPublic.id, userId: w.alice.id }) },
  { name: 'unbanFromChannel', query: UNBAN, variables: (w) => ({ id: w.bobPublic.id, userId: w.alice.id }) },
  { name: 'muteInChannel', query: MUTE, variables: (w) => ({ id: w.bobPublic.id, userId: w.alice.id }) },
  { name: 'reports', query: REPORTS, variables: (w) => ({ id: w.bobPublic.id }) },
  { name: 'reportMessage', query: REPORT, variables: (w) => ({ id: w.bobPublic.messageId }) },
  { name: 'resolveReport', query: RESOLVE, variables: () => ({ id: randomId() }) },
  { name: 'blockUser', query: 'mutation($u: ID!) { blockUser(userId: $u) }', variables: (w) => ({ u: w.bob.id }) },
  { name: 'unblockUser', query: 'mutation($u: ID!) { unblockUser(userId: $u) }', variables: (w) => ({ u: w.bob.id }) },
  { name: 'blockedUsers', query: '{ blockedUsers { id } }', variables: () => ({}) },
];

/** What an error response says, minus request-specific parts (path and locations are identical anyway). */
function shape(response: GraphQLResponse): unknown {
  return { data: response.data, errors: response.errors?.map((e) => ({ message: e.message, extensions: e.extensions })) };
}

describe('security', () => {
  let server: TestApp;
  let world: World;
  let crashes: CrashRecorder;

  beforeAll(async () => {
    crashes = installCrashRecorder();
    server = await startTestApp();
  });
  /** A fresh world; describe blocks whose requests are all refused share one (and check it stayed intact). */
  async function freshWorld(): Promise<void> {
    await resetState(server.app);
    world = await buildWorld(server);
  }
  // Sockets of one test must not count as live streams in the next: close them and wait until
  // the server has ended their streams.
  afterEach(async () => {
    await disposeAllWsClients();
    const deadline = Date.now() + 5000;
    while (server.app.services.realtime.activeStreams > 0) {
      if (Date.now() > deadline) throw new Error('streams still live after their sockets closed');
      await new Promise((r) => setTimeout(r, 10));
    }
  });
  afterAll(async () => {
    closeRawSockets();
    await disposeAllWsClients();
    await stopAllApps();
    crashes.uninstall();
  });

  /** Nothing rejected above may have hurt the server, recorded an internal error or left a rejection behind. */
  async function expectUnharmed(user?: TestUser): Promise<void> {
    await expectHealthy(server, user);
    expect(await errorLogRows(server.app)).toEqual([]);
    crashes.assertClean();
  }

  /** Bob's and carol's things are as they were. */
  async function expectVictimUntouched(): Promise<void> {
    const history = await gqlOk<{ messages: { edges: Array<{ node: { id: string; body: string; upvotes: number } }> } }>(
      server.url,
      HISTORY,
      { channelId: world.bobPrivate.id, last: 10 },
      { token: world.bob.token },
    );
    expect(history.messages.edges.map((e) => [e.node.id, e.node.body, e.node.upvotes])).toEqual([[world.bobPrivate.messageId, 'private by bob', 0]]);
    const channel = await gqlOk(server.url, CHANNEL, { id: world.bobPrivate.id }, { token: world.bob.token });
    expect(channel.channel).toMatchObject({ description: null, memberCount: 2 });
    const direct = await gqlOk(server.url, HISTORY, { channelId: world.direct.id, last: 10 }, { token: world.carol.token });
    expect(direct.messages.edges.map((e: any) => e.node.body)).toEqual(['direct by bob']);
    const publicChannel = await gqlOk(server.url, HISTORY, { channelId: world.bobPublic.id, last: 10 }, { token: world.bob.token });
    expect(publicChannel.messages.edges.map((e: any) => [e.node.body, e.node.deleted])).toEqual([['public by bob', false]]);
  }

  describe.each([
    ['a PRIVATE channel of another user', 'bobPrivate' as const],
    ['a DIRECT channel of two other users', 'direct' as const],
  ])('against %s: NOT_FOUND, indistinguishable from a random id', (_label, which) => {
    beforeAll(freshWorld);

    it.each(invisibleCases(which).map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const real = await gql(server.url, c.query, c.variables(world), { token: world.alice.token });
      expectContractErrors(real);
      if (c.expected === 'NULL') {
        expect(real.errors).toBeUndefined();
        expect(real.data?.channel).toBeNull();
      } else {
        expect(real.errors?.map((e) => e.extensions?.code)).toEqual([c.expected]);
      }
      // No hint of existence: the same answer as for an id that names nothing.
      const nothing = await gql(server.url, c.query, c.nothing!(world), { token: world.alice.token });
      expect(shape(real)).toEqual(shape(nothing));
    });

    afterAll(async () => {
      await expectVictimUntouched();
      await expectUnharmed(world.alice);
    });
  });

  describe('against visible things that are not yours: FORBIDDEN', () => {
    beforeAll(freshWorld);

    it.each(visibleCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const response = await gql(server.url, c.query, c.variables(world), { token: world.alice.token });
      expectContractErrors(response);
      expect(response.errors?.map((e) => e.extensions?.code)).toEqual([c.expected]);
      await expectVictimUntouched();
    });

    afterAll(() => expectUnharmed(world.alice));
  });

  describe('members who do not own the channel: FORBIDDEN', () => {
    beforeAll(freshWorld);

    it.each(memberCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const response = await gql(server.url, c.query, c.variables(world), { token: world.carol.token });
      expectContractErrors(response);
      expect(response.errors?.map((e) => e.extensions?.code)).toEqual([c.expected]);
      await expectVictimUntouched();
    });

    it("creating a PUBLIC channel under the name of someone else's joins it without taking it over", async () => {
      const name = (await gqlOk(server.url, CHANNEL, { id: world.bobPublicUnjoined.id }, { token: world.bob.token })).channel.name;
      const created = await gqlOk(server.url, CREATE, { input: { name: name.toUpperCase(), kind: 'PUBLIC' } }, { token: world.alice.token });
      expect(created.createChannel).toMatchObject({ id: world.bobPublicUnjoined.id, owner: { id: world.bob.id }, isMember: true });
      const update = await gql(server.url, UPDATE, { input: { channelId: world.bobPublicUnjoined.id, description: 'mine now' } }, { token: world.alice.token });
      expect(update.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    });

    afterAll(() => expectUnharmed(world.carol));
  });

  describe('subscriptions', () => {
    beforeEach(freshWorld);

    it.each([
      ['PRIVATE', 'bobPrivate' as const],
      ['DIRECT', 'direct' as const],
    ])('channelEvents of an invisible %s channel is NOT_FOUND, as for a random id, and the socket stays usable', async (_kind, which) => {
      const client = connectWs(server.wsUrl, world.alice.token);
      const real = await client.subscribe(CHANNEL_EVENTS, { channelId: world[which].id }).next();
      expect(real.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
      const nothing = await client.subscribe(CHANNEL_EVENTS, { channelId: randomId() }).next();
      expect(real.errors?.map((e) => [e.message, e.extensions])).toEqual(nothing.errors?.map((e) => [e.message, e.extensions]));
      expect((await client.subscribe('{ me { id } }').next()).data).toEqual({ me: { id: world.alice.id } });
    });

    it('channelEvents with a cursor of an invisible channel reveals none of its messages', async () => {
      // Bob's private message cursor, replayed in alice's own channel, only positions; it does not open bob's channel.
      const bobHistory = await gqlOk(server.url, HISTORY, { channelId: world.bobPrivate.id, last: 1 }, { token: world.bob.token });
      const cursor = bobHistory.messages.edges[0].cursor;
      const client = connectWs(server.wsUrl, world.alice.token);
      const hidden = await client.subscribe(CHANNEL_EVENTS, { channelId: world.bobPrivate.id, after: cursor }).next();
      expect(hidden.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    });

    it('without a token, channelEvents and inbox are UNAUTHENTICATED', async () => {
      const client = connectWs(server.wsUrl, null);
      const events = await client.subscribe(CHANNEL_EVENTS, { channelId: world.publicId }).next();
      expect(events.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
      const inbox = await client.subscribe('subscription { inbox { cursor } }').next();
      expect(inbox.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    });

    it("the inbox never carries messages of channels the viewer is not in", async () => {
      const client = connectWs(server.wsUrl, world.alice.token);
      const streams = server.app.services.realtime.activeStreams;
      const inbox = client.subscribe<{ inbox: { message: { body: string } } }>('subscription { inbox { message { body channel { id } } } }');
      // Wait until it is live, then send to bob's private channel, then to a channel alice is in.
      await waitForLiveStreams(streams);
      await gqlOk(server.url, SEND, { input: { channelId: world.bobPrivate.id, body: 'secret' } }, { token: world.bob.token });
      await gqlOk(server.url, SEND, { input: { channelId: world.direct.id, body: 'secret too' } }, { token: world.bob.token });
      await gqlOk(server.url, SEND, { input: { channelId: world.bobPublicUnjoined.id, body: 'not joined' } }, { token: world.bob.token });
      await gqlOk(server.url, SEND, { input: { channelId: world.bobPublic.id, body: 'for alice' } }, { token: world.bob.token });
      const first = await inbox.next();
      expect(first.data?.inbox.message.body).toBe('for alice');
      expect(inbox.results).toHaveLength(1);
    });

    afterAll(() => expectUnharmed(world.alice));
  });

  /** Waits until `count` more streams than `base` are live on the server. */
  async function waitForLiveStreams(base: number, count = 1): Promise<void> {
    const deadline = Date.now() + 5000;
    while (server.app.services.realtime.activeStreams < base + count) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} live streams`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  describe('callers without a token, or with a revoked one', () => {
    beforeAll(freshWorld);

    it.each(signedInOnly.map((c) => [c.name, c] as const))('%s is UNAUTHENTICATED without a token and with a logged-out one', async (_name, c) => {
      const revoked = await createUser(server.app);
      await gqlOk(server.url, 'mutation { logout }', {}, { token: revoked.token });
      for (const token of [null, revoked.token, 'not-a-token', `${world.alice.token}x`]) {
        const response = await gql(server.url, c.query, c.variables(world), { token });
        expectContractErrors(response);
        expect({ token, codes: response.errors?.map((e) => e.extensions?.code) }).toEqual({ token, codes: ['UNAUTHENTICATED'] });
      }
    });

    it('me is null for them', async () => {
      const revoked = await createUser(server.app);
      await gqlOk(server.url, 'mutation { logout }', {}, { token: revoked.token });
      for (const token of [null, revoked.token]) {
        const response = await gql(server.url, '{ me { id } }', {}, { token });
        expect(response.errors).toBeUndefined();
        expect(response.data).toEqual({ me: null });
      }
    });

    it('a logged-out token cannot open a socket (4403), and logout closes the sockets it opened', async () => {
      const user = await createUser(server.app);
      const open = connectWs(server.wsUrl, user.token);
      expect((await open.subscribe('{ me { id } }').next()).data).toEqual({ me: { id: user.id } });
      await gqlOk(server.url, 'mutation { logout }', {}, { token: user.token });
      expect(await open.closed).toBe(4403);
      const reopened = connectWs(server.wsUrl, user.token);
      expect(await reopened.closed).toBe(4403);
    });

    it('a socket with a revoked token cannot run mutations over ws either', async () => {
      const user = await createUser(server.app);
      const client = connectWs(server.wsUrl, user.token);
      const streams = server.app.services.realtime.activeStreams;
      const events = client.subscribe(CHANNEL_EVENTS, { channelId: world.publicId });
      await waitForLiveStreams(streams);
      await gqlOk(server.url, 'mutation { logout }', {}, { token: user.token });
      expect(await client.closed).toBe(4403);
      expect(events.isCompleted() || events.results.length === 0).toBe(true);
      // The revoked user can send nothing any more.
      const send = await gql(server.url, SEND, { input: { channelId: world.publicId, body: 'ghost' } }, { token: user.token });
      expect(send.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    });

    afterAll(() => expectUnharmed(world.alice));
  });

  describe('sessions, profiles and activity are private', () => {
    beforeEach(freshWorld);

    it("logout revokes only the caller's own token, never another user's or another session of the same user", async () => {
      const second = await gqlOk(server.url, LOGIN, { input: { login: world.alice.username, password: world.alice.password } });
      const aliceSecondToken: string = second.login.token;
      expect(await gqlOk(server.url, 'mutation { logout }', {}, { token: world.alice.token })).toEqual({ logout: true });
      expect((await gql(server.url, '{ me { id } }', {}, { token: world.alice.token })).data).toEqual({ me: null });
      expect((await gqlOk(server.url, '{ me { id } }', {}, { token: aliceSecondToken })).me).toEqual({ id: world.alice.id });
      expect((await gqlOk(server.url, '{ me { id } }', {}, { token: world.bob.token })).me).toEqual({ id: world.bob.id });
      // Bob's open socket survives alice's logout.
      const bobSocket = connectWs(server.wsUrl, world.bob.token);
      expect((await bobSocket.subscribe('{ me { id } }').next()).data).toEqual({ me: { id: world.bob.id } });
      await gqlOk(server.url, 'mutation { logout }', {}, { token: aliceSecondToken });
      expect((await bobSocket.subscribe('{ me { id } }').next()).data).toEqual({ me: { id: world.bob.id } });
    });

    it("changePassword revokes the user's own other sessions only", async () => {
      await gqlOk(
        server.url,
        'mutation($input: ChangePasswordInput!) { changePassword(input: $input) }',
        { input: { currentPassword: world.alice.password, newPassword: 'a brand new password' } },
        { token: world.alice.token },
      );
      expect((await gqlOk(server.url, '{ me { id } }', {}, { token: world.bob.token })).me).toEqual({ id: world.bob.id });
      expect((await gqlOk(server.url, '{ me { id } }', {}, { token: world.alice.token })).me).toEqual({ id: world.alice.id });
    });

    it("changePassword needs the caller's own current password: bob's does not work for alice", async () => {
      expect(world.bob.password).not.toBe(world.alice.password);
      const response = await gql(
        server.url,
        'mutation($input: ChangePasswordInput!) { changePassword(input: $input) }',
        { input: { currentPassword: world.bob.password, newPassword: 'a brand new password' } },
        { token: world.alice.token },
      );
      expectContractErrors(response);
      expect(response.errors).toHaveLength(1);
      // Nothing changed: both still sign in with their passwords, and alice's token still works.
      await gqlOk(server.url, LOGIN, { input: { login: world.alice.username, password: world.alice.password } });
      await gqlOk(server.url, LOGIN, { input: { login: world.bob.username, password: world.bob.password } });
      expect((await gqlOk(server.url, '{ me { id } }', {}, { token: world.alice.token })).me).toEqual({ id: world.alice.id });
    });

    it('the email of other users is null wherever a user appears', async () => {
      const query = `query($id: ID, $username: String, $channelId: ID!) {
        me { id email }
        byId: user(id: $id) { id email }
        byName: user(username: $username) { id email }
        users(first: 100) { edges { node { id email } } }
        channel(id: $channelId) { owner { id email } members(first: 100) { edges { node { id email } } } }
        messages(channelId: $channelId, last: 10) { edges { node { author { id email } } } }
      }`;
      const data = await gqlOk<any>(server.url, query, { id: world.bob.id, username: world.bob.username, channelId: world.bobPublic.id }, { token: world.alice.token });
      expect(data.me).toEqual({ id: world.alice.id, email: world.alice.email });
      expect(data.byId).toEqual({ id: world.bob.id, email: null });
      expect(data.byName).toEqual({ id: world.bob.id, email: null });
      const everyone = [
        ...data.users.edges.map((e: any) => e.node),
        data.channel.owner,
        ...data.channel.members.edges.map((e: any) => e.node),
        ...data.messages.edges.map((e: any) => e.node.author),
      ];
      expect(everyone.length).toBeGreaterThan(3);
      for (const user of everyone) expect(user.email).toBe(user.id === world.alice.id ? world.alice.email : null);
      // Over ws, in live events, too.
      const client = connectWs(server.wsUrl, world.alice.token);
      const streams = server.app.services.realtime.activeStreams;
      const events = client.subscribe('subscription($c: ID!) { channelEvents(channelId: $c) { ... on MessageAdded { message { author { id email } } } } }', { c: world.bobPublic.id });
      await waitForLiveStreams(streams);
      await gqlOk(server.url, SEND, { input: { channelId: world.bobPublic.id, body: 'hello alice' } }, { token: world.bob.token });
      expect((await events.next()).data).toEqual({ channelEvents: { message: { author: { id: world.bob.id, email: null } } } });
    });

    it('the activity log shows only your own entries, even with a cursor from someone else’s log', async () => {
      // Bob does things that log activity; alice signs in once.
      await gqlOk(server.url, 'mutation($input: CreateChannelInput!) { createChannel(input: $input) { id } }', { input: { name: 'bobs-new-channel' } }, { token: world.bob.token });
      await gqlOk(server.url, LOGIN, { input: { login: world.bob.username, password: world.bob.password } });
      await gqlOk(server.url, LOGIN, { input: { login: world.alice.username, password: world.alice.password } });
      const bobLog = await gqlOk<any>(server.url, MY_ACTIVITY, { first: 100 }, { token: world.bob.token });
      expect(bobLog.myActivity.edges.length).toBeGreaterThanOrEqual(2);
      const aliceLog = await gqlOk<any>(server.url, MY_ACTIVITY, { first: 100 }, { token: world.alice.token });
      expect(aliceLog.myActivity.edges.map((e: any) => e.node.action)).toEqual(['LOGIN']);
      const rows = await server.app.services.orm.em
        .fork()
        .getConnection()
        .execute<Array<{ id: string; user_id: string }>>('select id, user_id from activity_log');
      const bobIds = new Set(rows.filter((r) => r.user_id === world.bob.id).map((r) => String(r.id)));
      for (const edge of aliceLog.myActivity.edges) expect(bobIds.has(String(edge.node.id))).toBe(false);
      // Bob's cursors only position within alice's own log.
      for (const edge of bobLog.myActivity.edges) {
        const page = await gqlOk<any>(server.url, MY_ACTIVITY, { first: 100, after: edge.cursor }, { token: world.alice.token });
        for (const e of page.myActivity.edges) expect(e.node.action).toBe('LOGIN');
      }
    });

    it("an activity entry's channel is null once the viewer can no longer see it", async () => {
      // Alice, invited into bob's private channel, leaves it: her log keeps the entry, without the channel.
      await gqlOk(server.url, INVITE, { id: world.bobPrivate.id, userId: world.alice.id }, { token: world.bob.token });
      await gqlOk(server.url, LEAVE, { id: world.bobPrivate.id }, { token: world.alice.token });
      const log = await gqlOk<any>(server.url, MY_ACTIVITY, { first: 100 }, { token: world.alice.token });
      const left = log.myActivity.edges.find((e: any) => e.node.action === 'CHANNEL_LEFT');
      expect(left).toBeDefined();
      expect(left.node.channel).toBeNull();
    });

    it('login answers the same for an unknown account as for a wrong password (no account enumeration)', async () => {
      const unknown = await gql(server.url, LOGIN, { input: { login: 'nobody_by_this_name', password: 'whatever password' } });
      const wrong = await gql(server.url, LOGIN, { input: { login: world.bob.username, password: 'whatever password' } });
      const unknownEmail = await gql(server.url, LOGIN, { input: { login: 'nobody@example.test', password: 'whatever password' } });
      const wrongEmail = await gql(server.url, LOGIN, { input: { login: world.bob.email, password: 'whatever password' } });
      expect(shape(unknown)).toEqual(shape(wrong));
      expect(shape(unknownEmail)).toEqual(shape(wrongEmail));
      expect(unknown.errors).toHaveLength(1);
      expectContractErrors(unknown);
    });

    it('user search does not match email addresses', async () => {
      const byEmail = await gqlOk<any>(server.url, 'query($s: String) { users(search: $s, first: 100) { edges { node { id } } } }', { s: world.bob.email }, { token: world.alice.token });
      expect(byEmail.users.edges).toEqual([]);
      const byDomain = await gqlOk<any>(server.url, 'query($s: String) { users(search: $s, first: 100) { edges { node { id } } } }', { s: world.bob.email.split('@')[0] + '@' }, { token: world.alice.token });
      expect(byDomain.users.edges).toEqual([]);
    });

    afterAll(() => expectUnharmed(world.bob));
  });

  describe('access is rechecked on every request, never remembered', () => {
    beforeEach(freshWorld);

    it("a member removed from a PRIVATE channel loses history (even cached), events, typing and her own messages' edits", async () => {
      await gqlOk(server.url, INVITE, { id: world.bobPrivate.id, userId: world.alice.id }, { token: world.bob.token });
      const own = await gqlOk(server.url, SEND, { input: { channelId: world.bobPrivate.id, body: 'alice was here' } }, { token: world.alice.token });
      // Warm every cache while she is a member.
      await gqlOk(server.url, HISTORY, { channelId: world.bobPrivate.id, last: 10 }, { token: world.alice.token });
      await gqlOk(server.url, HISTORY, { channelId: world.bobPrivate.id, last: 10 }, { token: world.alice.token });
      const client = connectWs(server.wsUrl, world.alice.token);
      const streams = server.app.services.realtime.activeStreams;
      const events = client.subscribe(CHANNEL_EVENTS, { channelId: world.bobPrivate.id });
      await waitForLiveStreams(streams);

      await gqlOk(server.url, REMOVE, { id: world.bobPrivate.id, userId: world.alice.id }, { token: world.bob.token });
      await events.completed; // her stream ends
      const afterRemoval: Array<[string, string, Record<string, unknown>]> = [
        ['history', HISTORY, { channelId: world.bobPrivate.id, last: 10 }],
        ['send', SEND, { input: { channelId: world.bobPrivate.id, body: 'still here?' } }],
        ['edit own', EDIT, { id: own.sendMessage.id, body: 'edited' }],
        ['delete own', DELETE, { id: own.sendMessage.id }],
        ['typing', SET_TYPING, { id: world.bobPrivate.id }],
        ['markRead', MARK_READ, { id: world.bobPrivate.id }],
        ['invite', INVITE, { id: world.bobPrivate.id, userId: world.alice.id }],
      ];
      for (const [name, query, variables] of afterRemoval) {
        const response = await gql(server.url, query, variables, { token: world.alice.token });
        expect({ name, codes: response.errors?.map((e) => e.extensions?.code) }).toEqual({ name, codes: ['NOT_FOUND'] });
      }
      expect((await gqlOk(server.url, CHANNEL, { id: world.bobPrivate.id }, { token: world.alice.token })).channel).toBeNull();
      const resubscribed = await client.subscribe(CHANNEL_EVENTS, { channelId: world.bobPrivate.id }).next();
      expect(resubscribed.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
      // Her old message stays, untouched, for the members.
      const history = await gqlOk<any>(server.url, HISTORY, { channelId: world.bobPrivate.id, last: 10 }, { token: world.bob.token });
      expect(history.messages.edges.map((e: any) => e.node.body)).toEqual(['private by bob', 'alice was here']);
    });

    it("after changePassword, the user's other tokens fail over HTTP and ws at once", async () => {
      const other = (await gqlOk(server.url, LOGIN, { input: { login: world.alice.username, password: world.alice.password } })).login.token as string;
      const socket = connectWs(server.wsUrl, other);
      expect((await socket.subscribe('{ me { id } }').next()).data).toEqual({ me: { id: world.alice.id } });
      await gqlOk(
        server.url,
        'mutation($input: ChangePasswordInput!) { changePassword(input: $input) }',
        { input: { currentPassword: world.alice.password, newPassword: 'a brand new password' } },
        { token: world.alice.token },
      );
      expect(await socket.closed).toBe(4403);
      expect((await gql(server.url, '{ me { id } }', {}, { token: other })).data).toEqual({ me: null });
      expect(await connectWs(server.wsUrl, other).closed).toBe(4403);
    });

    afterAll(() => expectUnharmed(world.bob));
  });
});
