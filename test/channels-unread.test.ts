import { randomUUID } from 'node:crypto';
import { countQueries } from './helpers/db';
import { errorCode, gql, gqlOk } from './helpers/graphql';
import { type TestApp, useTestServer } from './helpers/app';
import { createUser, type TestUser } from './helpers/factories';
import { CHANNEL, createChannel, insertMessage, JOIN, MARK_READ, MY_CHANNELS, OPEN_DIRECT, type TestChannel, tombstone } from './helpers/channels';

describe('channels: unread counts, read markers and the cost of myChannels', () => {
  const suite = useTestServer();
  let server: TestApp;
  let url: string;

  beforeAll(() => {
    server = suite.server;
    url = server.url;
  });

  const unread = async (user: TestUser, id: string) => (await gqlOk<{ channel: TestChannel }>(url, CHANNEL, { id }, { token: user.token })).channel.unreadCount;
  const markRead = (user: TestUser, id: string, messageId?: string) => gqlOk<{ markRead: TestChannel }>(url, MARK_READ, { id, messageId }, { token: user.token });

  it("counts others' messages after the marker, not the viewer's own nor deleted ones", async () => {
    const [alice, bob] = [await createUser(server.app), await createUser(server.app)];
    const channel = await createChannel(url, alice);
    await gqlOk(url, JOIN, { id: channel.id }, { token: bob.token });
    await insertMessage(server.app, channel.id, alice.id, 'one');
    const two = await insertMessage(server.app, channel.id, alice.id, 'two');
    await insertMessage(server.app, channel.id, bob.id, 'mine');
    const four = await insertMessage(server.app, channel.id, alice.id, 'four');
    expect(await unread(bob, channel.id)).toBe(3);
    expect(await unread(alice, channel.id)).toBe(1);
    await tombstone(server.app, four.id);
    expect(await unread(bob, channel.id)).toBe(2);

    // To a message: what follows it stays unread.
    expect((await markRead(bob, channel.id, two.id)).markRead.unreadCount).toBe(0);
    await insertMessage(server.app, channel.id, alice.id, 'five');
    expect(await unread(bob, channel.id)).toBe(1);
    // Without a message: everything is read.
    expect((await markRead(bob, channel.id)).markRead.unreadCount).toBe(0);
  });

  it('never moves a marker backwards', async () => {
    const [alice, bob] = [await createUser(server.app), await createUser(server.app)];
    const channel = await createChannel(url, alice);
    await gqlOk(url, JOIN, { id: channel.id }, { token: bob.token });
    const first = await insertMessage(server.app, channel.id, alice.id);
    await insertMessage(server.app, channel.id, alice.id);
    await markRead(bob, channel.id);
    expect((await markRead(bob, channel.id, first.id)).markRead.unreadCount).toBe(0);
    const rows = await server.app.services.orm.em
      .getConnection()
      .execute<Array<{ last_read_seq: string }>>('select last_read_seq from memberships where channel_id = ? and user_id = ?', [channel.id, bob.id]);
    expect(Number(rows[0].last_read_seq)).toBe(2);
  });

  it('is 0 for non-members, who cannot mark a PUBLIC channel read (FORBIDDEN)', async () => {
    const [alice, bob] = [await createUser(server.app), await createUser(server.app)];
    const channel = await createChannel(url, alice);
    await insertMessage(server.app, channel.id, alice.id);
    expect(await unread(bob, channel.id)).toBe(0);
    expect(errorCode(await gql(url, MARK_READ, { id: channel.id }, { token: bob.token }))).toBe('FORBIDDEN');
  });

  it("refuses a message of another channel or an unknown one (NOT_FOUND)", async () => {
    const alice = await createUser(server.app);
    const channel = await createChannel(url, alice);
    const other = await createChannel(url, alice);
    const elsewhere = await insertMessage(server.app, other.id, alice.id);
    expect(errorCode(await gql(url, MARK_READ, { id: channel.id, messageId: elsewhere.id }, { token: alice.token }))).toBe('NOT_FOUND');
    expect(errorCode(await gql(url, MARK_READ, { id: channel.id, messageId: randomUUID() }, { token: alice.token }))).toBe('NOT_FOUND');
    expect(errorCode(await gql(url, MARK_READ, { id: channel.id, messageId: 'x' }, { token: alice.token }))).toBe('NOT_FOUND');
  });

  it('answers myChannels with owner, peer, memberCount and unreadCount in a fixed number of statements', async () => {
    const viewer = await createUser(server.app);
    const others = await Promise.all(Array.from({ length: 5 }, () => createUser(server.app)));

    /** Gives the viewer `count` more channels: a mix of owned, joined and direct ones, with unread messages. */
    let made = 0;
    const addChannels = async (count: number) => {
      for (let i = 0; i < count; i += 1, made += 1) {
        const other = others[made % others.length];
        let channelId: string;
        if (made % 3 === 0 && made < others.length * 3) {
          channelId = (await gqlOk(url, OPEN_DIRECT, { userId: other.id }, { token: viewer.token })).openDirectChannel.id;
        } else if (made % 2 === 0) {
          channelId = (await createChannel(url, viewer)).id;
        } else {
          channelId = (await createChannel(url, other)).id;
          await gqlOk(url, JOIN, { id: channelId }, { token: viewer.token });
        }
        await insertMessage(server.app, channelId, other.id);
      }
    };
    const measure = async () => {
      const { result, queries } = await countQueries(server.app, () => gqlOk<{ myChannels: TestChannel[] }>(url, MY_CHANNELS, {}, { token: viewer.token }));
      return { channels: result.myChannels, statements: queries.length };
    };

    await addChannels(4);
    const small = await measure();
    expect(small.channels).toHaveLength(5);
    await addChannels(45);
    const large = await measure();
    expect(large.channels).toHaveLength(50);
    expect(large.statements).toBe(small.statements);
    expect(large.statements).toBeLessThanOrEqual(6);
    // And the answers are right: every channel but `public` has one unread message by someone else.
    expect(large.channels.filter((c) => c.unreadCount === 1)).toHaveLength(49);
    expect(large.channels.filter((c) => c.kind === 'DIRECT').every((c) => c.peer !== null && c.name === c.peer.username)).toBe(true);
    expect(large.channels.filter((c) => c.kind !== 'DIRECT' && c.name !== 'public').every((c) => c.owner !== null)).toBe(true);
  });
});
