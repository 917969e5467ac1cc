import { ChannelKind } from '../src/channels/channel.entity';
import { resetState } from './helpers/db';
import { errorCode, gql, gqlOk } from './helpers/graphql';
import { startTestApp, stopAllApps, type TestApp } from './helpers/app';
import { createUser, type TestUser } from './helpers/factories';
import { disposeAllWsClients } from './helpers/ws';
import { createChannelDirectly, DELETE, HISTORY, publicChannelId, recordChannelEvents, sendMessage, type TestMessage, type TestPage, VOTE } from './helpers/messages';

describe('messages: votes', () => {
  let server: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let publicId: string;
  let message: TestMessage;

  const vote = (user: TestUser, value: string, id = message.id) => gql<{ vote: TestMessage }>(server.url, VOTE, { id, value }, { token: user.token });

  beforeAll(async () => {
    server = await startTestApp();
  });
  beforeEach(async () => {
    await resetState(server.app);
    [alice, bob] = await Promise.all([createUser(server.app), createUser(server.app)]);
    publicId = await publicChannelId(server.app);
    message = await sendMessage(server.url, alice.token, publicId, 'vote on me');
  });
  afterAll(async () => {
    await disposeAllWsClients();
    await stopAllApps();
  });

  it('counts one vote per user: set, switch, repeat and clear, with score and myVote', async () => {
    expect((await vote(bob, 'UP')).data!.vote).toMatchObject({ upvotes: 1, downvotes: 0, score: 1, myVote: 'UP' });
    expect((await vote(bob, 'UP')).data!.vote).toMatchObject({ upvotes: 1, downvotes: 0, score: 1, myVote: 'UP' });
    expect((await vote(alice, 'DOWN')).data!.vote).toMatchObject({ upvotes: 1, downvotes: 1, score: 0, myVote: 'DOWN' });
    expect((await vote(bob, 'DOWN')).data!.vote).toMatchObject({ upvotes: 0, downvotes: 2, score: -2, myVote: 'DOWN' });
    expect((await vote(bob, 'NONE')).data!.vote).toMatchObject({ upvotes: 0, downvotes: 1, score: -1, myVote: 'NONE' });
    // myVote is each viewer's own, in history too.
    const asAlice = await gqlOk<{ messages: TestPage }>(server.url, HISTORY, { channelId: publicId }, { token: alice.token });
    const asBob = await gqlOk<{ messages: TestPage }>(server.url, HISTORY, { channelId: publicId }, { token: bob.token });
    expect(asAlice.messages.edges[0].node).toMatchObject({ myVote: 'DOWN', downvotes: 1 });
    expect(asBob.messages.edges[0].node).toMatchObject({ myVote: 'NONE', downvotes: 1 });
  });

  it('publishes MessageUpdated for each change (and nothing for a repeated vote)', async () => {
    const recorder = await recordChannelEvents(server.app, publicId);
    await vote(bob, 'UP');
    await vote(bob, 'UP');
    await vote(bob, 'NONE');
    // A marker message proves no further vote event is still on its way.
    await sendMessage(server.url, alice.token, publicId, 'marker');
    await recorder.waitFor(3);
    recorder.stop();
    expect(recorder.events.map((event) => event.type)).toEqual(['MessageUpdated', 'MessageUpdated', 'MessageAdded']);
    expect(recorder.events.map((event) => (event.type === 'MessageUpdated' ? event.message.upvotes : null))).toEqual([1, 0, null]);
  });

  it('keeps counters exact when 30 users vote at once, some switching', async () => {
    const voters = await Promise.all(Array.from({ length: 30 }, () => createUser(server.app)));
    // Everyone votes UP or DOWN at once...
    await Promise.all(voters.map((voter, i) => vote(voter, i % 3 === 0 ? 'DOWN' : 'UP')));
    // ...then a third switch and a sixth clear, at once as well, mixed with repeats.
    await Promise.all(
      voters.map((voter, i) => {
        if (i % 3 === 1) return vote(voter, 'DOWN');
        if (i % 6 === 0) return vote(voter, 'NONE');
        return vote(voter, i % 3 === 0 ? 'DOWN' : 'UP');
      }),
    );
    const expected = { up: 0, down: 0 };
    voters.forEach((_, i) => {
      const final = i % 3 === 1 ? 'DOWN' : i % 6 === 0 ? 'NONE' : i % 3 === 0 ? 'DOWN' : 'UP';
      if (final === 'UP') expected.up += 1;
      if (final === 'DOWN') expected.down += 1;
    });
    const page = await gqlOk<{ messages: TestPage }>(server.url, HISTORY, { channelId: publicId }, { token: alice.token });
    expect(page.messages.edges[0].node).toMatchObject({ upvotes: expected.up, downvotes: expected.down, score: expected.up - expected.down });
    const [counts] = await server.app.services.orm.em
      .fork()
      .getConnection()
      .execute<{ up: string; down: string }[]>(
        `select count(*) filter (where value = 1) as up, count(*) filter (where value = -1) as down from votes where message_id = ?`,
        [message.id],
      );
    expect({ up: Number(counts.up), down: Number(counts.down) }).toEqual(expected);
  });

  it('is NOT_FOUND on deleted, unknown and invisible messages, FORBIDDEN for non-members of a PUBLIC channel', async () => {
    await gqlOk(server.url, DELETE, { id: message.id }, { token: alice.token });
    expect(errorCode(await vote(bob, 'UP'))).toBe('NOT_FOUND');
    expect(errorCode(await vote(bob, 'UP', '00000000-0000-4000-8000-000000000000'))).toBe('NOT_FOUND');
    expect(errorCode(await vote(bob, 'UP', 'x'))).toBe('NOT_FOUND');

    const secret = await createChannelDirectly(server.app, { ownerId: alice.id });
    const hidden = await sendMessage(server.url, alice.token, secret, 'hidden');
    expect(errorCode(await vote(bob, 'UP', hidden.id))).toBe('NOT_FOUND');

    // Voting needs membership, like sending: a PUBLIC channel's non-members can read but not vote.
    const open = await createChannelDirectly(server.app, { kind: ChannelKind.PUBLIC, ownerId: alice.id });
    const visible = await sendMessage(server.url, alice.token, open, 'visible');
    expect(errorCode(await vote(bob, 'UP', visible.id))).toBe('FORBIDDEN');
    expect(errorCode(await gql(server.url, VOTE, { id: visible.id, value: 'UP' }))).toBe('UNAUTHENTICATED');
  });
});
