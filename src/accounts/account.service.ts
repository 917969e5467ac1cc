import { randomUUID } from 'node:crypto';
import type { Config } from '../config';
import type { UserSnapshot } from '../domain/snapshots';
import { type SessionTopicEvent, Topic } from '../domain/topics';
import type { EventBus } from '../realtime/event-bus';
import { type RequestScope, requireViewer } from '../shared/context';
import { BadUserInputError, ConflictError, RateLimitedError, UnauthenticatedError } from '../shared/errors';
import { isUuid } from '../shared/ids';
import type { Logger } from '../shared/logger';
import type { ActionThrottle, RateLimiter } from '../shared/rate-limit';
import { type Connection, connectionOf, decodeCursor, decodeIntCursor, encodeCursor, pageSize } from '../shared/relay';
import { escapeLike, type SqlClient, type SqlPool, uniqueViolation } from '../shared/sql';
import * as queries from './account.queries';
import { ActivityAction, recordActivity } from './activity';
import type { PasswordHasher } from './passwords';
import type { SessionService } from './session.service';
import type { UserDirectory } from './user.loader';
import {
  hasControlCharacters,
  normalizeEmail,
  USERNAME_PATTERN,
  usernameKey,
  validateBio,
  validateDisplayName,
  validatePassword,
  validateUsername,
} from './validation';

/**
 * What signup needs from the channels feature (implemented there, wired by the composition
 * root): the new account joins the default channel in the signup's transaction; the returned
 * function publishes the events once it has committed.
 */
export interface NewAccountHook {
  accountCreated(tx: SqlClient, user: UserSnapshot): Promise<() => Promise<void>>;
}

export interface AccountDeps {
  sql: SqlPool;
  auth: Config['auth'];
  passwords: PasswordHasher;
  sessions: SessionService;
  users: UserDirectory;
  limiter: RateLimiter;
  throttle: ActionThrottle;
  bus: EventBus;
  newAccounts: NewAccountHook;
  logger: Logger;
}

export interface SignupData {
  email: string;
  username: string;
  password: string;
  displayName?: string | null;
}

export interface AuthResult {
  token: string;
  user: UserSnapshot;
}

export interface ActivityRecord {
  id: string;
  action: ActivityAction;
  channelId: string | null;
  at: Date;
}

const INVALID_CREDENTIALS = 'Invalid login or password.';
const TOO_MANY_ATTEMPTS = 'Too many failed sign-in attempts; try again later.';
const MAX_LOGIN_LENGTH = 320;
const MAX_SEARCH_LENGTH = 100;

/**
 * Signup, login, sessions, profiles and the activity log.
 *
 * Login throttling (fixed windows of LOGIN_FAILURE_WINDOW_SECONDS, shared through Redis):
 * - per (account, client address): LOGIN_MAX_FAILURES_PER_ACCOUNT attempts without a success;
 *   this is what stops one attacker guessing one password, and it does not touch the owner
 *   signing in from elsewhere;
 * - per client address: LOGIN_MAX_FAILURES_PER_IP attempts without a success (one attacker, many accounts);
 * - per account from all addresses: LOGIN_MAX_FAILURES_PER_ACCOUNT_TOTAL failures (a distributed
 *   attack), except from addresses the account has signed in from before, so an attacker
 *   cannot lock the owner out of their usual places.
 * A successful login clears that account's counter for that address and that address's counter.
 * Attempts are counted before the password is checked, so parallel guesses cannot overshoot.
 * Unknown accounts are counted by the login string they were named by, so throttling behaves
 * the same whether an account exists or not.
 */
export class AccountService {
  private readonly sql: SqlPool;
  private readonly limiter: RateLimiter;

  /** LOGIN_FAILED entries being written after their answer, per user (chained, so in order). */
  private readonly failedLoginWrites = new Map<string, Promise<void>>();

  constructor(private readonly deps: AccountDeps) {
    this.sql = deps.sql;
    this.limiter = deps.limiter;
    // The dummy hash is ready before the first unknown login, so that one is not slower either.
    void deps.passwords.prepareDummy();
  }

