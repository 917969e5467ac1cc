import { ProfileCache } from '../src/accounts/profile-cache';
import type { UserSnapshot } from '../src/domain/snapshots';
import { createLocalEventBus, type EventBus } from '../src/realtime/event-bus';
import { createLogger } from '../src/shared/logger';
import { UPDATE_PROFILE, waitUntil } from './helpers/accounts';
import { describeWithRedis, startTestApp, stopAllApps, type TestApp, useTestServer, useTwoTestServers } from './helpers/app';
import { countQueries, resetState } from './helpers/db';
import { createUser, type TestUser } from './helpers/factories';
import { gqlOk } from './helpers/graphql';
import { publicChannelId, sendMessage } from './helpers/messages';

const PAGE = `query($channelId: ID!) { messages(channelId: $channelId, last: 10) { edges { node { id author { id username displayName } } } } }`;
const ME = '{ me { id displayName bio } }';

/** The statement that reads profiles by id (account.queries.ts usersByIdLoader). */
const readsProfiles = (queries: string[]) => queries.some((sql) => /from users u where u\.id = any/i.test(sql));

async function authorNames(server: TestApp, token: string, channelId: string): Promise<Record<string, string>> {
  const data = await gqlOk<{ messages: { edges: Array<{ node: { author: { id: string; displayName: string } } }> } }>(server.url, PAGE, { channelId }, { token });
  return Object.fromEntries(data.messages.edges.map((edge) => [edge.node.author.id, edge.node.author.displayName]));
}

const profile = (id: string, displayName: string): UserSnapshot => ({ id, username: id, displayName, bio: null, createdAt: new Date(0) });

describe('profile cache: the unit', () => {
  const logger = createLogger({ logLevel: 'silent' });
  let bus: EventBus;
  beforeEach(() => {
    bus = createLocalEventBus('', logger);
  });
  afterEach(() => bus.close());

  it('keeps what a read filled, and drops it on a change (here and through the bus)', async () => {
    const cache = new ProfileCache(bus, logger, { ttlMs: 60_000, maxEntries: 10 });
    await cache.start();
    cache.fill([profile('a', 'Ann'), profile('b', 'Bob')], cache.epoch);
    expect(cache.get('a')?.displayName).toBe('Ann');
    await cache.changed('a');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')?.displayName).toBe('Bob');
    // Another instance's change arrives on the profiles topic.
    const other = new ProfileCache(bus, logger, { ttlMs: 60_000, maxEntries: 10 });
    await other.changed('b');
    expect(cache.get('b')).toBeUndefined();
    cache.stop();
  });

  it('does not keep a row read before a change landed (the read raced the update)', async () => {
    const cache = new ProfileCache(bus, logger, { ttlMs: 60_000, maxEntries: 10 });
    await cache.start();
    const epoch = cache.epoch; // a read starts
    await cache.changed('a'); // the update commits and drops 'a'
    cache.fill([profile('a', 'old name')], epoch); // the read ends with the row before the update
    expect(cache.get('a')).toBeUndefined();
    cache.fill([profile('a', 'new name')], cache.epoch);
    expect(cache.get('a')?.displayName).toBe('new name');
    cache.stop();
  });

  it('forgets everything when the bus comes back (changes may have been missed meanwhile)', () => {
    let restored: () => void = () => undefined;
    const watched: EventBus = { ...bus, onRestored: (callback) => void (restored = callback) };
    const cache = new ProfileCache(watched, logger, { ttlMs: 60_000, maxEntries: 10 });
    const epoch = cache.epoch;
    cache.fill([profile('a', 'Ann')], epoch);
    restored();
    expect(cache.get('a')).toBeUndefined();
    cache.fill([profile('a', 'Ann')], epoch); // a read from before the outage
    expect(cache.get('a')).toBeUndefined();
  });

  it('keeps at most maxEntries, and nothing at all with a time to live of 0', () => {
    const small = new ProfileCache(bus, logger, { ttlMs: 60_000, maxEntries: 2 });
    small.fill([profile('a', 'A'), profile('b', 'B'), profile('c', 'C')], small.epoch);
    expect(['a', 'b', 'c'].map((id) => small.get(id)?.displayName)).toEqual([undefined, 'B', 'C']);
    const off = new ProfileCache(bus, logger, { ttlMs: 0, maxEntries: 2 });
    off.fill([profile('a', 'A')], off.epoch);
    expect(off.get('a')).toBeUndefined();
  });
});

