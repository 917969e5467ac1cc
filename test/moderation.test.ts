import { activityRows } from './helpers/accounts';
import { describeWithRedis, type TestApp, useTwoTestServers } from './helpers/app';
import { countQueries } from './helpers/db';
import { createUser, type TestUser } from './helpers/factories';
import { errorCode, gql, type GraphQLResponse, gqlOk } from './helpers/graphql';
import { CHANNEL_EVENTS, createChannel, sendMessage, waitForStreams } from './helpers/realtime';
import { connectWs } from './helpers/ws';

const SET_ROLE = 'mutation ($c: ID!, $u: ID!, $r: MemberRole!) { setMemberRole(channelId: $c, userId: $u, role: $r) { id owner { id } viewerRole } }';
const BAN = 'mutation ($c: ID!, $u: ID!, $d: Int, $r: String) { banFromChannel(channelId: $c, userId: $u, durationSeconds: $d, reason: $r) { id memberCount } }';
const UNBAN = 'mutation ($c: ID!, $u: ID!) { unbanFromChannel(channelId: $c, userId: $u) { id } }';
const MUTE = 'mutation ($c: ID!, $u: ID!, $d: Int!) { muteInChannel(channelId: $c, userId: $u, durationSeconds: $d) { id } }';
const REMOVE = 'mutation ($c: ID!, $u: ID!) { removeFromChannel(channelId: $c, userId: $u) { id } }';
const JOIN = 'mutation ($c: ID!) { joinChannel(channelId: $c) { id viewerRole } }';
const INVITE = 'mutation ($c: ID!, $u: ID!) { inviteToChannel(channelId: $c, userId: $u) { id } }';
const SEND = 'mutation ($c: ID!, $b: String!) { sendMessage(input: { channelId: $c, body: $b }) { id } }';
const VOTE = 'mutation ($m: ID!) { vote(messageId: $m, value: UP) { id } }';
const DELETE_MESSAGE = 'mutation ($m: ID!) { deleteMessage(messageId: $m) { id deleted } }';
const VIEWER_ROLE = 'query ($c: ID!) { channel(id: $c) { viewerRole slowModeSeconds } }';
const SLOW = 'mutation ($c: ID!, $s: Int) { updateChannel(input: { channelId: $c, slowModeSeconds: $s }) { id slowModeSeconds } }';
const REPORT = 'mutation ($m: ID!, $r: String!) { reportMessage(messageId: $m, reason: $r) }';
const REPORTS = 'query ($c: ID!, $first: Int, $after: String) { reports(channelId: $c, first: $first, after: $after) { edges { cursor node { id reason message { id body } reporter { id } } } pageInfo { hasNextPage hasPreviousPage } } }';
const RESOLVE = 'mutation ($r: ID!) { resolveReport(reportId: $r) }';
const BLOCK = 'mutation ($u: ID!) { blockUser(userId: $u) }';
const UNBLOCK = 'mutation ($u: ID!) { unblockUser(userId: $u) }';
const BLOCKED = '{ blockedUsers { id } }';
const OPEN_DIRECT = 'mutation ($u: ID!) { openDirectChannel(userId: $u) { id viewerRole } }';

