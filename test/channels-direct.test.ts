import { randomUUID } from 'node:crypto';
import { directChannelKey } from '../src/channels/channel.types';
import { Topic } from '../src/domain/topics';
import { errorCode, gql, gqlOk } from './helpers/graphql';
import { type TestApp, useTestServer } from './helpers/app';
import { createUser } from './helpers/factories';
import { CHANNEL, countRows, DIRECTORY, JOIN, LEAVE, MY_CHANNELS, OPEN_DIRECT, recordTopic, stopAllRecorders, type TestChannel } from './helpers/channels';

describe('channels: direct conversations', () => {
  // Before the suite's own hooks: recorders listen on the bus, which stopping the app closes.
  afterAll(stopAllRecorders);
  const suite = useTestServer();
  let server: TestApp;
  let url: string;

  beforeAll(() => {
    server = suite.server;
    url = server.url;
  });

  const open = async (token: string, userId: string) => (await gqlOk<{ openDirectChannel: TestChannel }>(url, OPEN_DIRECT, { userId }, { token })).openDirectChannel;

  it('creates the channel on first use and returns the same one to either side later', async () => {
    const [alice, bob] = [await createUser(server.app), await createUser(server.app)];
    const bobTopic = await recordTopic(server.app, Topic.user(bob.id));
    const aliceTopic = await recordTopic(server.app, Topic.user(alice.id));

    const fromAlice = await open(alice.token, bob.id);
    expect(fromAlice).toMatchObject({ kind: 'DIRECT', memberCount: 2, isMember: true, owner: null, peer: { id: bob.id, username: bob.username } });
    // Named after the other participant; the stored key never shows.
    expect(fromAlice.name).toBe(bob.username);
    await bobTopic.waitFor((e) => e.type === 'MembershipAdded' && e.channelId === fromAlice.id);
    await aliceTopic.waitFor((e) => e.type === 'MembershipAdded' && e.channelId === fromAlice.id);

    const fromBob = await open(bob.token, alice.id);
    expect(fromBob).toMatchObject({ id: fromAlice.id, name: alice.username, peer: { id: alice.id }, memberCount: 2 });
    expect((await open(alice.token, bob.id)).id).toBe(fromAlice.id);

    const bobsView = (await gqlOk<{ channel: TestChannel }>(url, CHANNEL, { id: fromAlice.id }, { token: bob.token })).channel;
    expect(bobsView).toMatchObject({ name: alice.username, peer: { id: alice.id } });
    const mine = await gqlOk<{ myChannels: TestChannel[] }>(url, MY_CHANNELS, {}, { token: bob.token });
    const listed = mine.myChannels.find((c) => c.id === fromAlice.id);
    expect(listed).toMatchObject({ kind: 'DIRECT', name: alice.username });
    expect(JSON.stringify(mine)).not.toContain('dm:');

    // DIRECT_OPENED once: only when it was created.
    expect(await countRows(server.app, `select count(*) from activity_log where action = 'DIRECT_OPENED' and channel_id = ?`, [fromAlice.id])).toBe(1);
    expect(await countRows(server.app, 'select count(*) from memberships where channel_id = ?', [fromAlice.id])).toBe(2);
  });

  it('gives exactly one channel when both sides open it at the same moment', async () => {
    for (let round = 0; round < 6; round += 1) {
      const [alice, bob] = [await createUser(server.app), await createUser(server.app)];
      const [a, b, c, d] = await Promise.all([open(alice.token, bob.id), open(bob.token, alice.id), open(alice.token, bob.id), open(bob.token, alice.id)]);
      expect(new Set([a.id, b.id, c.id, d.id]).size).toBe(1);
      expect(await countRows(server.app, 'select count(*) from channels where name = ?', [directChannelKey(alice.id, bob.id)])).toBe(1);
      expect(await countRows(server.app, 'select count(*) from memberships where channel_id = ?', [a.id])).toBe(2);
      expect(await countRows(server.app, `select count(*) from channels where kind = 'DIRECT' and member_count = 2 and id = ?`, [a.id])).toBe(1);
      expect(await countRows(server.app, `select count(*) from activity_log where action = 'DIRECT_OPENED' and channel_id = ?`, [a.id])).toBe(1);
    }
  });

  it('refuses yourself (BAD_USER_INPUT) and unknown users (NOT_FOUND)', async () => {
    const alice = await createUser(server.app);
    const self = await gql(url, OPEN_DIRECT, { userId: alice.id }, { token: alice.token });
    expect(errorCode(self)).toBe('BAD_USER_INPUT');
    expect(self.errors?.[0].extensions?.field).toBe('userId');
    expect(errorCode(await gql(url, OPEN_DIRECT, { userId: randomUUID() }, { token: alice.token }))).toBe('NOT_FOUND');
    expect(errorCode(await gql(url, OPEN_DIRECT, { userId: 'nobody' }, { token: alice.token }))).toBe('NOT_FOUND');
    expect(errorCode(await gql(url, OPEN_DIRECT, { userId: alice.id }))).toBe('UNAUTHENTICATED');
    expect(await countRows(server.app, `select count(*) from channels where kind = 'DIRECT'`)).toBe(0);
  });

  it('is invisible to everyone else and cannot be joined or left', async () => {
    const [alice, bob, eve] = [await createUser(server.app), await createUser(server.app), await createUser(server.app)];
    const direct = await open(alice.token, bob.id);
    expect((await gqlOk(url, CHANNEL, { id: direct.id }, { token: eve.token })).channel).toBeNull();
    expect(errorCode(await gql(url, JOIN, { id: direct.id }, { token: eve.token }))).toBe('NOT_FOUND');
    expect((await gqlOk(url, DIRECTORY, {}, { token: eve.token })).channels.edges.map((e: { node: { kind: string } }) => e.node.kind)).not.toContain('DIRECT');
    // A participant cannot leave it: the pair keeps one conversation.
    expect(errorCode(await gql(url, LEAVE, { id: direct.id }, { token: alice.token }))).toBe('FORBIDDEN');
    expect(await countRows(server.app, 'select count(*) from memberships where channel_id = ?', [direct.id])).toBe(2);
  });
});