describe('profile cache: history through the API', () => {
  const suite = useTestServer();
  let server: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let channelId: string;

  beforeAll(() => {
    server = suite.server;
  });
  beforeEach(async () => {
    [alice, bob] = await Promise.all([createUser(server.app, { displayName: 'Alice' }), createUser(server.app, { displayName: 'Bob' })]);
    channelId = await publicChannelId(server.app);
    await sendMessage(server.url, alice.token, channelId, 'hello');
    await sendMessage(server.url, bob.token, channelId, 'hi');
  });

  it("reads a page's authors from PostgreSQL once, then from the instance's copy", async () => {
    await authorNames(server, alice.token, channelId);
    const warm = await countQueries(server.app, () => authorNames(server, alice.token, channelId));
    expect(warm.result).toEqual({ [alice.id]: 'Alice', [bob.id]: 'Bob' });
    expect(readsProfiles(warm.queries)).toBe(false);
  });

  it('answers a changed profile at once after updateProfile, on pages and in `me`', async () => {
    await authorNames(server, alice.token, channelId);
    await gqlOk(server.url, ME, {}, { token: bob.token });
    const updated = await gqlOk<{ updateProfile: { displayName: string } }>(server.url, UPDATE_PROFILE, { input: { displayName: 'Robert', bio: 'new bio' } }, { token: bob.token });
    expect(updated.updateProfile.displayName).toBe('Robert');
    expect(await authorNames(server, alice.token, channelId)).toEqual({ [alice.id]: 'Alice', [bob.id]: 'Robert' });
    expect(await gqlOk(server.url, ME, {}, { token: bob.token })).toEqual({ me: { id: bob.id, displayName: 'Robert', bio: 'new bio' } });
  });
});

describe('profile cache: a change missed by the bus', () => {
  afterAll(() => stopAllApps());

  /** A server with these settings, Bob's message in the public channel, and Bob renamed behind the API's back (nothing announces it). */
  async function renamedBehindTheApi(env: Record<string, string>) {
    const server = await startTestApp(env);
    await resetState(server.app);
    const [alice, bob] = await Promise.all([createUser(server.app, { displayName: 'Alice' }), createUser(server.app, { displayName: 'Bob' })]);
    const channelId = await publicChannelId(server.app);
    await sendMessage(server.url, bob.token, channelId, 'hi');
    const before = await authorNames(server, alice.token, channelId);
    await server.app.services.sql.query('update users set display_name = $2 where id = $1', [bob.id, 'Bobby']);
    return { server, before, bobName: async () => (await authorNames(server, alice.token, channelId))[bob.id] };
  }

  it('is answered once the time to live has passed', async () => {
    const { before, bobName } = await renamedBehindTheApi({ PROFILE_CACHE_TTL_MS: '300' });
    expect(Object.values(before)).toEqual(['Bob']);
    expect(await bobName()).toBe('Bob');
    await waitUntil(async () => (await bobName()) === 'Bobby', 'the copy to expire', 3000);
  });

  it('is answered at once with PROFILE_CACHE_TTL_MS=0 (no copy)', async () => {
    const { server, bobName } = await renamedBehindTheApi({ PROFILE_CACHE_TTL_MS: '0' });
    const page = await countQueries(server.app, bobName);
    expect(page.result).toBe('Bobby');
    expect(readsProfiles(page.queries)).toBe(true);
  });
});

describeWithRedis('profile cache: two instances', () => {
  let a: TestApp;
  let b: TestApp;
  useTwoTestServers(([first, second]) => {
    a = first;
    b = second;
  });

  it('a profile changed through one instance is answered changed by the other', async () => {
    const [alice, bob] = await Promise.all([createUser(a.app, { displayName: 'Alice' }), createUser(a.app, { displayName: 'Bob' })]);
    const channelId = await publicChannelId(a.app);
    await sendMessage(a.url, bob.token, channelId, 'hi');
    // Both instances hold Bob's profile.
    expect((await authorNames(a, alice.token, channelId))[bob.id]).toBe('Bob');
    expect((await authorNames(b, alice.token, channelId))[bob.id]).toBe('Bob');
    const warm = await countQueries(b.app, () => authorNames(b, alice.token, channelId));
    expect(readsProfiles(warm.queries)).toBe(false);

    await gqlOk(a.url, UPDATE_PROFILE, { input: { displayName: 'Robert' } }, { token: bob.token });
    await waitUntil(async () => (await authorNames(b, alice.token, channelId))[bob.id] === 'Robert', 'the other instance to drop its copy', 3000);
    expect((await gqlOk<{ me: { displayName: string } }>(b.url, ME, {}, { token: bob.token })).me.displayName).toBe('Robert');
  });

  it("answers the viewer's own profile as read with the session, before another instance's change has reached this one", async () => {
    const [alice, bob] = await Promise.all([createUser(a.app, { displayName: 'Alice' }), createUser(a.app, { displayName: 'Bob' })]);
    const channelId = await publicChannelId(a.app);
    await sendMessage(a.url, bob.token, channelId, 'hi');
    expect((await authorNames(b, alice.token, channelId))[bob.id]).toBe('Bob');
    // The second instance misses the announcement (as while its Redis subscription is down).
    b.app.services.profiles.stop();
    try {
      await gqlOk(a.url, UPDATE_PROFILE, { input: { displayName: 'Robert' } }, { token: bob.token });
      expect((await authorNames(b, alice.token, channelId))[bob.id]).toBe('Bob'); // others see its copy until it expires
      expect((await gqlOk<{ me: { displayName: string } }>(b.url, ME, {}, { token: bob.token })).me.displayName).toBe('Robert');
      expect((await authorNames(b, bob.token, channelId))[bob.id]).toBe('Robert');
    } finally {
      await b.app.services.profiles.start();
    }
  });
});
