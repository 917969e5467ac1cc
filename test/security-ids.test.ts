// Attack family: case-variant ids. PostgreSQL reads `3F2A…` and `3f2a…` as one uuid, but the
// server also compares and stores ids as text (DIRECT channel names, Redis topics, "is this
// me?"). Every id argument of the schema is tried with its hex letters upper-cased: the answer
// and the effect must be those of the canonical (lower-case) id; nothing new may be created.
import { type GraphQLInputType, type GraphQLSchema, getNamedType, isInputObjectType, isObjectType, isScalarType } from 'graphql';
import { randomUUID } from 'node:crypto';
import { CANONICAL_DIRECT_STATEMENTS } from '../migrations/Migration20261201203000';
import { directChannelKey } from '../src/channels/channel.types';
import { buildAppSchema } from '../src/schema';
import { createUser } from './helpers/factories';
import { type TestApp, useTestServer } from './helpers/app';
import { CHANNEL, CREATE, DELETE_CHANNEL, INVITE, JOIN, LEAVE, MARK_READ, OPEN_DIRECT, REMOVE, UPDATE } from './helpers/channels';
import { gql, gqlOk } from './helpers/graphql';
import { DELETE, EDIT, HISTORY, SEND, sendMessage, VOTE } from './helpers/messages';
import { buildWorld, errorCodes, expectContractErrors, type World } from './helpers/security';
import { connectWs } from './helpers/ws';

const upper = (id: string) => id.toUpperCase();
const ID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** Every (type.field, argument path) of the schema that holds an ID, e.g. `Mutation.sendMessage(input.channelId)`. */
function idArguments(schema: GraphQLSchema): string[] {
  const found: string[] = [];
  const walk = (type: GraphQLInputType, path: string, at: string, seen: Set<string>) => {
    const named = getNamedType(type);
    if (isScalarType(named) && named.name === 'ID') found.push(`${at}(${path})`);
    if (isInputObjectType(named) && !seen.has(named.name)) {
      for (const field of Object.values(named.getFields())) walk(field.type, `${path}.${field.name}`, at, new Set([...seen, named.name]));
    }
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) for (const arg of field.args) walk(arg.type, arg.name, `${type.name}.${field.name}`, new Set());
  }
  return found.sort();
}

/** No id in the answer is in a non-canonical form. */
function expectCanonical(data: unknown): void {
  const ids = JSON.stringify(data).match(ID_RE) ?? [];
  expect(ids.filter((id) => id !== id.toLowerCase())).toEqual([]);
}


/** Moderation documents (the moderation area). */
const M = {
  SET_ROLE: 'mutation ($c: ID!, $u: ID!, $r: MemberRole!) { setMemberRole(channelId: $c, userId: $u, role: $r) { id owner { id } } }',
  VIEWER_ROLE: 'query ($c: ID!) { channel(id: $c) { viewerRole } }',
  BAN: 'mutation ($c: ID!, $u: ID!) { banFromChannel(channelId: $c, userId: $u) { id memberCount } }',
  UNBAN: 'mutation ($c: ID!, $u: ID!) { unbanFromChannel(channelId: $c, userId: $u) { id } }',
  MUTE: 'mutation ($c: ID!, $u: ID!, $d: Int!) { muteInChannel(channelId: $c, userId: $u, durationSeconds: $d) { id } }',
  BLOCK: 'mutation ($u: ID!) { blockUser(userId: $u) }',
  UNBLOCK: 'mutation ($u: ID!) { unblockUser(userId: $u) }',
  BLOCKED: '{ blockedUsers { id } }',
  REPORT: 'mutation ($m: ID!, $r: String!) { reportMessage(messageId: $m, reason: $r) }',
  REPORTS: 'query ($c: ID!) { reports(channelId: $c) { edges { node { id } } } }',
  RESOLVE: 'mutation ($r: ID!) { resolveReport(reportId: $r) }',
};

type Case = (server: TestApp, world: World) => Promise<void>;

