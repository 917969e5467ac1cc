import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Services } from '../services';
import type { RequestContext, Viewer } from '../shared/context';
import { BadUserInputError, ConflictError, RateLimitedError, UnauthenticatedError } from '../shared/errors';
import { isUuid } from '../shared/ids';
import { RateLimiter } from '../shared/rate-limit';
import { type Connection, decodeCursor, decodeIntCursor, encodeCursor, pageSize } from '../shared/relay';
import { Topic, type ChannelTopicEvent, type SessionTopicEvent, type UserTopicEvent } from '../domain/topics';
import type { UserSnapshot } from '../domain/snapshots';
import { Channel, DEFAULT_CHANNEL_NAME } from '../channels/channel.entity';
import { channelSnapshot } from '../channels/channel.types';
import { Membership } from '../channels/membership.entity';
import { ActivityAction, ActivityEntry } from './activity.entity';
import { recordActivity } from './activity';
import { Session } from './session.entity';
import type { ClientInfo } from './session.service';
import { User } from './user.entity';
import { userSnapshot } from './user.types';
import { userLoader } from './user.loader';
import {
  escapeLike,
  hasControlCharacters,
  normalizeEmail,
  USERNAME_PATTERN,
  usernameKey,
  validateBio,
  validateDisplayName,
  validatePassword,
  validateUsername,
} from './validation';

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
  private readonly limiter: RateLimiter;

  constructor(private readonly services: Services) {
    this.limiter = services.limiter;
    // The dummy hash is ready before the first unknown login, so that one is not slower either.
    services.passwords.prepareDummy();
  }

  async signup(em: EntityManager, data: SignupData, client: ClientInfo): Promise<AuthResult> {
    const email = normalizeEmail(data.email);
    const username = validateUsername(data.username);
    const password = validatePassword(data.password, 'password', { username, email });
    const displayName = data.displayName === undefined || data.displayName === null ? username : validateDisplayName(data.displayName);
    const key = usernameKey(username);
    await this.services.throttle.check('signup', client.ip ?? 'unknown');

    // Friendly errors before the costly hash; the unique constraints decide races.
    const taken = await em.find(User, { $or: [{ email }, { usernameKey: key }] }, { fields: ['id', 'email', 'usernameKey'] });
    if (taken.some((user) => user.email === email)) throw emailTaken();
    if (taken.some((user) => user.usernameKey === key)) throw usernameTaken();

    const passwordHash = await this.services.passwords.hash(password);
    let publicChannel!: Channel;
    let created!: { token: string; user: User };
    try {
      await em.transactional(async (tx) => {
        const user = tx.create(User, { email, username, usernameKey: key, displayName, bio: null, passwordHash });
        await tx.flush();
        publicChannel = await tx.findOneOrFail(Channel, { name: DEFAULT_CHANNEL_NAME });
        tx.create(Membership, { channel: publicChannel, user });
        const { token } = await this.services.sessions.create(tx, user, client);
        recordActivity(tx, user.id, ActivityAction.SIGNUP, client);
        await tx.flush();
        const [row] = await tx.execute<{ member_count: number }[]>(
          'update channels set member_count = member_count + 1 where id = ? returning member_count',
          [publicChannel.id],
        );
        publicChannel.memberCount = row.member_count;
        created = { token, user };
      });
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) {
        const constraint = (error as { constraint?: string }).constraint ?? error.message;
        if (constraint.includes('email')) throw emailTaken();
        if (constraint.includes('username')) throw usernameTaken();
      }
      throw error;
    }

    const user = userSnapshot(created.user);
    const { email: _email, ...publicUser } = user;
    await this.services.bus.publish(Topic.channel(publicChannel.id), {
      type: 'MemberJoined',
      channel: channelSnapshot(publicChannel),
      user: publicUser,
    } satisfies ChannelTopicEvent);
    await this.services.bus.publish(Topic.user(user.id), { type: 'MembershipAdded', channelId: publicChannel.id } satisfies UserTopicEvent);
    return { token: created.token, user };
  }

  async login(em: EntityManager, login: unknown, password: unknown, client: ClientInfo): Promise<AuthResult> {
    if (typeof login !== 'string' || login.trim().length === 0 || login.length > MAX_LOGIN_LENGTH || hasControlCharacters(login)) {
      throw new BadUserInputError('login', 'Enter your email or username.');
    }
    if (typeof password !== 'string' || password.length === 0) throw new BadUserInputError('password', 'Enter your password.');
    const { auth } = this.services.config;
    const name = login.trim().toLowerCase();
    const user = await em.findOne(User, name.includes('@') ? { email: name } : { usernameKey: name }, { populate: ['passwordHash'] });

    const ip = client.ip ?? 'unknown';
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
    if (!total.allowed && !(await this.isKnownAddress(em, user, client.ip))) {
      throw new RateLimitedError(total.retryAfterSeconds, TOO_MANY_ATTEMPTS);
    }

    // An unknown account costs a verification too, so the answer takes as long as for a wrong password.
    const valid = user ? await this.services.passwords.verify(user.passwordHash, password) : await this.services.passwords.verifyDummy(password);
    if (!user || !valid) {
      await this.limiter.hit(accountTotal, { ...window, limit: auth.loginMaxFailuresPerAccountTotal });
      if (user) {
        // Recorded for existing accounts only (the log belongs to a user).
        recordActivity(em, user.id, ActivityAction.LOGIN_FAILED, client);
        await em.flush();
      }
      throw new UnauthenticatedError(INVALID_CREDENTIALS);
    }

    await this.limiter.reset(accountAtIp, atIp);
    const rehash = this.services.passwords.needsRehash(user.passwordHash) ? await this.services.passwords.hash(password) : null;
    const token = await em.transactional(async (tx) => {
      if (rehash) await tx.nativeUpdate(User, { id: user.id }, { passwordHash: rehash });
      const session = await this.services.sessions.create(tx, tx.getReference(User, user.id), client);
      recordActivity(tx, user.id, ActivityAction.LOGIN, client);
      return session.token;
    });
    return { token, user: userSnapshot(user) };
  }

  /** Revokes the session used for this request and closes the sockets opened with it. */
  async logout(em: EntityManager, viewer: Viewer, client: ClientInfo): Promise<boolean> {
    const revoked = await em.transactional(async (tx) => {
      const count = await tx.nativeUpdate(Session, { id: viewer.sessionId, revokedAt: null }, { revokedAt: new Date() });
      if (count > 0) recordActivity(tx, viewer.userId, ActivityAction.LOGOUT, client);
      return count > 0;
    });
    if (revoked) await this.publishRevoked(viewer.userId, [viewer.sessionId]);
    return true;
  }

  /** Needs the current password; revokes every other session of the user. */
  async changePassword(em: EntityManager, viewer: Viewer, currentPassword: unknown, newPassword: unknown, client: ClientInfo): Promise<boolean> {
    const user = await em.findOne(User, { id: viewer.userId }, { populate: ['passwordHash'] });
    if (!user) throw new UnauthenticatedError();
    if (typeof currentPassword !== 'string' || currentPassword.length === 0) {
      throw new BadUserInputError('currentPassword', 'Enter your current password.');
    }
    const password = validatePassword(newPassword, 'newPassword', { username: user.username, email: user.email });

    // Guessing the current password with a stolen session is throttled like logins.
    const { auth } = this.services.config;
    const guessKey = `login:account-ip:id:${user.id}:${client.ip ?? 'unknown'}`;
    const rule = { limit: auth.loginMaxFailuresPerAccount, windowSeconds: auth.loginFailureWindowSeconds };
    const admitted = await this.limiter.hit(guessKey, rule);
    if (!admitted.allowed) throw new RateLimitedError(admitted.retryAfterSeconds, TOO_MANY_ATTEMPTS);
    if (!(await this.services.passwords.verify(user.passwordHash, currentPassword))) {
      throw new BadUserInputError('currentPassword', 'The current password is incorrect.');
    }
    await this.limiter.reset(guessKey);

    const passwordHash = await this.services.passwords.hash(password);
    const revokedIds = await em.transactional(async (tx) => {
      await tx.nativeUpdate(User, { id: user.id }, { passwordHash, updatedAt: new Date() });
      const rows = await tx.execute<{ id: string }[]>(
        'update sessions set revoked_at = now() where user_id = ? and id <> ? and revoked_at is null returning id',
        [user.id, viewer.sessionId],
      );
      recordActivity(tx, user.id, ActivityAction.PASSWORD_CHANGED, client);
      return rows.map((row) => row.id);
    });
    await this.publishRevoked(user.id, revokedIds);
    return true;
  }

  async updateProfile(em: EntityManager, viewer: Viewer, input: { displayName?: string | null; bio?: string | null }): Promise<UserSnapshot> {
    const user = await em.findOne(User, { id: viewer.userId });
    if (!user) throw new UnauthenticatedError();
    // Only the known, validated fields are copied onto the entity; null or absent leaves a field as it is.
    if (input.displayName !== undefined && input.displayName !== null) user.displayName = validateDisplayName(input.displayName);
    if (input.bio !== undefined && input.bio !== null) user.bio = validateBio(input.bio);
    await em.flush();
    return userSnapshot(user);
  }

  async me(ctx: RequestContext, viewer: Viewer): Promise<UserSnapshot | null> {
    return userLoader(ctx).load(viewer.userId);
  }

  /** A profile by id or by username (exactly one of them); null when there is none. */
  async findUser(em: EntityManager, id: string | null | undefined, username: string | null | undefined): Promise<UserSnapshot | null> {
    const hasId = id !== undefined && id !== null;
    const hasUsername = username !== undefined && username !== null;
    if (hasId === hasUsername) throw new BadUserInputError(hasId ? 'username' : 'id', 'Give either id or username.');
    if (hasId) {
      if (!isUuid(id)) return null;
      const user = await em.findOne(User, { id });
      return user ? userSnapshot(user) : null;
    }
    // Every username matches the pattern: anything else names nobody (and never reaches SQL).
    if (typeof username !== 'string' || !USERNAME_PATTERN.test(username)) return null;
    const user = await em.findOne(User, { usernameKey: usernameKey(username) });
    return user ? userSnapshot(user) : null;
  }

  /** Users ordered by username, optionally those whose username or display name starts with `search`. */
  async listUsers(em: EntityManager, search: string | null | undefined, first: number | null | undefined, after: string | null | undefined): Promise<Connection<UserSnapshot>> {
    const limit = pageSize(first, 'first');
    const term = (search ?? '').trim().toLowerCase();
    if (term.length > MAX_SEARCH_LENGTH || hasControlCharacters(term)) {
      throw new BadUserInputError('search', `search must be at most ${MAX_SEARCH_LENGTH} characters, without control characters.`);
    }
    const afterKey = after === undefined || after === null ? null : decodeCursor('user', after, 'after');
    if (afterKey !== null && !USERNAME_PATTERN.test(afterKey)) throw new BadUserInputError('after', 'after is not a valid cursor.');
    const qb = em.createQueryBuilder(User, 'u').select('*').orderBy({ usernameKey: 'asc' }).limit(limit + 1);
    if (term) {
      const pattern = `${escapeLike(term)}%`;
      qb.andWhere(`(u.username_key like ? escape '\\' or lower(u.display_name) like ? escape '\\')`, [pattern, pattern]);
    }
    if (afterKey !== null) qb.andWhere({ usernameKey: { $gt: afterKey } });
    const users = await qb.getResult();
    const page = users.slice(0, limit);
    const edges = page.map((user) => ({ cursor: encodeCursor('user', user.usernameKey), node: userSnapshot(user) }));
    return {
      edges,
      pageInfo: {
        hasNextPage: users.length > limit,
        hasPreviousPage: false,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges[edges.length - 1]?.cursor ?? null,
      },
    };
  }

  /** The viewer's activity log, newest first. */
  async listActivity(em: EntityManager, viewer: Viewer, first: number | null | undefined, after: string | null | undefined): Promise<Connection<ActivityRecord>> {
    const limit = pageSize(first, 'first');
    const afterId = after === undefined || after === null ? null : decodeIntCursor('activity', after, 'after');
    const where = afterId === null ? { user: viewer.userId } : { user: viewer.userId, id: { $lt: String(afterId) } };
    const entries = await em.find(ActivityEntry, where, { orderBy: { id: 'desc' }, limit: limit + 1 });
    const page = entries.slice(0, limit);
    const edges = page.map((entry) => ({
      cursor: encodeCursor('activity', entry.id),
      node: { id: String(entry.id), action: entry.action, channelId: entry.channelId, at: entry.at },
    }));
    return {
      edges,
      pageInfo: {
        hasNextPage: entries.length > limit,
        hasPreviousPage: false,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges[edges.length - 1]?.cursor ?? null,
      },
    };
  }

  /** Whether the account has signed in from this address before (exempts it from the account-wide limit). */
  private async isKnownAddress(em: EntityManager, user: User | null, ip: string | null): Promise<boolean> {
    if (!user || !ip) return false;
    const session = await em.findOne(Session, { user: user.id, ip }, { fields: ['id'] });
    return session !== null;
  }

  private async publishRevoked(userId: string, sessionIds: string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    await this.services.bus.publish(Topic.sessions(), { type: 'SessionsRevoked', userId, sessionIds } satisfies SessionTopicEvent);
  }
}

function emailTaken(): ConflictError {
  return new ConflictError('An account with this email already exists.', 'email');
}

function usernameTaken(): ConflictError {
  return new ConflictError('This username is taken.', 'username');
}
