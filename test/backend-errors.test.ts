import { Client } from 'pg';
import { createApp, type App } from '../src/app';
import { testConfig } from './helpers/app';
import { createUser, type TestUser } from './helpers/factories';
import { gql } from './helpers/graphql';
import { PrivateRedis } from './helpers/processes';
import { errorLogRows } from './helpers/security';
import { connectWs, disposeAllWsClients } from './helpers/ws';
import { CHANNEL_EVENTS, createChannel } from './helpers/realtime';

// Issue 14, point 10: backend trouble (a statement timeout, Redis down or frozen) answers
// SERVICE_UNAVAILABLE, fast, and leaves no error-log row.

const SET_TYPING = 'mutation ($c: ID!) { setTyping(channelId: $c) }';

describe('backend trouble answers SERVICE_UNAVAILABLE', () => {
  let redis: PrivateRedis;
  let app: App;
  let url: string;
  let alice: TestUser;
  let channelId: string;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
    app = await createApp(testConfig({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'backend14:', DB_STATEMENT_TIMEOUT_MS: '500', REDIS_COMMAND_TIMEOUT_MS: '500' }), { migrate: false });
    url = (await app.start()).url;
    alice = await createUser(app);
    const { data } = await gql<{ myChannels: Array<{ id: string }> }>(url, '{ myChannels { id } }', {}, { token: alice.token });
    channelId = data!.myChannels[0].id;
  });
  /** A new channelEvents subscription (a topic not followed yet) fails within 3 s with SERVICE_UNAVAILABLE. */
  async function expectSubscriptionUnavailable(otherChannelId: string): Promise<void> {
    const socket = connectWs(url.replace(/^http/, 'ws'), alice.token);
    const began = Date.now();
    const first = await socket.subscribe(CHANNEL_EVENTS, { channelId: otherChannelId }).next(5000);
    expect(first.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(Date.now() - began).toBeLessThan(3000);
  }
  afterAll(async () => {
    redis.thaw();
    await disposeAllWsClients();
    await app.stop();
    await redis.stop();
  });

  it('a statement timeout (a table lock held longer than DB_STATEMENT_TIMEOUT_MS)', async () => {
    const before = (await errorLogRows(app)).length;
    const locker = new Client({ connectionString: app.services.config.databaseUrl! });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query('lock table channels in access exclusive mode');
      const began = Date.now();
      const response = await gql(url, '{ myChannels { id } }', {}, { token: alice.token });
      expect(response.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect(Date.now() - began).toBeLessThan(3000);
    } finally {
      await locker.query('rollback');
      await locker.end();
    }
    expect((await errorLogRows(app)).length).toBe(before);
  });

  it("a statement's error keeps PostgreSQL's code and has a stack back to the code that ran it", async () => {
    const sql = app.services.sql;
    async function readsAMissingTable(): Promise<unknown> {
      return await sql.query('select * from no_such_table_for_this_test', [], 'missing_table_statement');
    }
    async function failsInATransaction(): Promise<unknown> {
      return await sql.transaction(async (tx) => await tx.query('select 1 / $1::int', [0]));
    }
    for (const [run, code, caller] of [
      [readsAMissingTable, '42P01', 'readsAMissingTable'],
      [failsInATransaction, '22012', 'failsInATransaction'],
    ] as const) {
      const error = (await run().catch((caught: unknown) => caught)) as Error & { code?: string };
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(code);
      expect(error.stack).toContain(caller);
    }
    // The pool is still usable.
    expect(await sql.query<{ one: number }>('select 1 as one')).toEqual([{ one: 1 }]);
  });

  it('setTyping and a new subscription while Redis is down', async () => {
    const before = (await errorLogRows(app)).length;
    const other = await createChannel({ app, url, wsUrl: url.replace(/^http/, 'ws'), port: 0, stop: async () => undefined }, alice.token, `down-${Date.now()}`);
    await redis.stop();
    try {
      const typing = await gql(url, SET_TYPING, { c: channelId }, { token: alice.token });
      expect(typing.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
      await expectSubscriptionUnavailable(other);
    } finally {
      await redis.resume();
    }
    expect((await errorLogRows(app)).length).toBe(before);
  }, 30_000);

  it('a frozen Redis: commands time out, setTyping answers at once', async () => {
    // Redis is back from the previous test: wait until commands work again.
    for (let i = 0; i < 100; i += 1) {
      if (!(await gql(url, SET_TYPING, { c: channelId }, { token: alice.token })).errors) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const other = await createChannel({ app, url, wsUrl: url.replace(/^http/, 'ws'), port: 0, stop: async () => undefined }, alice.token, `frozen-${Date.now()}`);
    redis.freeze();
    try {
      const began = Date.now();
      const typing = await gql(url, SET_TYPING, { c: other }, { token: alice.token });
      expect(typing.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect(Date.now() - began).toBeLessThan(3000);
      await expectSubscriptionUnavailable(other);
    } finally {
      redis.thaw();
    }
  }, 30_000);
});