const cases: Record<string, Case> = {
  'Query.channel(id)': async ({ url }, w) => {
    const data = await gqlOk(url, CHANNEL, { id: upper(w.bobPublic.id) }, { token: w.alice.token });
    expect(data.channel).toMatchObject({ id: w.bobPublic.id, isMember: true });
    expectCanonical(data);
  },
  'Query.messages(channelId)': async ({ url }, w) => {
    const data = await gqlOk(url, HISTORY, { channelId: upper(w.bobPublic.id), last: 5 }, { token: w.alice.token });
    expect(data.messages.edges.map((e: any) => e.node.id)).toEqual([w.bobPublic.messageId]);
    expectCanonical(data);
  },
  'Query.user(id)': async ({ url }, w) => {
    const data = await gqlOk(url, 'query($id: ID) { user(id: $id) { id username } }', { id: upper(w.bob.id) }, { token: w.alice.token });
    expect(data.user).toEqual({ id: w.bob.id, username: w.bob.username });
  },
  'Mutation.openDirectChannel(userId)': async ({ url }, w) => {
    const canonical = (await gqlOk(url, OPEN_DIRECT, { userId: w.bob.id }, { token: w.alice.token })).openDirectChannel.id;
    const variant = await gqlOk(url, OPEN_DIRECT, { userId: upper(w.bob.id) }, { token: w.alice.token });
    expect(variant.openDirectChannel.id).toBe(canonical);
    expect((await gqlOk(url, OPEN_DIRECT, { userId: upper(w.alice.id) }, { token: w.bob.token })).openDirectChannel.id).toBe(canonical);
    // With one's own id in any casing: refused, like the lower-case one.
    const self = await gql(url, OPEN_DIRECT, { userId: upper(w.alice.id) }, { token: w.alice.token });
    expect(errorCodes(self)).toEqual(['BAD_USER_INPUT']);
  },
  'Mutation.joinChannel(channelId)': async ({ url }, w) => {
    const data = await gqlOk(url, JOIN, { id: upper(w.bobPublicUnjoined.id) }, { token: w.alice.token });
    expect(data.joinChannel).toMatchObject({ id: w.bobPublicUnjoined.id, isMember: true, memberCount: 3 });
    expect((await gqlOk(url, JOIN, { id: w.bobPublicUnjoined.id }, { token: w.alice.token })).joinChannel.memberCount).toBe(3);
  },
  'Mutation.leaveChannel(channelId)': async ({ url }, w) => {
    expect((await gqlOk(url, LEAVE, { id: upper(w.bobPublic.id) }, { token: w.alice.token })).leaveChannel).toBe(true);
    expect((await gqlOk(url, CHANNEL, { id: w.bobPublic.id }, { token: w.alice.token })).channel).toMatchObject({ isMember: false, memberCount: 2 });
  },
  'Mutation.inviteToChannel(channelId)': async ({ url }, w) => {
    const data = await gqlOk(url, INVITE, { id: upper(w.bobPrivate.id), userId: w.alice.id }, { token: w.bob.token });
    expect(data.inviteToChannel).toMatchObject({ id: w.bobPrivate.id, memberCount: 3 });
  },
  'Mutation.inviteToChannel(userId)': async ({ url }, w) => {
    const data = await gqlOk(url, INVITE, { id: w.bobPrivate.id, userId: upper(w.alice.id) }, { token: w.bob.token });
    expect(data.inviteToChannel).toMatchObject({ id: w.bobPrivate.id, memberCount: 3 });
    expect((await gqlOk(url, INVITE, { id: w.bobPrivate.id, userId: w.alice.id }, { token: w.bob.token })).inviteToChannel.memberCount).toBe(3);
  },
  'Mutation.removeFromChannel(channelId)': async ({ url }, w) => {
    const data = await gqlOk(url, REMOVE, { id: upper(w.bobPrivate.id), userId: w.carol.id }, { token: w.bob.token });
    expect(data.removeFromChannel).toMatchObject({ id: w.bobPrivate.id, memberCount: 1 });
  },
  'Mutation.removeFromChannel(userId)': async ({ url }, w) => {
    const data = await gqlOk(url, REMOVE, { id: w.bobPrivate.id, userId: upper(w.carol.id) }, { token: w.bob.token });
    expect(data.removeFromChannel).toMatchObject({ id: w.bobPrivate.id, memberCount: 1 });
  },
  'Mutation.updateChannel(input.channelId)': async ({ url }, w) => {
    const data = await gqlOk(url, UPDATE, { input: { channelId: upper(w.bobPrivate.id), description: 'new' } }, { token: w.bob.token });
    expect(data.updateChannel).toMatchObject({ id: w.bobPrivate.id, description: 'new' });
  },
  'Mutation.deleteChannel(channelId)': async ({ url }, w) => {
    const created = await gqlOk(url, CREATE, { input: { name: `gone-${Date.now()}`, kind: 'PUBLIC' } }, { token: w.alice.token });
    expect((await gqlOk(url, DELETE_CHANNEL, { id: upper(created.createChannel.id) }, { token: w.alice.token })).deleteChannel).toBe(true);
    expect((await gqlOk(url, CHANNEL, { id: created.createChannel.id }, { token: w.alice.token })).channel).toBeNull();
  },
  'Mutation.markRead(channelId)': async ({ url }, w) => {
    const data = await gqlOk(url, MARK_READ, { id: upper(w.bobPublic.id) }, { token: w.alice.token });
    expect(data.markRead).toMatchObject({ id: w.bobPublic.id, unreadCount: 0 });
  },
  'Mutation.markRead(messageId)': async ({ url }, w) => {
    const data = await gqlOk(url, MARK_READ, { id: w.bobPublic.id, messageId: upper(w.bobPublic.messageId) }, { token: w.alice.token });
    expect(data.markRead).toMatchObject({ id: w.bobPublic.id, unreadCount: 0 });
  },
  'Mutation.sendMessage(input.channelId)': async ({ url, wsUrl }, w) => {
    const client = connectWs(wsUrl, w.bob.token);
    const events = client.subscribe('subscription($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageAdded { message { id } } } }', { c: w.bobPublic.id });
    await new Promise((r) => setTimeout(r, 300));
    const data = await gqlOk(url, SEND, { input: { channelId: upper(w.bobPublic.id), body: 'shouting' } }, { token: w.alice.token });
    expect(data.sendMessage.channel.id).toBe(w.bobPublic.id);
    expect((await events.next()).data).toEqual({ channelEvents: { __typename: 'MessageAdded', message: { id: data.sendMessage.id } } });
  },
  'Mutation.sendMessage(input.threadId)': async ({ url }, w) => {
    const reply = await gqlOk(url, 'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id threadRootId } }', {
      input: { channelId: w.bobPublic.id, body: 'a reply', threadId: upper(w.bobPublic.messageId) },
    }, { token: w.alice.token });
    expect(reply.sendMessage.threadRootId).toBe(w.bobPublic.messageId);
    expectCanonical(reply);
  },
  'Query.threadReplies(messageId)': async ({ url }, w) => {
    const reply = await gqlOk(url, 'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id } }', { input: { channelId: w.bobPublic.id, body: 'a reply', threadId: w.bobPublic.messageId } }, { token: w.alice.token });
    const data = await gqlOk(url, 'query ($m: ID!) { threadReplies(messageId: $m) { edges { node { id threadRootId } } } }', { m: upper(w.bobPublic.messageId) }, { token: w.alice.token });
    expect(data.threadReplies.edges).toEqual([{ node: { id: reply.sendMessage.id, threadRootId: w.bobPublic.messageId } }]);
  },
  'Mutation.followThread(messageId)': async ({ url }, w) => {
    const data = await gqlOk(url, 'mutation ($m: ID!) { followThread(messageId: $m, follow: true) { id thread { following } } }', { m: upper(w.bobPublic.messageId) }, { token: w.alice.token });
    expect(data.followThread).toEqual({ id: w.bobPublic.messageId, thread: { following: true } });
  },
  'Mutation.markThreadRead(messageId)': async ({ url }, w) => {
    await gqlOk(url, 'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id } }', { input: { channelId: w.bobPublic.id, body: 'a reply', threadId: w.bobPublic.messageId } }, { token: w.alice.token });
    const data = await gqlOk(url, 'mutation ($m: ID!) { markThreadRead(messageId: $m) { id thread { unreadCount } } }', { m: upper(w.bobPublic.messageId) }, { token: w.bob.token });
    expect(data.markThreadRead).toEqual({ id: w.bobPublic.messageId, thread: { unreadCount: 0 } });
  },
  'Mutation.editMessage(messageId)': async ({ url }, w) => {
    const mine = await sendMessage(url, w.alice.token, w.bobPublic.id, 'mine');
    const data = await gqlOk(url, EDIT, { id: upper(mine.id), body: 'edited' }, { token: w.alice.token });
    expect(data.editMessage).toMatchObject({ id: mine.id, body: 'edited' });
  },
  'Mutation.deleteMessage(messageId)': async ({ url }, w) => {
    const mine = await sendMessage(url, w.alice.token, w.bobPublic.id, 'mine');
    const data = await gqlOk(url, DELETE, { id: upper(mine.id) }, { token: w.alice.token });
    expect(data.deleteMessage).toMatchObject({ id: mine.id, deleted: true });
  },
  'Mutation.vote(messageId)': async ({ url }, w) => {
    const data = await gqlOk(url, VOTE, { id: upper(w.bobPublic.messageId), value: 'UP' }, { token: w.alice.token });
    expect(data.vote).toMatchObject({ id: w.bobPublic.messageId, upvotes: 1, myVote: 'UP' });
    expect((await gqlOk(url, VOTE, { id: w.bobPublic.messageId, value: 'UP' }, { token: w.alice.token })).vote.upvotes).toBe(1);
  },
  'Mutation.addReaction(messageId)': async ({ url }, w) => {
    const data = await gqlOk(url, 'mutation ($m: ID!) { addReaction(messageId: $m, emoji: ":tada:") { id reactions { emoji count reactedByMe } } }', { m: upper(w.bobPublic.messageId) }, { token: w.alice.token });
    expect(data.addReaction).toEqual({ id: w.bobPublic.messageId, reactions: [{ emoji: ':tada:', count: 1, reactedByMe: true }] });
  },
  'Mutation.removeReaction(messageId)': async ({ url }, w) => {
    await gqlOk(url, 'mutation ($m: ID!) { addReaction(messageId: $m, emoji: ":tada:") { id } }', { m: w.bobPublic.messageId }, { token: w.alice.token });
    const data = await gqlOk(url, 'mutation ($m: ID!) { removeReaction(messageId: $m, emoji: ":tada:") { id reactions { emoji } } }', { m: upper(w.bobPublic.messageId) }, { token: w.alice.token });
    expect(data.removeReaction).toEqual({ id: w.bobPublic.messageId, reactions: [] });
  },
  'Mutation.pinMessage(messageId)': async ({ url }, w) => {
    const data = await gqlOk(url, 'mutation ($m: ID!) { pinMessage(messageId: $m) { id pinned } }', { m: upper(w.bobPublic.messageId) }, { token: w.alice.token });
    expect(data.pinMessage).toEqual({ id: w.bobPublic.messageId, pinned: true });
  },
  'Mutation.unpinMessage(messageId)': async ({ url }, w) => {
    await gqlOk(url, 'mutation ($m: ID!) { pinMessage(messageId: $m) { id } }', { m: w.bobPublic.messageId }, { token: w.alice.token });
    const data = await gqlOk(url, 'mutation ($m: ID!) { unpinMessage(messageId: $m) { id pinned } }', { m: upper(w.bobPublic.messageId) }, { token: w.alice.token });
    expect(data.unpinMessage).toEqual({ id: w.bobPublic.messageId, pinned: false });
  },
  'Mutation.setNotificationLevel(channelId)': async ({ url }, w) => {
    const data = await gqlOk(url, 'mutation ($c: ID!) { setNotificationLevel(channelId: $c, level: ALL) { id notificationLevel } }', { c: upper(w.bobPublic.id) }, { token: w.alice.token });
    expect(data.setNotificationLevel).toEqual({ id: w.bobPublic.id, notificationLevel: 'ALL' });
  },
  'Mutation.markNotificationsRead(ids)': async ({ url }, w) => {
    await gqlOk(url, 'mutation ($c: ID!, $b: String!) { sendMessage(input: { channelId: $c, body: $b }) { id } }', { c: w.bobPublic.id, b: `hi @${w.alice.username}` }, { token: w.bob.token });
    const list = await gqlOk(url, '{ notifications { edges { node { id } } } }', {}, { token: w.alice.token });
    const id = list.notifications.edges[0].node.id;
    expect((await gqlOk(url, 'mutation ($ids: [ID!]) { markNotificationsRead(ids: $ids) }', { ids: [upper(id)] }, { token: w.alice.token })).markNotificationsRead).toBe(1);
  },
  'Mutation.setMemberRole(channelId)': async ({ url }, w) => {
    await gqlOk(url, M.SET_ROLE, { c: upper(w.bobPrivate.id), u: w.carol.id, r: 'MODERATOR' }, { token: w.bob.token });
    expect((await gqlOk(url, M.VIEWER_ROLE, { c: w.bobPrivate.id }, { token: w.carol.token })).channel.viewerRole).toBe('MODERATOR');
  },
  'Mutation.setMemberRole(userId)': async ({ url }, w) => {
    const data = await gqlOk(url, M.SET_ROLE, { c: w.bobPrivate.id, u: upper(w.carol.id), r: 'OWNER' }, { token: w.bob.token });
    expect(data.setMemberRole.owner.id).toBe(w.carol.id);
  },
  'Mutation.banFromChannel(channelId)': async ({ url }, w) => {
    expect((await gqlOk(url, M.BAN, { c: upper(w.bobPrivate.id), u: w.carol.id }, { token: w.bob.token })).banFromChannel.memberCount).toBe(1);
    expect(errorCodes(await gql(url, INVITE, { id: w.bobPrivate.id, userId: w.carol.id }, { token: w.bob.token }))).toEqual(['FORBIDDEN']);
  },
  'Mutation.banFromChannel(userId)': async ({ url }, w) => {
    expect((await gqlOk(url, M.BAN, { c: w.bobPrivate.id, u: upper(w.carol.id) }, { token: w.bob.token })).banFromChannel.memberCount).toBe(1);
    expect(errorCodes(await gql(url, INVITE, { id: w.bobPrivate.id, userId: w.carol.id }, { token: w.bob.token }))).toEqual(['FORBIDDEN']);
  },
  'Mutation.unbanFromChannel(channelId)': async ({ url }, w) => {
    await gqlOk(url, M.BAN, { c: w.bobPrivate.id, u: w.carol.id }, { token: w.bob.token });
    await gqlOk(url, M.UNBAN, { c: upper(w.bobPrivate.id), u: w.carol.id }, { token: w.bob.token });
    expect((await gqlOk(url, INVITE, { id: w.bobPrivate.id, userId: w.carol.id }, { token: w.bob.token })).inviteToChannel.memberCount).toBe(2);
  },
  'Mutation.unbanFromChannel(userId)': async ({ url }, w) => {
    await gqlOk(url, M.BAN, { c: w.bobPrivate.id, u: w.carol.id }, { token: w.bob.token });
    await gqlOk(url, M.UNBAN, { c: w.bobPrivate.id, u: upper(w.carol.id) }, { token: w.bob.token });
    expect((await gqlOk(url, INVITE, { id: w.bobPrivate.id, userId: w.carol.id }, { token: w.bob.token })).inviteToChannel.memberCount).toBe(2);
  },
  'Mutation.muteInChannel(channelId)': async ({ url }, w) => {
    await gqlOk(url, M.MUTE, { c: upper(w.bobPrivate.id), u: w.carol.id, d: 600 }, { token: w.bob.token });
    expect(errorCodes(await gql(url, SEND, { input: { channelId: w.bobPrivate.id, body: 'muted?' } }, { token: w.carol.token }))).toEqual(['FORBIDDEN']);
  },
  'Mutation.muteInChannel(userId)': async ({ url }, w) => {
    await gqlOk(url, M.MUTE, { c: w.bobPrivate.id, u: upper(w.carol.id), d: 600 }, { token: w.bob.token });
    expect(errorCodes(await gql(url, SEND, { input: { channelId: w.bobPrivate.id, body: 'muted?' } }, { token: w.carol.token }))).toEqual(['FORBIDDEN']);
  },
  'Mutation.blockUser(userId)': async ({ url }, w) => {
    expect((await gqlOk(url, M.BLOCK, { u: upper(w.bob.id) }, { token: w.alice.token })).blockUser).toBe(true);
    expect((await gqlOk(url, M.BLOCKED, {}, { token: w.alice.token })).blockedUsers).toEqual([{ id: w.bob.id }]);
    expect(errorCodes(await gql(url, OPEN_DIRECT, { userId: w.alice.id }, { token: w.bob.token }))).toEqual(['FORBIDDEN']);
  },
  'Mutation.unblockUser(userId)': async ({ url }, w) => {
    await gqlOk(url, M.BLOCK, { u: w.bob.id }, { token: w.alice.token });
    await gqlOk(url, M.UNBLOCK, { u: upper(w.bob.id) }, { token: w.alice.token });
    expect((await gqlOk(url, M.BLOCKED, {}, { token: w.alice.token })).blockedUsers).toEqual([]);
  },
  'Mutation.reportMessage(messageId)': async ({ url }, w) => {
    expect((await gqlOk(url, M.REPORT, { m: upper(w.bobPublic.messageId), r: 'spam' }, { token: w.alice.token })).reportMessage).toBe(true);
    expect(errorCodes(await gql(url, M.REPORT, { m: w.bobPublic.messageId, r: 'spam' }, { token: w.alice.token }))).toEqual(['CONFLICT']);
  },
  'Mutation.resolveReport(reportId)': async ({ url }, w) => {
    await gqlOk(url, M.REPORT, { m: w.bobPublic.messageId, r: 'spam' }, { token: w.alice.token });
    const [report] = (await gqlOk(url, M.REPORTS, { c: w.bobPublic.id }, { token: w.bob.token })).reports.edges;
    expect((await gqlOk(url, M.RESOLVE, { r: upper(report.node.id) }, { token: w.bob.token })).resolveReport).toBe(true);
    expect((await gqlOk(url, M.REPORTS, { c: w.bobPublic.id }, { token: w.bob.token })).reports.edges).toEqual([]);
  },
  'Query.reports(channelId)': async ({ url }, w) => {
    await gqlOk(url, M.REPORT, { m: w.bobPublic.messageId, r: 'spam' }, { token: w.alice.token });
    expect((await gqlOk(url, M.REPORTS, { c: upper(w.bobPublic.id) }, { token: w.bob.token })).reports.edges).toHaveLength(1);
  },
  'Mutation.setTyping(channelId)': async ({ url, wsUrl }, w) => {
    const client = connectWs(wsUrl, w.bob.token);
    const events = client.subscribe('subscription($c: ID!) { channelEvents(channelId: $c) { __typename } }', { c: w.bobPublic.id });
    await new Promise((r) => setTimeout(r, 300));
    expect((await gqlOk(url, 'mutation($c: ID!) { setTyping(channelId: $c) }', { c: upper(w.bobPublic.id) }, { token: w.alice.token })).setTyping).toBe(true);
    expect((await events.next()).data?.channelEvents.__typename).toBe('UserTyping');
  },
  'Subscription.channelEvents(channelId)': async ({ url, wsUrl }, w) => {
    const client = connectWs(wsUrl, w.alice.token);
    const events = client.subscribe('subscription($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageAdded { message { id channel { id } } } } }', { c: upper(w.bobPublic.id) });
    await new Promise((r) => setTimeout(r, 300));
    const sent = await sendMessage(url, w.bob.token, w.bobPublic.id, 'to the listener');
    const event = await events.next();
    expect(event.data).toEqual({ channelEvents: { __typename: 'MessageAdded', message: { id: sent.id, channel: { id: w.bobPublic.id } } } });
  },
};