  async signup(scope: RequestScope, data: SignupData): Promise<AuthResult> {
    const email = normalizeEmail(data.email);
    const username = validateUsername(data.username);
    const password = validatePassword(data.password, 'password', { username, email });
    const displayName = data.displayName === undefined || data.displayName === null ? username : validateDisplayName(data.displayName);
    const key = usernameKey(username);
    await this.deps.throttle.check('signup', scope.ip ?? 'unknown');

    // Friendly errors before the costly hash; the unique constraints decide races.
    const taken = await queries.takenIdentifiers(this.sql, email, key);
    if (taken.email) throw emailTaken();
    if (taken.username) throw usernameTaken();

    const passwordHash = await this.deps.passwords.hash(password);
    let created: { token: string; user: UserSnapshot; publish: () => Promise<void> };
    try {
      created = await this.sql.transaction(async (tx) => {
        const user = await queries.insertUser(tx, randomUUID(), { email, username, usernameKey: key, displayName, passwordHash });
        const token = await this.deps.sessions.create(tx, user.id, scope);
        await recordActivity(tx, user.id, ActivityAction.SIGNUP, scope);
        const publish = await this.deps.newAccounts.accountCreated(tx, user);
        return { token, user, publish };
      });
    } catch (error) {
      const constraint = uniqueViolation(error);
      if (constraint?.includes('email')) throw emailTaken();
      if (constraint?.includes('username')) throw usernameTaken();
      throw error;
    }
    await created.publish();
    return { token: created.token, user: created.user };
  }

  async login(scope: RequestScope, login: unknown, password: unknown): Promise<AuthResult> {
    if (typeof login !== 'string' || login.trim().length === 0 || login.length > MAX_LOGIN_LENGTH || hasControlCharacters(login)) {
      throw new BadUserInputError('login', 'Enter your email or username.');
    }
    if (typeof password !== 'string' || password.length === 0) throw new BadUserInputError('password', 'Enter your password.');
    const { auth } = this.deps;
    const name = login.trim().toLowerCase();
    const user = await queries.findUserWithPassword(this.sql, name.includes('@') ? { email: name } : { usernameKey: name });

    const ip = scope.ip ?? 'unknown';
    const account = user ? `id:${user.id}` : `name:${name}`;
    const window = { windowSeconds: auth.loginFailureWindowSeconds };
    const accountAtIp = `login:account-ip:${account}:${ip}`;
    const atIp = `login:ip:${ip}`;
    const accountTotal = `login:account:${account}`;

    const admitted = await Promise.all([
      this.limiter.hit(accountAtIp, { ...window, limit: auth.loginMaxFailuresPerAccount }),
      this.limiter.hit(atIp, { ...window, limit: auth.loginMaxFailuresPerIp }),
    ]);
    const refused = admitted.filter((result) => !result.allowed);
    if (refused.length > 0) throw new RateLimitedError(Math.max(...refused.map((r) => r.retryAfterSeconds)), TOO_MANY_ATTEMPTS);
    const total = await this.limiter.peek(accountTotal, { ...window, limit: auth.loginMaxFailuresPerAccountTotal });
    if (!total.allowed && !(await this.isKnownAddress(user, scope.ip))) {
      throw new RateLimitedError(total.retryAfterSeconds, TOO_MANY_ATTEMPTS);
    }

    // An unknown account costs a verification too, so the answer takes as long as for a wrong password.
    const { passwords } = this.deps;
    const valid = user ? await passwords.verify(user.password_hash, password) : await passwords.verifyDummy(password);
    if (!user || !valid) {
      await this.limiter.hit(accountTotal, { ...window, limit: auth.loginMaxFailuresPerAccountTotal });
      // Recorded for existing accounts only (the log belongs to a user), after the answer: an
      // unknown account has no entry to write, and waiting for this one would tell them apart.
      if (user) this.recordFailedLogin(user.id, scope);
      throw new UnauthenticatedError(INVALID_CREDENTIALS);
    }

    await this.limiter.reset(accountAtIp, atIp);
    // This LOGIN follows the account's failed attempts in its log.
    await this.settled(user.id);
    const rehash = passwords.needsRehash(user.password_hash) ? await passwords.hash(password) : null;
    const token = await this.sql.transaction(async (tx) => {
      if (rehash) await queries.updatePasswordHash(tx, user.id, rehash, { touch: false });
      const issued = await this.deps.sessions.create(tx, user.id, scope);
      await recordActivity(tx, user.id, ActivityAction.LOGIN, scope);
      return issued;
    });
    return { token, user: queries.userRowSnapshot(user) };
  }

