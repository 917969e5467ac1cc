import { Client } from 'pg';
import { startTestApp, stopAllApps, type TestApp } from './helpers/app';
import { resetState } from './helpers/db';
import { createUser } from './helpers/factories';
import { errorCode, gql, gqlOk } from './helpers/graphql';
import { disposeAllWsClients } from './helpers/ws';
import { activityRows, login, LOGIN, ME } from './helpers/accounts';

// TRUST_PROXY lets each test play clients at different addresses through X-Forwarded-For.
const LIMITS = {
  TRUST_PROXY: 'true',
  LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
  LOGIN_MAX_FAILURES_PER_IP: '5',
  LOGIN_MAX_FAILURES_PER_ACCOUNT_TOTAL: '6',
  LOGIN_FAILURE_WINDOW_SECONDS: '300',
};

describe('accounts: login and its throttling', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startTestApp(LIMITS);
  });
  beforeEach(() => resetState(server.app));
  afterAll(async () => {
    await disposeAllWsClients();
    await stopAllApps();
  });

  let ipCounter = 0;
  /** A fresh client address per call, so tests do not share per-address counters. */
  const freshIp = () => `10.0.${Math.floor(++ipCounter / 250)}.${(ipCounter % 250) + 1}`;

  it('signs in by username or email, case-insensitively, with a new working token', async () => {
    const alice = await createUser(server.app, { username: 'Alice_Login' });
    for (const name of ['alice_login', 'ALICE_LOGIN', alice.email.toUpperCase(), `  ${alice.email}  `]) {
      const response = await login(server.url, name, alice.password, freshIp());
      expect(response.errors).toBeUndefined();
      const { token, user } = response.data!.login;
      expect(user).toMatchObject({ id: alice.id, username: 'Alice_Login', email: alice.email });
      expect(token).not.toBe(alice.token);
      expect((await gqlOk(server.url, ME, {}, { token })).me.id).toBe(alice.id);
    }
  });

  it('answers an unknown user and a wrong password alike, checking a password either way', async () => {
    const alice = await createUser(server.app);
    const verify = jest.spyOn(server.app.services.passwords, 'verify');
    try {
      const ip = freshIp();
      const wrongPassword = await login(server.url, alice.username, 'not the password', ip);
      expect(verify).toHaveBeenCalledTimes(1);
      const unknownUser = await login(server.url, 'nobody_at_all', 'not the password', ip);
      const unknownEmail = await login(server.url, 'nobody@example.test', 'not the password', ip);
      // The unknown ones were checked against the dummy hash: same work, so about the same time.
      expect(verify).toHaveBeenCalledTimes(3);
      for (const response of [wrongPassword, unknownUser, unknownEmail]) {
        expect(response.data).toBeNull();
        expect(response.errors).toEqual([expect.objectContaining({ message: 'Invalid login or password.', extensions: { code: 'UNAUTHENTICATED' } })]);
      }
    } finally {
      verify.mockRestore();
    }
  });

  it('records LOGIN and LOGIN_FAILED for the account', async () => {
    const alice = await createUser(server.app);
    const ip = freshIp();
    await login(server.url, alice.username, 'wrong password', ip);
    expect(errorCode(await login(server.url, alice.username, alice.password, ip))).toBeUndefined();
    const rows = await activityRows(server.app, alice.id);
    expect(rows.map((row) => [row.action, row.ip, row.user_agent])).toEqual([
      ['LOGIN_FAILED', ip, 'accounts-test'],
      ['LOGIN', ip, 'accounts-test'],
    ]);
  });

  it('answers a wrong password without waiting for the LOGIN_FAILED entry (same work on the answer path as an unknown account)', async () => {
    const alice = await createUser(server.app);
    const ip = freshIp();
    // A session holding activity_log locked: any insert into it waits until the lock goes.
    const locker = new Client({ connectionString: server.app.services.config.databaseUrl });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query('lock table activity_log in exclusive mode');
      const answer = await Promise.race([
        login(server.url, alice.username, 'wrong password', ip).then((response) => errorCode(response)),
        new Promise((resolve) => setTimeout(() => resolve('still waiting after 2 s'), 2000)),
      ]);
      expect(answer).toBe('UNAUTHENTICATED');
      expect(await activityRows(server.app, alice.id, { settle: false })).toEqual([]);
      await locker.query('commit');
    } finally {
      await locker.end();
    }
    // The entry is written all the same, and before a later login's.
    expect(errorCode(await login(server.url, alice.username, alice.password, ip))).toBeUndefined();
    expect((await activityRows(server.app, alice.id)).map((row) => row.action)).toEqual(['LOGIN_FAILED', 'LOGIN']);
  });

  it('rejects empty input with BAD_USER_INPUT', async () => {
    expect((await login(server.url, '  ', 'something')).errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'login' });
    expect((await login(server.url, 'someone', '')).errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'password' });
    const missing = await gql(server.url, LOGIN, { input: { login: 'someone' } });
    expect(missing.errors).toBeDefined();
    expect(missing.data ?? null).toBeNull();
  });

  it('throttles an account after repeated failures from one address, with retryAfter', async () => {
    const alice = await createUser(server.app);
    const ip = freshIp();
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect(errorCode(await login(server.url, alice.username, 'wrong password', ip))).toBe('UNAUTHENTICATED');
    }
    // Even the right password is refused now: the guesser learns nothing more.
    const limited = await login(server.url, alice.username, alice.password, ip);
    expect(limited.errors![0].extensions!.code).toBe('RATE_LIMITED');
    const retryAfter = limited.errors![0].extensions!.retryAfter;
    expect(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 300).toBe(true);
    // Throttled attempts are not checked and not logged as failures.
    expect((await activityRows(server.app, alice.id)).filter((row) => row.action === 'LOGIN_FAILED')).toHaveLength(3);
  });

  it('throttles unknown accounts exactly like existing ones', async () => {
    const alice = await createUser(server.app);
    const outcomes = async (name: string, ip: string) => {
      const responses = [];
      for (let attempt = 0; attempt < 4; attempt += 1) responses.push(await login(server.url, name, 'wrong password', ip));
      return responses.map((response) => [errorCode(response), response.errors![0].message]);
    };
    expect(await outcomes('ghost_user', freshIp())).toEqual(await outcomes(alice.username, freshIp()));
  });

  it("does not lock the owner out from their own address because of someone else's attempts", async () => {
    const alice = await createUser(server.app);
    const attacker = freshIp();
    for (let attempt = 0; attempt < 4; attempt += 1) await login(server.url, alice.username, 'guess', attacker);
    expect(errorCode(await login(server.url, alice.username, alice.password, attacker))).toBe('RATE_LIMITED');
    const owner = await login(server.url, alice.username, alice.password, freshIp());
    expect(owner.errors).toBeUndefined();
    expect(owner.data!.login.user.id).toBe(alice.id);
  });

  it('a successful login clears the failures of that account at that address', async () => {
    const alice = await createUser(server.app);
    const ip = freshIp();
    for (let round = 0; round < 3; round += 1) {
      await login(server.url, alice.username, 'wrong password', ip);
      await login(server.url, alice.username, 'wrong password', ip);
      expect(errorCode(await login(server.url, alice.username, alice.password, ip))).toBeUndefined();
    }
  });

  it('throttles one address trying many accounts', async () => {
    const users = await Promise.all([0, 1, 2, 3, 4, 5].map(() => createUser(server.app)));
    const ip = freshIp();
    for (const user of users.slice(0, 5)) expect(errorCode(await login(server.url, user.username, 'wrong password', ip))).toBe('UNAUTHENTICATED');
    const limited = await login(server.url, users[5].username, users[5].password, ip);
    expect(limited.errors![0].extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: expect.any(Number) });
    // Another address is not affected.
    expect(errorCode(await login(server.url, users[5].username, users[5].password, freshIp()))).toBeUndefined();
  });

  it('throttles a distributed attack on one account, except from addresses the owner signed in from before', async () => {
    const alice = await createUser(server.app);
    const home = freshIp();
    expect(errorCode(await login(server.url, alice.username, alice.password, home))).toBeUndefined();
    for (let attempt = 0; attempt < 6; attempt += 1) {
      expect(errorCode(await login(server.url, alice.username, 'guess', freshIp()))).toBe('UNAUTHENTICATED');
    }
    expect(errorCode(await login(server.url, alice.username, alice.password, freshIp()))).toBe('RATE_LIMITED');
    expect(errorCode(await login(server.url, alice.username, alice.password, home))).toBeUndefined();
  });

  it('counts attempts before checking them, so parallel guesses cannot overshoot the limit', async () => {
    const alice = await createUser(server.app);
    const ip = freshIp();
    const verify = jest.spyOn(server.app.services.passwords, 'verify');
    try {
      const responses = await Promise.all(Array.from({ length: 10 }, () => login(server.url, alice.username, 'parallel guess', ip)));
      const codes = responses.map(errorCode);
      expect(codes.filter((code) => code === 'UNAUTHENTICATED')).toHaveLength(3);
      expect(codes.filter((code) => code === 'RATE_LIMITED')).toHaveLength(7);
      expect(verify).toHaveBeenCalledTimes(3);
    } finally {
      verify.mockRestore();
    }
  });

  it('throttles with in-process counters when Redis is not configured', async () => {
    const single = await startTestApp({ ...LIMITS, REDIS_URL: '' });
    try {
      expect(single.app.services.redis).toBeNull();
      const alice = await createUser(single.app);
      const ip = freshIp();
      for (let attempt = 0; attempt < 3; attempt += 1) await login(single.url, alice.username, 'wrong password', ip);
      expect((await login(single.url, alice.username, alice.password, ip)).errors![0].extensions).toMatchObject({ code: 'RATE_LIMITED' });
      expect(errorCode(await login(single.url, alice.username, alice.password, freshIp()))).toBeUndefined();
    } finally {
      await single.stop();
    }
  });

  it('computes at most HASH_CONCURRENCY password hashes at once, queueing the rest', async () => {
    // A costlier hash, so the parallel logins overlap.
    const bounded = await startTestApp({ ...LIMITS, HASH_CONCURRENCY: '2', ARGON2_MEMORY_KIB: '8192', ARGON2_ITERATIONS: '2' });
    try {
      const users = await Promise.all([0, 1, 2, 3, 4, 5].map(() => createUser(bounded.app)));
      const limit = (bounded.app.services.passwords as unknown as { limit: { activeCount: number; pendingCount: number } }).limit;
      let maxActive = 0;
      let maxPending = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          maxActive = Math.max(maxActive, limit.activeCount);
          maxPending = Math.max(maxPending, limit.pendingCount);
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      const responses = await Promise.all(users.map((user) => login(bounded.url, user.username, user.password, freshIp())));
      sampling = false;
      await sampler;
      expect(responses.map(errorCode)).toEqual(users.map(() => undefined));
      expect(maxActive).toBe(2);
      expect(maxPending).toBeGreaterThan(0);
    } finally {
      await bounded.stop();
    }
  });

  it('lifts the block when the window ends', async () => {
    const short = await startTestApp({ ...LIMITS, LOGIN_FAILURE_WINDOW_SECONDS: '1' });
    try {
      const alice = await createUser(short.app);
      const ip = freshIp();
      for (let attempt = 0; attempt < 3; attempt += 1) await login(short.url, alice.username, 'wrong password', ip);
      const limited = await login(short.url, alice.username, alice.password, ip);
      expect(limited.errors![0].extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 1 });
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(errorCode(await login(short.url, alice.username, alice.password, ip))).toBeUndefined();
    } finally {
      await short.stop();
    }
  });
});
