import { errorCode, gql, gqlOk } from './helpers/graphql';
import { useTestServer } from './helpers/app';
import { createUser, type TestUser } from './helpers/factories';
import { connectWs } from './helpers/ws';
import { commitMessageSilently, createChannel, sendMessage, waitForStreams } from './helpers/realtime';

const PIN = 'mutation ($id: ID!) { pinMessage(messageId: $id) { id pinned } }';
const UNPIN = 'mutation ($id: ID!) { unpinMessage(messageId: $id) { id pinned } }';
const PINNED = 'query ($c: ID!) { channel(id: $c) { id pinnedMessages { id body pinned author { id } } } }';
const DELETE = 'mutation ($id: ID!) { deleteMessage(messageId: $id) { id deleted pinned } }';
const JOIN = 'mutation ($c: ID!) { joinChannel(channelId: $c) { id } }';

describe('pins', () => {
  const suite = useTestServer();
  let owner: TestUser;
  let bob: TestUser;
  let channelId: string;

  const url = () => suite.server.url;
  const pin = (user: TestUser, id: string) => gql<{ pinMessage: { id: string; pinned: boolean } }>(url(), PIN, { id }, { token: user.token });
  const unpin = (user: TestUser, id: string) => gql<{ unpinMessage: { id: string; pinned: boolean } }>(url(), UNPIN, { id }, { token: user.token });
  const pinnedIds = async (user: TestUser, channel = channelId): Promise<string[]> => {
    const data = await gqlOk<{ channel: { pinnedMessages: Array<{ id: string; pinned: boolean }> } }>(url(), PINNED, { c: channel }, { token: user.token });
    expect(data.channel.pinnedMessages.every((message) => message.pinned)).toBe(true);
    return data.channel.pinnedMessages.map((message) => message.id);
  };
  const storedPins = async (channel = channelId): Promise<number> => {
    const rows = await suite.server.app.services.sql.query<{ count: number }>('select count(*)::int as count from message_pins where channel_id = $1', [channel]);
    return rows[0].count;
  };
  /** `count` messages by the owner, stored without events (quicker than sending each). */
  const messages = async (count: number): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) ids.push((await commitMessageSilently(suite.server.app, channelId, owner.id, `m${i}`)).id);
    return ids;
  };

  beforeEach(async () => {
    [owner, bob] = await Promise.all([createUser(suite.server.app), createUser(suite.server.app)]);
    channelId = await createChannel(suite.server, owner.token, `pins${Date.now() % 1e6}${Math.floor(Math.random() * 1e4)}`);
    await gqlOk(url(), JOIN, { c: channelId }, { token: bob.token });
  });

  it('any member pins and unpins, idempotently; pinnedMessages lists the most recently pinned first', async () => {
    const [a, b, c] = await messages(3);
    // Bob pins the owner's messages: any member may.
    expect((await pin(bob, b)).data!.pinMessage).toEqual({ id: b, pinned: true });
    expect((await pin(bob, b)).data!.pinMessage).toEqual({ id: b, pinned: true });
    await pin(owner, a);
    await pin(bob, c);
    expect(await pinnedIds(owner)).toEqual([c, a, b]);
    expect(await storedPins()).toBe(3);
    expect((await unpin(owner, a)).data!.unpinMessage).toEqual({ id: a, pinned: false });
    expect((await unpin(owner, a)).data!.unpinMessage).toEqual({ id: a, pinned: false });
    expect(await pinnedIds(bob)).toEqual([c, b]);
    // Pinned again: now the newest pin.
    await pin(bob, a);
    expect(await pinnedIds(bob)).toEqual([a, c, b]);
  });

  it('keeps at most 50 pins: the 51st is BAD_USER_INPUT on messageId and writes nothing; unpinning makes room', async () => {
    const ids = await messages(51);
    // The first 48 pins stored directly (the API's own pins follow), oldest first.
    await suite.server.app.services.sql.query(
      `insert into message_pins (message_id, channel_id, pinned_by_id, pinned_at)
       select id, $2, $3, now() - interval '1 hour' + ord * interval '1 second' from unnest($1::uuid[]) with ordinality as t(id, ord)`,
      [ids.slice(0, 48), channelId, bob.id],
    );
    for (const id of ids.slice(48, 50)) expect((await pin(bob, id)).errors).toBeUndefined();
    const refused = await pin(owner, ids[50]);
    expect(errorCode(refused)).toBe('BAD_USER_INPUT');
    expect(refused.errors![0].extensions!.field).toBe('messageId');
    expect(await storedPins()).toBe(50);
    // Pinning one already pinned is still fine at the cap.
    expect((await pin(owner, ids[0])).errors).toBeUndefined();
    await unpin(owner, ids[0]);
    expect((await pin(owner, ids[50])).data!.pinMessage.pinned).toBe(true);
    expect((await pinnedIds(owner))[0]).toBe(ids[50]);
    expect(await storedPins()).toBe(50);
  }, 120_000);

  it('holds the cap under concurrency: 60 pins at once leave exactly 50', async () => {
    const ids = await messages(60);
    const users = await Promise.all(Array.from({ length: 6 }, () => createUser(suite.server.app)));
    await Promise.all(users.map((user) => gqlOk(url(), JOIN, { c: channelId }, { token: user.token })));
    const answers = await Promise.all(ids.map((id, i) => pin(users[i % users.length], id)));
    expect(answers.filter((answer) => answer.errors === undefined)).toHaveLength(50);
    expect(answers.filter((answer) => errorCode(answer) === 'BAD_USER_INPUT' && answer.errors![0].extensions!.field === 'messageId')).toHaveLength(10);
    expect(await storedPins()).toBe(50);
    expect(await pinnedIds(owner)).toHaveLength(50);
  }, 120_000);

  it('FORBIDDEN for who may not send (not a member, timed out); NOT_FOUND for unreadable, unknown and deleted messages', async () => {
    const [id] = await messages(1);
    const outsider = await createUser(suite.server.app);
    expect(errorCode(await pin(outsider, id))).toBe('FORBIDDEN');
    await gqlOk(url(), 'mutation ($c: ID!, $u: ID!) { muteInChannel(channelId: $c, userId: $u, durationSeconds: 600) { id } }', { c: channelId, u: bob.id }, { token: owner.token });
    expect(errorCode(await pin(bob, id))).toBe('FORBIDDEN');
    expect(errorCode(await unpin(bob, id))).toBe('FORBIDDEN');
    const privateId = await createChannel(suite.server, owner.token, `privpins${Date.now() % 1e6}`, 'PRIVATE');
    const hidden = await sendMessage(suite.server, owner.token, privateId, 'secret');
    expect(errorCode(await pin(outsider, hidden.id))).toBe('NOT_FOUND');
    expect(errorCode(await pin(outsider, '00000000-0000-4000-8000-000000000000'))).toBe('NOT_FOUND');
    expect(errorCode(await gql(url(), PIN, { id }))).toBe('UNAUTHENTICATED');
    expect(await storedPins()).toBe(0);
    // A private channel's pins are its members' only.
    await pin(owner, hidden.id);
    expect(await pinnedIds(owner, privateId)).toEqual([hidden.id]);
    expect((await gqlOk<{ channel: unknown }>(url(), PINNED, { c: privateId }, { token: outsider.token })).channel).toBeNull();
  });

  it('a deletion removes the pin in its transaction; a deleted message takes none (NOT_FOUND)', async () => {
    const [id, other] = await messages(2);
    await pin(bob, id);
    await pin(bob, other);
    const deleted = await gqlOk<{ deleteMessage: { deleted: boolean; pinned: boolean } }>(url(), DELETE, { id }, { token: owner.token });
    expect(deleted.deleteMessage).toMatchObject({ deleted: true, pinned: false });
    expect(await storedPins()).toBe(1);
    expect(await pinnedIds(bob)).toEqual([other]);
    expect(errorCode(await pin(bob, id))).toBe('NOT_FOUND');
    expect(errorCode(await unpin(bob, id))).toBe('NOT_FOUND');
  });

  it('each pin and unpin reaches channelEvents as MessageUpdated with the message (a repeat sends nothing)', async () => {
    const [id] = await messages(1);
    const EVENTS = 'subscription ($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageUpdated { message { id pinned } } ... on MessageAdded { message { id } } } }';
    const before = suite.server.app.services.realtime.activeStreams;
    const asOwner = connectWs(suite.server.wsUrl, owner.token).subscribe(EVENTS, { c: channelId });
    const asBob = connectWs(suite.server.wsUrl, bob.token).subscribe(EVENTS, { c: channelId });
    await waitForStreams(suite.server.app, before + 2);
    // Each event shows the message as it is when rendered: the next change waits for it.
    await pin(bob, id);
    await Promise.all([asOwner.waitFor(1), asBob.waitFor(1)]);
    await pin(bob, id);
    await unpin(owner, id);
    const marker = await sendMessage(suite.server, owner.token, channelId, 'marker');
    for (const subscription of [asOwner, asBob]) {
      await subscription.waitFor(3);
      expect(subscription.results.map((result) => [result.data!.channelEvents.__typename, result.data!.channelEvents.message])).toEqual([
        ['MessageUpdated', { id, pinned: true }],
        ['MessageUpdated', { id, pinned: false }],
        ['MessageAdded', { id: marker.id }],
      ]);
    }
  });
});