describe('security: case-variant ids on every id argument', () => {
  const suite = useTestServer();
  let world: World;
  beforeEach(async () => {
    world = await buildWorld(suite.server);
  });

  it('the table covers every id argument of the schema', async () => {
    expect(Object.keys(cases).sort()).toEqual(idArguments(await buildAppSchema()));
  });

  it.each(Object.keys(cases))('%s with upper-cased ids acts on the canonical object', async (name) => {
    await cases[name](suite.server, world);
  });

  it('no request with case-variant ids created a second DIRECT channel', async () => {
    for (const variant of [(id: string) => id, upper, (id: string) => id.replace(/[a-f]/, (c) => c.toUpperCase())]) {
      const response = await gql(suite.server.url, OPEN_DIRECT, { userId: variant(world.carol.id) }, { token: world.bob.token });
      expectContractErrors(response);
      expect(response.data?.openDirectChannel.id).toBe(world.direct.id);
    }
    const rows = await suite.server.app.services.orm.em.fork().getConnection().execute(`select count(*)::int as n from channels where kind = 'DIRECT'`);
    expect(rows[0].n).toBe(1);
  });
});

describe('migration: DIRECT channels made with case-variant ids', () => {
  const suite = useTestServer();

  it('deletes self-DMs and duplicates, and renames a lone variant to its canonical name', async () => {
    const { app, url } = suite.server;
    const [a, b, c] = [await createUser(app), await createUser(app), await createUser(app)];
    const sql = app.services.sql;
    const insert = async (name: string, members: string[]) => {
      const id = randomUUID();
      await sql.query(`insert into channels (id, name, kind, member_count) values ($1, $2, 'DIRECT', $3)`, [id, name, members.length]);
      for (const member of members) await sql.query(`insert into memberships (channel_id, user_id, role) values ($1, $2, 'MEMBER')`, [id, member]);
      return id;
    };
    const canonicalAB = (await gqlOk(url, OPEN_DIRECT, { userId: b.id }, { token: a.token })).openDirectChannel.id;
    const duplicateAB = await insert(`dm:${upper(a.id)}:${b.id}`, [a.id, b.id]);
    const selfDm = await insert(`dm:${a.id}:${upper(a.id)}`, [a.id]);
    const [first, second] = [a.id, c.id].sort();
    const loneAC = await insert(`dm:${upper(second)}:${first}`, [a.id, c.id]);
    const laterAC = await insert(`dm:${first}:${upper(second)}`, [a.id, c.id]);

    for (const statement of CANONICAL_DIRECT_STATEMENTS) await sql.query(statement, []);

    const rows = await sql.query<{ id: string; name: string }>(`select id, name from channels where kind = 'DIRECT' order by name`, []);
    expect(new Map(rows.map((r) => [r.id, r.name]))).toEqual(
      new Map([
        [canonicalAB, directChannelKey(a.id, b.id)],
        [loneAC, directChannelKey(a.id, c.id)],
      ]),
    );
    expect([duplicateAB, selfDm, laterAC].every((id) => !rows.some((r) => r.id === id))).toBe(true);
    // Opening it again finds the renamed one.
    expect((await gqlOk(url, OPEN_DIRECT, { userId: c.id }, { token: a.token })).openDirectChannel.id).toBe(loneAC);
  });
});