  /**
   * Writes a LOGIN_FAILED entry off the answer path. Failed attempts are throttled per account
   * and address before the password is checked, so the writes in flight stay few.
   */
  private recordFailedLogin(userId: string, scope: RequestScope): void {
    const details = { ip: scope.ip, userAgent: scope.userAgent };
    const previous = this.failedLoginWrites.get(userId) ?? Promise.resolve();
    const write = previous
      .then(() => recordActivity(this.sql, userId, ActivityAction.LOGIN_FAILED, details))
      .catch((error: unknown) => this.deps.logger.error({ err: error, userId }, 'could not record a failed login'));
    this.failedLoginWrites.set(userId, write);
    void write.then(() => {
      if (this.failedLoginWrites.get(userId) === write) this.failedLoginWrites.delete(userId);
    });
  }

  /** Resolves once the failed-login entries being written (of one user, or of everyone) are stored. */
  async settled(userId?: string): Promise<void> {
    if (userId !== undefined) await this.failedLoginWrites.get(userId);
    else await Promise.all(this.failedLoginWrites.values());
  }

  /** Revokes the session used for this request and closes the sockets opened with it. */
  async logout(scope: RequestScope): Promise<boolean> {
    const viewer = requireViewer(scope);
    const revoked = await this.sql.transaction(async (tx) => {
      const done = await queries.revokeSession(tx, viewer.sessionId);
      if (done) await recordActivity(tx, viewer.userId, ActivityAction.LOGOUT, scope);
      return done;
    });
    if (revoked) await this.publishRevoked(viewer.userId, [viewer.sessionId]);
    return true;
  }

  /** Needs the current password; revokes every other session of the user. */
  async changePassword(scope: RequestScope, currentPassword: unknown, newPassword: unknown): Promise<boolean> {
    const viewer = requireViewer(scope);
    const user = await queries.findUserWithPassword(this.sql, { id: viewer.userId });
    if (!user) throw new UnauthenticatedError();
    if (typeof currentPassword !== 'string' || currentPassword.length === 0) {
      throw new BadUserInputError('currentPassword', 'Enter your current password.');
    }
    const password = validatePassword(newPassword, 'newPassword', { username: user.username, email: user.email });

    // Guessing the current password with a stolen session is throttled like logins.
    const { auth, passwords } = this.deps;
    const guessKey = `login:account-ip:id:${user.id}:${scope.ip ?? 'unknown'}`;
    const rule = { limit: auth.loginMaxFailuresPerAccount, windowSeconds: auth.loginFailureWindowSeconds };
    const admitted = await this.limiter.hit(guessKey, rule);
    if (!admitted.allowed) throw new RateLimitedError(admitted.retryAfterSeconds, TOO_MANY_ATTEMPTS);
    if (!(await passwords.verify(user.password_hash, currentPassword))) {
      throw new BadUserInputError('currentPassword', 'The current password is incorrect.');
    }
    await this.limiter.reset(guessKey);

    const passwordHash = await passwords.hash(password);
    const revokedIds = await this.sql.transaction(async (tx) => {
      await queries.updatePasswordHash(tx, user.id, passwordHash, { touch: true });
      const revoked = await queries.revokeOtherSessions(tx, user.id, viewer.sessionId);
      await recordActivity(tx, user.id, ActivityAction.PASSWORD_CHANGED, scope);
      return revoked;
    });
    await this.publishRevoked(user.id, revokedIds);
    return true;
  }