describeWithRedis('moderation: roles, bans, timeouts, slow mode, blocks and reports', () => {
  let one: TestApp;
  let two: TestApp;
  useTwoTestServers((servers) => ([one, two] = servers));

  const call = (user: TestUser, query: string, variables: Record<string, unknown> = {}) => gql(one.url, query, variables, { token: user.token });
  const ok = (user: TestUser, query: string, variables: Record<string, unknown> = {}) => gqlOk(one.url, query, variables, { token: user.token });
  const expectError = (response: GraphQLResponse, code: string, field?: string) => {
    expect(errorCode(response)).toBe(code);
    if (field) expect(response.errors![0].extensions!.field).toBe(field);
  };

  /** A PUBLIC channel with an owner, a moderator and two members. */
  async function room(name: string) {
    const [owner, moderator, member, other] = await Promise.all([createUser(one.app), createUser(one.app), createUser(one.app), createUser(one.app)]);
    const channelId = await createChannel(one, owner.token, name);
    for (const user of [moderator, member, other]) await ok(user, JOIN, { c: channelId });
    await ok(owner, SET_ROLE, { c: channelId, u: moderator.id, r: 'MODERATOR' });
    return { owner, moderator, member, other, channelId };
  }

  describe('roles', () => {
    it('viewerRole per viewer; the owner sets roles and hands ownership on (the previous owner becomes a moderator)', async () => {
      const { owner, moderator, member, channelId } = await room('roles');
      const outsider = await createUser(one.app);
      expect((await ok(owner, VIEWER_ROLE, { c: channelId })).channel.viewerRole).toBe('OWNER');
      expect((await ok(moderator, VIEWER_ROLE, { c: channelId })).channel.viewerRole).toBe('MODERATOR');
      expect((await ok(member, VIEWER_ROLE, { c: channelId })).channel.viewerRole).toBe('MEMBER');
      expect((await ok(outsider, VIEWER_ROLE, { c: channelId })).channel.viewerRole).toBeNull();

      // Only the owner sets roles.
      expectError(await call(moderator, SET_ROLE, { c: channelId, u: member.id, r: 'MODERATOR' }), 'FORBIDDEN');
      expectError(await call(member, SET_ROLE, { c: channelId, u: member.id, r: 'OWNER' }), 'FORBIDDEN');
      expectError(await call(owner, SET_ROLE, { c: channelId, u: outsider.id, r: 'MODERATOR' }), 'NOT_FOUND');

      const transferred = await ok(owner, SET_ROLE, { c: channelId, u: member.id, r: 'OWNER' });
      expect(transferred.setMemberRole.owner.id).toBe(member.id);
      expect(transferred.setMemberRole.viewerRole).toBe('MODERATOR');
      expect((await ok(member, VIEWER_ROLE, { c: channelId })).channel.viewerRole).toBe('OWNER');
      // The former owner, now a moderator, may not act on the new owner.
      expectError(await call(owner, MUTE, { c: channelId, u: member.id, d: 60 }), 'FORBIDDEN');
      expect((await activityRows(one.app, owner.id)).map((row) => row.action)).toContain('MEMBER_ROLE_CHANGED');
    });

    it('moderators remove members and delete any message, but not the owner or other moderators', async () => {
      const { owner, moderator, member, other, channelId } = await room('mods');
      await ok(owner, SET_ROLE, { c: channelId, u: other.id, r: 'MODERATOR' });
      expectError(await call(moderator, REMOVE, { c: channelId, u: owner.id }), 'FORBIDDEN');
      expectError(await call(moderator, REMOVE, { c: channelId, u: other.id }), 'FORBIDDEN');
      expectError(await call(moderator, BAN, { c: channelId, u: other.id }), 'FORBIDDEN');
      expectError(await call(member, REMOVE, { c: channelId, u: other.id }), 'FORBIDDEN');

      const byOwner = await sendMessage(one, owner.token, channelId, 'owner says');
      const byMember = await sendMessage(one, member.token, channelId, 'member says');
      expect((await ok(moderator, DELETE_MESSAGE, { m: byMember.id })).deleteMessage.deleted).toBe(true);
      expect((await ok(moderator, DELETE_MESSAGE, { m: byOwner.id })).deleteMessage.deleted).toBe(true);
      const again = await sendMessage(one, moderator.token, channelId, 'mod says');
      expectError(await call(member, DELETE_MESSAGE, { m: again.id }), 'FORBIDDEN');

      await ok(moderator, REMOVE, { c: channelId, u: member.id });
      expect((await ok(member, VIEWER_ROLE, { c: channelId })).channel.viewerRole).toBeNull();
      expect((await activityRows(one.app, moderator.id)).map((row) => row.action)).toEqual(expect.arrayContaining(['MEMBER_REMOVED', 'MESSAGE_DELETED']));
    });

    it('DIRECT channels: every moderation call is BAD_USER_INPUT on channelId, and viewerRole is null', async () => {
      const [a, b] = await Promise.all([createUser(one.app), createUser(one.app)]);
      const { openDirectChannel } = await ok(a, OPEN_DIRECT, { u: b.id });
      expect(openDirectChannel.viewerRole).toBeNull();
      const c = openDirectChannel.id;
      for (const [query, variables] of [
        [SET_ROLE, { c, u: b.id, r: 'MODERATOR' }],
        [BAN, { c, u: b.id }],
        [UNBAN, { c, u: b.id }],
        [MUTE, { c, u: b.id, d: 60 }],
        [SLOW, { c, s: 10 }],
        [REPORTS, { c }],
      ] as const) {
        expectError(await call(a, query, variables), 'BAD_USER_INPUT', 'channelId');
      }
    });
  });

  describe('bans', () => {
    it('a ban ends the stream on another instance, refuses join, invite and create-by-name until unbanned', async () => {
      const { owner, moderator, member, channelId } = await room('banned');
      const ws = connectWs(two.wsUrl, member.token);
      const events = ws.subscribe(CHANNEL_EVENTS, { channelId });
      await waitForStreams(two.app, 1);

      const banned = await ok(moderator, BAN, { c: channelId, u: member.id, r: 'spam' });
      expect(banned.banFromChannel.memberCount).toBe(3);
      await events.completed;
      expect(events.results.map((result) => result.data?.channelEvents.__typename)).toContain('MemberLeft');

      expectError(await call(member, JOIN, { c: channelId }), 'FORBIDDEN');
      expectError(await gql(two.url, JOIN, { c: channelId }, { token: member.token }), 'FORBIDDEN');
      expectError(await call(member, 'mutation { createChannel(input: { name: "banned" }) { id } }'), 'FORBIDDEN');
      expectError(await call(moderator, BAN, { c: channelId, u: member.id }), 'NOT_FOUND');

      const secret = await createChannel(one, owner.token, 'banned-secret', 'PRIVATE');
      await ok(owner, INVITE, { c: secret, u: moderator.id });
      await ok(owner, SET_ROLE, { c: secret, u: moderator.id, r: 'MODERATOR' });
      await ok(owner, INVITE, { c: secret, u: member.id });
      await ok(moderator, BAN, { c: secret, u: member.id, d: 3600 });
      expectError(await call(owner, INVITE, { c: secret, u: member.id }), 'FORBIDDEN');

      expectError(await call(member, UNBAN, { c: channelId, u: member.id }), 'FORBIDDEN');
      await ok(moderator, UNBAN, { c: channelId, u: member.id });
      expectError(await call(moderator, UNBAN, { c: channelId, u: member.id }), 'NOT_FOUND');
      expect((await ok(member, JOIN, { c: channelId })).joinChannel.viewerRole).toBe('MEMBER');
      expect((await activityRows(one.app, moderator.id)).map((row) => row.action)).toEqual(expect.arrayContaining(['MEMBER_BANNED', 'MEMBER_UNBANNED']));
    });

    it('an expired ban lets the user back in; bad durations are BAD_USER_INPUT', async () => {
      const { owner, member, channelId } = await room('expiring');
      expectError(await call(owner, BAN, { c: channelId, u: member.id, d: 0 }), 'BAD_USER_INPUT', 'durationSeconds');
      expectError(await call(owner, BAN, { c: channelId, u: member.id, r: 'x'.repeat(1001) }), 'BAD_USER_INPUT', 'reason');
      await ok(owner, BAN, { c: channelId, u: member.id, d: 3600 });
      expectError(await call(member, JOIN, { c: channelId }), 'FORBIDDEN');
      await one.app.services.sql.query("update channel_bans set expires_at = now() - interval '1 second' where channel_id = $1", [channelId]);
      await ok(member, JOIN, { c: channelId });
    });
  });

  describe('timeouts', () => {
    it('a muted member reads but cannot send or vote until the timeout expires', async () => {
      const { owner, moderator, member, channelId } = await room('muted');
      const message = await sendMessage(one, owner.token, channelId, 'hello');
      expectError(await call(owner, MUTE, { c: channelId, u: member.id, d: 0 }), 'BAD_USER_INPUT', 'durationSeconds');
      expectError(await call(owner, MUTE, { c: channelId, u: member.id, d: 2_592_001 }), 'BAD_USER_INPUT', 'durationSeconds');
      expectError(await call(member, MUTE, { c: channelId, u: moderator.id, d: 60 }), 'FORBIDDEN');
      await ok(moderator, MUTE, { c: channelId, u: member.id, d: 2 });

      expectError(await call(member, SEND, { c: channelId, b: 'let me talk' }), 'FORBIDDEN');
      expectError(await gql(two.url, SEND, { c: channelId, b: 'from the other instance' }, { token: member.token }), 'FORBIDDEN');
      expectError(await call(member, VOTE, { m: message.id }), 'FORBIDDEN');
      const history = await ok(member, 'query ($c: ID!) { messages(channelId: $c) { edges { node { id } } } }', { c: channelId });
      expect(history.messages.edges.map((edge: { node: { id: string } }) => edge.node.id)).toContain(message.id);

      await new Promise((resolve) => setTimeout(resolve, 2100));
      await ok(member, SEND, { c: channelId, b: 'back' });
      await ok(member, VOTE, { m: message.id });
      expect((await activityRows(one.app, moderator.id)).map((row) => row.action)).toContain('MEMBER_MUTED');
    });
  });

  describe('slow mode', () => {
    it('one message per interval per MEMBER, RATE_LIMITED with retryAfter across instances; owners and moderators exempt', async () => {
      const { owner, moderator, member, channelId } = await room('slow');
      expectError(await call(owner, SLOW, { c: channelId, s: -1 }), 'BAD_USER_INPUT', 'slowModeSeconds');
      expectError(await call(owner, SLOW, { c: channelId, s: 21_601 }), 'BAD_USER_INPUT', 'slowModeSeconds');
      expectError(await call(member, SLOW, { c: channelId, s: 30 }), 'FORBIDDEN');
      expect((await ok(owner, SLOW, { c: channelId, s: 30 })).updateChannel.slowModeSeconds).toBe(30);
      expect((await ok(member, VIEWER_ROLE, { c: channelId })).channel.slowModeSeconds).toBe(30);

      await ok(member, SEND, { c: channelId, b: 'first' });
      const refused = await gql(two.url, SEND, { c: channelId, b: 'second' }, { token: member.token });
      expectError(refused, 'RATE_LIMITED');
      expect(refused.errors![0].extensions!.retryAfter).toBeGreaterThanOrEqual(29);
      expect(refused.errors![0].extensions!.retryAfter).toBeLessThanOrEqual(30);

      for (const exempt of [owner, moderator]) {
        await ok(exempt, SEND, { c: channelId, b: 'one' });
        await ok(exempt, SEND, { c: channelId, b: 'two' });
      }
      // The interval passed (set back in the database): the member sends again.
      await one.app.services.sql.query("update memberships set last_sent_at = now() - interval '31 seconds' where channel_id = $1", [channelId]);
      await ok(member, SEND, { c: channelId, b: 'later' });
      await ok(owner, SLOW, { c: channelId, s: 0 });
      await ok(member, SEND, { c: channelId, b: 'free again' });
      expect((await activityRows(one.app, owner.id)).map((row) => row.action)).toContain('SLOW_MODE_CHANGED');
    });
  });

  it('the checks cost sendMessage no statement: one send is the one send_messages call, refused or not', async () => {
    const { owner, member, other, channelId } = await room('one-statement');
    await ok(owner, SLOW, { c: channelId, s: 30 });
    await ok(member, SEND, { c: channelId, b: 'warm up' });
    await ok(owner, MUTE, { c: channelId, u: other.id, d: 60 });
    for (const [user, code] of [[owner, null], [member, 'RATE_LIMITED'], [other, 'FORBIDDEN']] as const) {
      const { result, queries } = await countQueries(one.app, () => call(user, SEND, { c: channelId, b: 'counted' }));
      expect(errorCode(result) ?? null).toBe(code);
      // Besides the token's session lookup (every request's), only the send_messages statement,
      // which for a message without mentions also writes its notifications (attention's part).
      const sends = queries.filter((sql) => !/ from sessions /.test(sql));
      expect(sends).toEqual([expect.stringMatching(/send_messages\(/)]);
      expect(sends[0]).toMatch(/insert into notifications/);
    }
  });

  describe('blocking', () => {
    it('a blocked user cannot open a DIRECT channel with the blocker nor send in the existing one', async () => {
      const [alice, bob, carol] = await Promise.all([createUser(one.app), createUser(one.app), createUser(one.app)]);
      const { openDirectChannel } = await ok(alice, OPEN_DIRECT, { u: bob.id });
      await ok(bob, SEND, { c: openDirectChannel.id, b: 'hi alice' });

      expect((await ok(alice, BLOCK, { u: bob.id })).blockUser).toBe(true);
      expect((await ok(alice, BLOCKED)).blockedUsers).toEqual([{ id: bob.id }]);
      expectError(await call(bob, SEND, { c: openDirectChannel.id, b: 'hello?' }), 'FORBIDDEN');
      expectError(await call(bob, OPEN_DIRECT, { u: alice.id }), 'FORBIDDEN');
      // Alice still writes; Bob sees nothing of the block otherwise.
      await ok(alice, SEND, { c: openDirectChannel.id, b: 'I can still write' });
      expect((await ok(bob, BLOCKED)).blockedUsers).toEqual([]);
      // Others are not affected.
      await ok(carol, OPEN_DIRECT, { u: alice.id });
      expectError(await call(alice, BLOCK, { u: alice.id }), 'BAD_USER_INPUT', 'userId');
      expectError(await call(alice, BLOCK, { u: '00000000-0000-4000-8000-000000000000' }), 'NOT_FOUND');

      expect((await ok(alice, UNBLOCK, { u: bob.id })).unblockUser).toBe(true);
      expect((await ok(alice, UNBLOCK, { u: bob.id })).unblockUser).toBe(false);
      await ok(bob, SEND, { c: openDirectChannel.id, b: 'thanks' });
      expect((await activityRows(one.app, alice.id)).map((row) => row.action)).toEqual(expect.arrayContaining(['USER_BLOCKED', 'USER_UNBLOCKED']));
    });
  });

  describe('reports', () => {
    it('any reader reports once; owners and moderators page through reports oldest first and resolve them', async () => {
      const { owner, moderator, member, other, channelId } = await room('reports');
      const reader = await createUser(one.app);
      const first = await sendMessage(one, other.token, channelId, 'rude one');
      const second = await sendMessage(one, other.token, channelId, 'rude two');
      expectError(await call(member, REPORT, { m: first.id, r: '   ' }), 'BAD_USER_INPUT', 'reason');
      expectError(await call(member, REPORT, { m: first.id, r: 'x'.repeat(1001) }), 'BAD_USER_INPUT', 'reason');
      expect((await ok(member, REPORT, { m: first.id, r: 'rude' })).reportMessage).toBe(true);
      expectError(await call(member, REPORT, { m: first.id, r: 'still rude' }), 'CONFLICT');
      // A reader who is not a member of the PUBLIC channel may report too.
      await ok(reader, REPORT, { m: second.id, r: 'also rude' });
      expect((await activityRows(one.app, reader.id)).map((row) => row.action)).toContain('MESSAGE_REPORTED');

      expectError(await call(member, REPORTS, { c: channelId }), 'FORBIDDEN');
      const page1 = (await ok(moderator, REPORTS, { c: channelId, first: 1 })).reports;
      expect(page1.edges.map((edge: any) => [edge.node.reason, edge.node.message.id, edge.node.reporter.id])).toEqual([['rude', first.id, member.id]]);
      expect(page1.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false });
      const page2 = (await ok(owner, REPORTS, { c: channelId, first: 1, after: page1.edges[0].cursor })).reports;
      expect(page2.edges.map((edge: any) => edge.node.reason)).toEqual(['also rude']);
      expect(page2.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true });

      expectError(await call(member, RESOLVE, { r: page1.edges[0].node.id }), 'FORBIDDEN');
      expect((await ok(moderator, RESOLVE, { r: page1.edges[0].node.id })).resolveReport).toBe(true);
      expectError(await call(moderator, RESOLVE, { r: page1.edges[0].node.id }), 'NOT_FOUND');
      expect((await ok(owner, REPORTS, { c: channelId })).reports.edges).toHaveLength(1);
      expect((await activityRows(one.app, moderator.id)).map((row) => row.action)).toContain('REPORT_RESOLVED');
    });
  });
});
