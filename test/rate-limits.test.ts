import { resetState } from './helpers/db';
import { errorCode, gql, gqlOk } from './helpers/graphql';
import { Redis } from 'ioredis';
import { RateLimiter } from '../src/shared/rate-limit';
import { createLogger } from '../src/shared/logger';
import { describeWithRedis, startTestApp, stopAllApps, type TestApp, testRedisPrefix, testRedisUrl } from './helpers/app';
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

describeWithRedis('a user’s action limit, counted a few hits ahead (RateLimiter.take)', () => {
  const logger = createLogger({ logLevel: 'silent' });
  let redis: Redis;
  let prefix: string;
  /** Round trips each limiter made to count hits. */
  let trips: number[];

  beforeEach(async () => {
    redis = new Redis(testRedisUrl()!);
    prefix = `${testRedisPrefix()}take:${Date.now()}:`;
    trips = [];
  });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  /** An instance's limiter on the shared Redis (each its own client, as instances have). */
  function instance(): RateLimiter {
    const client = redis.duplicate();
    const limiter = new RateLimiter(client, prefix, logger);
    const index = trips.push(0) - 1;
    const hit = (client as unknown as { rateLimitHit: (...args: unknown[]) => Promise<unknown> }).rateLimitHit.bind(client);
    (client as unknown as { rateLimitHit: unknown }).rateLimitHit = (...args: unknown[]) => {
      trips[index] += 1;
      return hit(...args);
    };
    clients.push(client);
    return limiter;
  }
  const clients: Redis[] = [];
  afterEach(() => clients.splice(0).forEach((client) => client.disconnect()));

  async function takeAll(limiter: RateLimiter, key: string, rule: { limit: number; windowSeconds: number }, times: number): Promise<number> {
    let allowed = 0;
    for (let i = 0; i < times; i += 1) if ((await limiter.take(key, rule)).allowed) allowed += 1;
    return allowed;
  }

  it('asks for one hit at a time at first, then for more as the subject keeps acting, within a tenth of the limit', async () => {
    const limiter = instance();
    const rule = { limit: 1000, windowSeconds: 60 };
    expect(await takeAll(limiter, 'fast', rule, 1)).toBe(1);
    expect(Number(await redis.get(`${prefix}ratelimit:fast`))).toBe(1);
    expect(await takeAll(limiter, 'fast', rule, 199)).toBe(199);
    // 1, 2, 4, 8, 16, 16, ...: far fewer round trips than hits, and at most 15 counted unused.
    expect(trips[0]).toBeLessThan(20);
    const counted = Number(await redis.get(`${prefix}ratelimit:fast`));
    expect(counted).toBeGreaterThanOrEqual(200);
    expect(counted).toBeLessThan(200 + 16);
  });

  it('never allows more than the limit in a window across instances, and refuses at most a few hits early', async () => {
    const [first, second] = [instance(), instance()];
    const rule = { limit: 60, windowSeconds: 60 };
    let allowed = 0;
    let refused = null as null | { retryAfterSeconds: number };
    for (let i = 0; i < 100; i += 1) {
      const outcome = await (i % 3 === 0 ? second : first).take('shared', rule);
      if (outcome.allowed) allowed += 1;
      else refused ??= outcome;
    }
    expect(allowed).toBeLessThanOrEqual(60);
    // Each instance holds at most a tenth of the limit counted and unused.
    expect(allowed).toBeGreaterThanOrEqual(60 - 2 * 6);
    expect(refused?.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('allows exactly the limit on one instance', async () => {
    const limiter = instance();
    expect(await takeAll(limiter, 'exact', { limit: 50, windowSeconds: 60 }, 80)).toBe(50);
  });

  it('uses what it counted only in the window it was counted in', async () => {
    const limiter = instance();
    const rule = { limit: 1000, windowSeconds: 0.3 };
    await takeAll(limiter, 'short', rule, 40);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const before = trips[0];
    expect(await takeAll(limiter, 'short', rule, 1)).toBe(1);
    expect(trips[0]).toBe(before + 1);
    expect(Number(await redis.get(`${prefix}ratelimit:short`))).toBeLessThanOrEqual(16);
  });

  it('takes a refunded hit back into what it holds, and gives it back to Redis once it holds nothing for the window', async () => {
    const limiter = instance();
    const rule = { limit: 3, windowSeconds: 60 };
    expect(await takeAll(limiter, 'refund', rule, 3)).toBe(3);
    await limiter.refund('refund');
    expect(await takeAll(limiter, 'refund', rule, 2)).toBe(1);
    // Another instance's hit, refunded there, goes back to Redis.
    const other = instance();
    await redis.set(`${prefix}ratelimit:other`, '2', 'PX', 60_000);
    await other.refund('other');
    expect(Number(await redis.get(`${prefix}ratelimit:other`))).toBe(1);
  });
});