  async updateProfile(scope: RequestScope, input: { displayName?: string | null; bio?: string | null; shareReadReceipts?: boolean | null }): Promise<UserSnapshot> {
    const viewer = requireViewer(scope);
    // Only the known, validated fields are written; null or absent leaves a field as it is.
    const changes: { displayName?: string; bio?: string | null; shareReadReceipts?: boolean } = {};
    if (typeof input.shareReadReceipts === 'boolean') changes.shareReadReceipts = input.shareReadReceipts;
    if (input.displayName !== undefined && input.displayName !== null) changes.displayName = validateDisplayName(input.displayName);
    if (input.bio !== undefined && input.bio !== null) changes.bio = validateBio(input.bio);
    const user = await queries.updateProfile(this.sql, viewer.userId, changes);
    if (!user) throw new UnauthenticatedError();
    await this.deps.users.changed(user.id);
    return user;
  }

  async me(scope: RequestScope): Promise<UserSnapshot | null> {
    return scope.viewer ? this.deps.users.load(scope, scope.viewer.userId) : null;
  }

  /** A profile by id or by username (exactly one of them); null when there is none. */
  async findUser(_scope: RequestScope, id: string | null | undefined, username: string | null | undefined): Promise<UserSnapshot | null> {
    const hasId = id !== undefined && id !== null;
    const hasUsername = username !== undefined && username !== null;
    if (hasId === hasUsername) throw new BadUserInputError(hasId ? 'username' : 'id', 'Give either id or username.');
    if (hasId) return isUuid(id) ? queries.findUserById(this.sql, id) : null;
    // Every username matches the pattern: anything else names nobody (and never reaches SQL).
    if (typeof username !== 'string' || !USERNAME_PATTERN.test(username)) return null;
    return queries.findUserByUsernameKey(this.sql, usernameKey(username));
  }

  /** Users ordered by username, optionally those whose username or display name starts with `search`. */
  async listUsers(_scope: RequestScope, search: string | null | undefined, first: number | null | undefined, after: string | null | undefined): Promise<Connection<UserSnapshot>> {
    const limit = pageSize(first, 'first');
    const term = (search ?? '').trim().toLowerCase();
    if (term.length > MAX_SEARCH_LENGTH || hasControlCharacters(term)) {
      throw new BadUserInputError('search', `search must be at most ${MAX_SEARCH_LENGTH} characters, without control characters.`);
    }
    const afterKey = after === undefined || after === null ? null : decodeCursor('user', after, 'after');
    if (afterKey !== null && !USERNAME_PATTERN.test(afterKey)) throw new BadUserInputError('after', 'after is not a valid cursor.');
    const users = await queries.listUsers(this.sql, term ? `${escapeLike(term)}%` : null, afterKey, limit + 1);
    const page = users.slice(0, limit);
    const edges = page.map(({ usernameKey: key, ...node }) => ({ cursor: encodeCursor('user', key), node }));
    return connectionOf(edges, { hasNextPage: users.length > limit, hasPreviousPage: false });
  }

  /** The viewer's activity log, newest first. */
  async listActivity(scope: RequestScope, first: number | null | undefined, after: string | null | undefined): Promise<Connection<ActivityRecord>> {
    const viewer = requireViewer(scope);
    const limit = pageSize(first, 'first');
    const afterId = after === undefined || after === null ? null : decodeIntCursor('activity', after, 'after');
    // Failed logins of this instance still being written show up too.
    await this.settled(viewer.userId);
    const entries = await queries.listActivity(this.sql, viewer.userId, afterId, limit + 1);
    const page = entries.slice(0, limit);
    const edges = page.map((entry) => ({
      cursor: encodeCursor('activity', entry.id),
      node: { id: String(entry.id), action: entry.action, channelId: entry.channel_id, at: entry.at },
    }));
    return connectionOf(edges, { hasNextPage: entries.length > limit, hasPreviousPage: false });
  }

  /** Whether the account has signed in from this address before (exempts it from the account-wide limit). */
  private async isKnownAddress(user: { id: string } | null, ip: string | null): Promise<boolean> {
    if (!user || !ip) return false;
    return queries.hasSessionFrom(this.sql, user.id, ip);
  }

  private async publishRevoked(userId: string, sessionIds: string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    await this.deps.bus.publish(Topic.sessions(), { type: 'SessionsRevoked', userId, sessionIds } satisfies SessionTopicEvent);
  }
}

function emailTaken(): ConflictError {
  return new ConflictError('An account with this email already exists.', 'email');
}

function usernameTaken(): ConflictError {
  return new ConflictError('This username is taken.', 'username');
}
