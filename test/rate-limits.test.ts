import { resetState } from './helpers/db';
import { errorCode, gql, gqlOk } from './helpers/graphql';
import { describeWithRedis, startTestApp, stopAllApps, type TestApp } from './helpers/app';
import { createUser } from './helpers/factories';

const SEND = `mutation ($channelId: ID!, $body: String!) { sendMessage(input: { channelId: $channelId, body: $body }) { id } }`;
const CREATE = `mutation ($name: String!) { createChannel(input: { name: $name }) { id } }`;
const SIGNUP = `mutation ($input: SignupInput!) { signup(input: $input) { token } }`;

async function publicChannelId(server: TestApp, token: string): Promise<string> {
  const data = await gqlOk<{ myChannels: Array<{ id: string; name: string }> }>(server.url, '{ myChannels { id name } }', {}, { token });
  return data.myChannels.find((channel) => channel.name === 'public')!.id;
}

const signupInput = (n: number) => ({ email: `rl${n}-${Date.now()}@example.test`, username: `rl${n}_${Date.now() % 100000}`, password: 'a long enough password' });

describe('rate limits on actions', () => {
  let server: TestApp;
  beforeAll(async () => {
    server = await startTestApp({
      RATE_LIMIT_SEND_MESSAGE: '3/60',
      RATE_LIMIT_CREATE_CHANNEL: '2/60',
      RATE_LIMIT_SIGNUP_PER_IP: '2/60',
      RATE_LIMIT_SET_TYPING: '2/60',
      RATE_LIMIT_EDIT_MESSAGE: '2/60',
      RATE_LIMIT_VOTE: '2/60',
      RATE_LIMIT_DIRECT_CHANNEL: '2/60',
    });
  });
  beforeEach(() => resetState(server.app));
  afterAll(stopAllApps);

  it('limits sendMessage per user with RATE_LIMITED and retryAfter, leaving other users alone', async () => {
    const alice = await createUser(server.app);
    const bob = await createUser(server.app);
    const channelId = await publicChannelId(server, alice.token);
    for (let i = 0; i < 3; i += 1) await gqlOk(server.url, SEND, { channelId, body: `hi ${i}` }, { token: alice.token });
    const refused = await gql(server.url, SEND, { channelId, body: 'one too many' }, { token: alice.token });
    expect(errorCode(refused)).toBe('RATE_LIMITED');
    expect(refused.errors![0].extensions!.retryAfter).toBeGreaterThan(0);
    expect(refused.errors![0].extensions!.retryAfter).toBeLessThanOrEqual(60);
    // Nothing was stored for the refused send.
    const history = await gqlOk(server.url, `query ($id: ID!) { messages(channelId: $id, last: 10) { edges { node { body } } } }`, { id: channelId }, { token: alice.token });
    expect(history.messages.edges.map((edge: { node: { body: string } }) => edge.node.body)).toEqual(['hi 0', 'hi 1', 'hi 2']);
    await gqlOk(server.url, SEND, { channelId, body: 'bob is fine' }, { token: bob.token });
  });

  it('limits createChannel per user', async () => {
    const alice = await createUser(server.app);
    await gqlOk(server.url, CREATE, { name: 'rl-one' }, { token: alice.token });
    await gqlOk(server.url, CREATE, { name: 'rl-two' }, { token: alice.token });
    expect(errorCode(await gql(server.url, CREATE, { name: 'rl-three' }, { token: alice.token }))).toBe('RATE_LIMITED');
  });

  it('limits setTyping per user', async () => {
    const alice = await createUser(server.app);
    const channelId = await publicChannelId(server, alice.token);
    const TYPING = 'mutation ($channelId: ID!) { setTyping(channelId: $channelId) }';
    await gqlOk(server.url, TYPING, { channelId }, { token: alice.token });
    await gqlOk(server.url, TYPING, { channelId }, { token: alice.token });
    expect(errorCode(await gql(server.url, TYPING, { channelId }, { token: alice.token }))).toBe('RATE_LIMITED');
  });

  it('limits editMessage per user, storing nothing for the refused edit', async () => {
    const alice = await createUser(server.app);
    const channelId = await publicChannelId(server, alice.token);
    const { sendMessage } = await gqlOk(server.url, SEND, { channelId, body: 'draft' }, { token: alice.token });
    const EDIT = 'mutation ($id: ID!, $body: String!) { editMessage(messageId: $id, body: $body) { body } }';
    await gqlOk(server.url, EDIT, { id: sendMessage.id, body: 'edit 1' }, { token: alice.token });
    await gqlOk(server.url, EDIT, { id: sendMessage.id, body: 'edit 2' }, { token: alice.token });
    const refused = await gql(server.url, EDIT, { id: sendMessage.id, body: 'edit 3' }, { token: alice.token });
    expect(errorCode(refused)).toBe('RATE_LIMITED');
    expect(refused.errors![0].extensions!.retryAfter).toBeGreaterThan(0);
    const history = await gqlOk(server.url, `query ($id: ID!) { messages(channelId: $id, last: 1) { edges { node { body } } } }`, { id: channelId }, { token: alice.token });
    expect(history.messages.edges[0].node.body).toBe('edit 2');
  });

  it('limits vote per user, leaving other users alone', async () => {
    const [alice, bob] = [await createUser(server.app), await createUser(server.app)];
    const channelId = await publicChannelId(server, alice.token);
    const { sendMessage } = await gqlOk(server.url, SEND, { channelId, body: 'vote on me' }, { token: bob.token });
    const VOTE = 'mutation ($id: ID!, $value: VoteValue!) { vote(messageId: $id, value: $value) { upvotes downvotes } }';
    await gqlOk(server.url, VOTE, { id: sendMessage.id, value: 'UP' }, { token: alice.token });
    await gqlOk(server.url, VOTE, { id: sendMessage.id, value: 'DOWN' }, { token: alice.token });
    const refused = await gql(server.url, VOTE, { id: sendMessage.id, value: 'UP' }, { token: alice.token });
    expect(errorCode(refused)).toBe('RATE_LIMITED');
    expect((await gqlOk(server.url, VOTE, { id: sendMessage.id, value: 'UP' }, { token: bob.token })).vote).toEqual({ upvotes: 1, downvotes: 1 });
  });

  it('limits the creation of DIRECT channels per user; reopening one is not counted', async () => {
    const [alice, bob, carol, dave] = [await createUser(server.app), await createUser(server.app), await createUser(server.app), await createUser(server.app)];
    const OPEN = 'mutation ($userId: ID!) { openDirectChannel(userId: $userId) { id } }';
    const first = await gqlOk(server.url, OPEN, { userId: bob.id }, { token: alice.token });
    for (let i = 0; i < 3; i += 1) expect(await gqlOk(server.url, OPEN, { userId: bob.id }, { token: alice.token })).toEqual(first);
    await gqlOk(server.url, OPEN, { userId: carol.id }, { token: alice.token });
    const refused = await gql(server.url, OPEN, { userId: dave.id }, { token: alice.token });
    expect(errorCode(refused)).toBe('RATE_LIMITED');
    expect(refused.errors![0].extensions!.retryAfter).toBeGreaterThan(0);
    // Nothing was created for the refused one; dave may still open it.
    await gqlOk(server.url, OPEN, { userId: alice.id }, { token: dave.token });
  });

  it('limits signup per client address', async () => {
    await gqlOk(server.url, SIGNUP, { input: signupInput(1) });
    await gqlOk(server.url, SIGNUP, { input: signupInput(2) });
    const refused = await gql(server.url, SIGNUP, { input: signupInput(3) });
    expect(errorCode(refused)).toBe('RATE_LIMITED');
    expect(refused.errors![0].extensions!.retryAfter).toBeGreaterThan(0);
  });
});

describeWithRedis('rate limits across instances', () => {
  afterAll(stopAllApps);

  it('shares the counters of one user between instances through Redis', async () => {
    const first = await startTestApp({ RATE_LIMIT_SEND_MESSAGE: '2/60' });
    const second = await startTestApp({ RATE_LIMIT_SEND_MESSAGE: '2/60' });
    await resetState(first.app);
    const alice = await createUser(first.app);
    const channelId = await publicChannelId(first, alice.token);
    await gqlOk(first.url, SEND, { channelId, body: 'one' }, { token: alice.token });
    await gqlOk(second.url, SEND, { channelId, body: 'two' }, { token: alice.token });
    expect(errorCode(await gql(first.url, SEND, { channelId, body: 'three' }, { token: alice.token }))).toBe('RATE_LIMITED');
    expect(errorCode(await gql(second.url, SEND, { channelId, body: 'three' }, { token: alice.token }))).toBe('RATE_LIMITED');
  });
});
