import { randomUUID } from 'node:crypto';
import type { NewAccountHook } from '../accounts/account.service';
import { ActivityAction, type ActivityDetails, recordActivity } from '../accounts/activity';
import type { BlockList } from '../accounts/block.service';
import type { UserDirectory } from '../accounts/user.loader';
import { type ChannelSnapshot, eventUser, type UserSnapshot } from '../domain/snapshots';
import { type ChannelTopicEvent, Topic, type UserTopicEvent } from '../domain/topics';
import type { EventBus } from '../realtime/event-bus';
import { type RequestScope, requireViewer } from '../shared/context';
import { BadUserInputError, ConflictError, ForbiddenError, NotFoundError } from '../shared/errors';
import { isUuid } from '../shared/ids';
import type { ActionThrottle } from '../shared/rate-limit';
import { decodeCursor, encodeCursor, pageSize } from '../shared/relay';
import { escapeLike, type SqlClient, type SqlPool, uniqueViolation } from '../shared/sql';
import { accessOf, type ChannelAccess, type ChannelAccessControl, requireJoined } from './access';
import { ChannelKind, DEFAULT_CHANNEL_NAME } from './channel.entity';
import * as queries from './channel.queries';
import { directChannelKey } from './channel.types';
import { MemberRole } from './membership.entity';
import { normalizeChannelName, normalizeDescription } from './validation';

export interface ChannelDeps {
  sql: SqlPool;
  access: ChannelAccessControl;
  users: UserDirectory;
  throttle: ActionThrottle;
  bus: EventBus;
  blocks: BlockList;
  /** Channels one user may belong to (MAX_CHANNELS_PER_USER). */
  maxChannelsPerUser: number;
  /** A feature above channels told of memberships that end and read markers that move (attention). */
  hooks?: ChannelHooks;
}

export interface ChannelHooks {
  /** In the transaction that ends a membership (leave, removal, ban). */
  memberRemoved(tx: SqlClient, channel: ChannelSnapshot, userId: string): Promise<void>;
  /** After a read marker moved forward to `seq`. */
  readMarkerMoved(userId: string, channel: ChannelSnapshot, seq: number): void;
}

/** Who a membership change is about, and from where (for the activity log). */
interface Actor {
  userId: string;
  ip?: string | null;
  userAgent?: string | null;
}

function actorOf(scope: RequestScope): Actor {
  return { userId: requireViewer(scope).userId, ip: scope.ip, userAgent: scope.userAgent };
}

export interface CreateChannelData {
  name: string;
  description?: string | null;
  kind?: ChannelKind | null;
}

export interface UpdateChannelData {
  channelId: string;
  /** Undefined or null: unchanged. */
  name?: string | null;
  /** Undefined: unchanged; null or blank: cleared. */
  description?: string | null;
  /** Undefined or null: unchanged; 0 turns slow mode off. */
  slowModeSeconds?: number | null;
}

/** Slow mode's longest interval (6 hours). */
export const MAX_SLOW_MODE_SECONDS = 21_600;
/** A timeout's longest duration (30 days). */
export const MAX_MUTE_SECONDS = 2_592_000;
/** A ban's longest duration (10 years; none: until unbanned). */
export const MAX_BAN_SECONDS = 315_360_000;
export const MAX_BAN_REASON_LENGTH = 1000;

function durationSeconds(value: number, min: number, max: number, field: string): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new BadUserInputError(field, `${field} must be between ${min} and ${max} seconds.`);
  return value;
}

export interface ChannelPage {
  nodes: ChannelSnapshot[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

export const CHANNEL_CURSOR = 'channel';

export function channelCursor(channel: ChannelSnapshot): string {
  return encodeCursor(CHANNEL_CURSOR, channel.name);
}

/** Events to publish once the transaction that caused them has committed. */
type PendingEvent = { topic: string; payload: ChannelTopicEvent | UserTopicEvent };

interface TxOutcome<T> {
  result: T;
  events: PendingEvent[];
}

const memberJoined = (channel: ChannelSnapshot, user: UserSnapshot): PendingEvent => ({
  topic: Topic.channel(channel.id),
  payload: { type: 'MemberJoined', channel, user: eventUser(user) },
});
const memberLeft = (channel: ChannelSnapshot, user: UserSnapshot): PendingEvent => ({
  topic: Topic.channel(channel.id),
  payload: { type: 'MemberLeft', channel, user: eventUser(user) },
});
const channelUpdated = (channel: ChannelSnapshot): PendingEvent => ({ topic: Topic.channel(channel.id), payload: { type: 'ChannelUpdated', channel } });
const channelDeleted = (channelId: string): PendingEvent => ({ topic: Topic.channel(channelId), payload: { type: 'ChannelDeleted', channelId } });
const membershipAdded = (userId: string, channelId: string): PendingEvent => ({ topic: Topic.user(userId), payload: { type: 'MembershipAdded', channelId } });
const membershipRemoved = (userId: string, channelId: string): PendingEvent => ({ topic: Topic.user(userId), payload: { type: 'MembershipRemoved', channelId } });

/**
 * Channels, membership, direct channels and read markers.
 *
 * Every change runs in one transaction that locks the channel row (`for update`) where the
 * order of membership changes matters, keeps `member_count` exact with `± 1` only when a
 * membership row was really inserted or deleted, writes the activity log, and publishes
 * its events only after the commit.
 */
export class ChannelService implements NewAccountHook {
  private readonly sql: SqlPool;
  private readonly access: ChannelAccessControl;

  constructor(private readonly deps: ChannelDeps) {
    this.sql = deps.sql;
    this.access = deps.access;
  }

  // ---- Reads ----

  /** The channel when the viewer may see it, else null. */
  async find(scope: RequestScope, channelId: string): Promise<ChannelSnapshot | null> {
    return (await this.access.findVisible(requireViewer(scope).userId, channelId))?.channel ?? null;
  }

  /** The PUBLIC directory: substring search on the name, keyset-paginated by name. */
  async directory(_scope: RequestScope, search: string | null | undefined, first: number | null | undefined, after: string | null | undefined): Promise<ChannelPage> {
    const limit = pageSize(first, 'first');
    let pattern: string | null = null;
    if (search !== null && search !== undefined) {
      if (search.length > 200) throw new BadUserInputError('search', 'search is at most 200 characters.');
      if (search.includes('\u0000')) throw new BadUserInputError('search', 'search must not contain NUL characters.');
      const term = search.trim().toLowerCase();
      if (term.length > 0) pattern = `%${escapeLike(term)}%`;
    }
    const afterName = after !== null && after !== undefined ? decodeCursor(CHANNEL_CURSOR, after, 'after') : null;
    const nodes = await queries.publicDirectory(this.sql, pattern, afterName, limit + 1);
    return { nodes: nodes.slice(0, limit), hasNextPage: nodes.length > limit, hasPreviousPage: Boolean(after) };
  }

  /** Every channel of the viewer, most recently active first, with the viewer's memberships. */
  async mine(scope: RequestScope): Promise<Array<{ channel: ChannelSnapshot; membership: queries.ViewerMembership }>> {
    return queries.channelsOfMember(this.sql, requireViewer(scope).userId);
  }

  // ---- Changes ----

  /**
   * Creates a PUBLIC or PRIVATE channel owned by the actor. A PUBLIC namesake is joined and
   * returned instead; a PRIVATE namesake is returned to its members and a CONFLICT to others.
   */
  async create(scope: RequestScope, data: CreateChannelData): Promise<ChannelSnapshot> {
    const actor = actorOf(scope);
    const name = normalizeChannelName(data.name);
    const description = normalizeDescription(data.description);
    const kind = data.kind ?? ChannelKind.PUBLIC;
    if (kind === ChannelKind.DIRECT) throw new BadUserInputError('kind', 'Direct channels come from openDirectChannel.');
    await this.deps.throttle.check('createChannel', actor.userId);
    // A namesake deleted between our insert attempt and our read makes us try again.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const outcome = await this.transaction(async (tx): Promise<TxOutcome<ChannelSnapshot> | null> => {
        const channel = await queries.insertChannel(tx, { id: randomUUID(), name, description, kind, ownerId: actor.userId, memberCount: 1 });
        if (channel) {
          await this.requireRoom(tx, channel.id, [actor.userId]);
          await queries.insertMemberships(tx, channel.id, [actor.userId], MemberRole.OWNER);
          await recordActivity(tx, actor.userId, ActivityAction.CHANNEL_CREATED, logOf(actor, channel.id));
          return { result: channel, events: [membershipAdded(actor.userId, channel.id)] };
        }
        const existingId = await queries.channelIdByName(tx, name);
        if (!existingId) return null;
        const found = await this.lockNamesake(tx, actor.userId, existingId);
        if (!found) return null;
        if (found.membership) return { result: found.channel, events: [] };
        return this.addMemberLocked(tx, found.channel, actor);
      });
      if (outcome) return outcome;
    }
    throw new ConflictError('The channel name is changing hands; try again.', 'name');
  }

  /** Joins a PUBLIC channel (a no-op for members). PRIVATE and DIRECT ones need an invitation. */
  async join(scope: RequestScope, channelId: string): Promise<ChannelSnapshot> {
    const actor = actorOf(scope);
    return this.transaction(async (tx) => {
      const { channel, membership } = await this.access.requireLocked(tx, actor.userId, channelId);
      if (membership) return { result: channel, events: [] };
      return this.addMemberLocked(tx, channel, actor);
    });
  }

  /**
   * Leaves a channel: true when the actor was a member. An owner's channel passes to the
   * longest-standing remaining member; a PRIVATE channel left by its last member is deleted;
   * a PUBLIC one stays, without an owner. DIRECT channels cannot be left.
   */
  async leave(scope: RequestScope, channelId: string): Promise<boolean> {
    const actor = actorOf(scope);
    return this.transaction(async (tx) => {
      const { channel, membership } = await this.access.requireLocked(tx, actor.userId, channelId);
      if (channel.kind === ChannelKind.DIRECT) throw new ForbiddenError('A direct conversation cannot be left.');
      if (!membership) return { result: false, events: [] };
      const removed = await this.removeMemberLocked(tx, channel, actor.userId, actor);
      return { result: removed !== null, events: removed ?? [] };
    });
  }

  /** A member of a PRIVATE channel adds another user to it. */
  async invite(scope: RequestScope, channelId: string, userId: string): Promise<ChannelSnapshot> {
    const actor = actorOf(scope);
    return this.transaction(async (tx) => {
      const { channel } = requireJoined(await this.access.requireLocked(tx, actor.userId, channelId));
      if (channel.kind !== ChannelKind.PRIVATE) throw new ForbiddenError('Only private channels take invitations; anyone can join a public one.');
      const invitee = await this.deps.users.find(tx, userId);
      if (!invitee) throw new NotFoundError('User');
      // The invitee's log does not get the inviter's address.
      return this.addMemberLocked(tx, channel, { userId: invitee.id }, invitee);
    });
  }

  /** The owner or a moderator removes a member (a moderator: not the owner nor another moderator). */
  async remove(scope: RequestScope, channelId: string, userId: string): Promise<ChannelSnapshot> {
    const actor = actorOf(scope);
    return this.transaction(async (tx) => {
      const { channel } = await this.requireModeratorOver(tx, actor.userId, channelId, userId, { directAllowed: true });
      const events = await this.removeMemberLocked(tx, channel, userId, { userId });
      if (!events) throw new NotFoundError('Member');
      await recordActivity(tx, actor.userId, ActivityAction.MEMBER_REMOVED, logOf(actor, channel.id));
      return { result: await queries.findChannel(tx, channel.id), events };
    });
  }

  // ---- Moderation ----

  /**
   * The owner gives a member a role. Giving OWNER transfers ownership: the previous owner
   * becomes a MODERATOR.
   */
  async setRole(scope: RequestScope, channelId: string, userId: string, role: MemberRole): Promise<ChannelSnapshot> {
    const actor = actorOf(scope);
    return this.transaction(async (tx) => {
      const { channel } = requireJoined(await this.access.requireLocked(tx, actor.userId, channelId));
      requireModeratable(channel);
      this.requireOwner(channel, actor.userId, 'set roles');
      if (userId === actor.userId) throw new BadUserInputError('userId', 'Give OWNER to another member to hand the channel on.');
      const current = isUuid(userId) ? await queries.memberRole(tx, channel.id, userId) : null;
      if (current === null) throw new NotFoundError('Member');
      await recordActivity(tx, actor.userId, ActivityAction.MEMBER_ROLE_CHANGED, logOf(actor, channel.id));
      if (current === role) return { result: channel, events: [] };
      await queries.setMemberRole(tx, channel.id, userId, role);
      let updated = channel;
      if (role === MemberRole.OWNER) {
        await queries.setMemberRole(tx, channel.id, actor.userId, MemberRole.MODERATOR);
        updated = await queries.setOwner(tx, channel.id, userId);
      }
      return { result: updated, events: [channelUpdated(updated)] };
    });
  }

  /**
   * Removes the member at once (as removeFromChannel does: their streams end) and refuses
   * their return until the ban expires (no duration: until unbanned).
   */
  async ban(scope: RequestScope, channelId: string, userId: string, duration: number | null | undefined, rawReason: string | null | undefined): Promise<ChannelSnapshot> {
    const actor = actorOf(scope);
    const seconds = duration === null || duration === undefined ? null : durationSeconds(duration, 1, MAX_BAN_SECONDS, 'durationSeconds');
    const reason = rawReason === null || rawReason === undefined || rawReason.trim() === '' ? null : rawReason.trim();
    if (reason !== null && reason.length > MAX_BAN_REASON_LENGTH) throw new BadUserInputError('reason', `reason is at most ${MAX_BAN_REASON_LENGTH} characters.`);
    return this.transaction(async (tx) => {
      const { channel } = await this.requireModeratorOver(tx, actor.userId, channelId, userId);
      const events = await this.removeMemberLocked(tx, channel, userId, { userId });
      if (!events) throw new NotFoundError('Member');
      await queries.upsertBan(tx, { channelId: channel.id, userId, expiresAt: seconds === null ? null : new Date(Date.now() + seconds * 1000), reason, bannedBy: actor.userId });
      await recordActivity(tx, actor.userId, ActivityAction.MEMBER_BANNED, logOf(actor, channel.id));
      return { result: await queries.findChannel(tx, channel.id), events };
    });
  }

  /** Lifts a ban in force (NOT_FOUND when there is none). */
  async unban(scope: RequestScope, channelId: string, userId: string): Promise<ChannelSnapshot> {
    const actor = actorOf(scope);
    return this.transaction(async (tx) => {
      const { channel } = await this.requireModerator(tx, actor.userId, channelId);
      if (!isUuid(userId) || !(await queries.deleteBan(tx, channel.id, userId))) throw new NotFoundError('Ban');
      await recordActivity(tx, actor.userId, ActivityAction.MEMBER_UNBANNED, logOf(actor, channel.id));
      return { result: channel, events: [] };
    });
  }

  /** A timeout: the member reads but cannot send or vote until it expires (a new one replaces it). */
  async mute(scope: RequestScope, channelId: string, userId: string, duration: number): Promise<ChannelSnapshot> {
    const actor = actorOf(scope);
    const seconds = durationSeconds(duration, 1, MAX_MUTE_SECONDS, 'durationSeconds');
    return this.transaction(async (tx) => {
      const { channel } = await this.requireModeratorOver(tx, actor.userId, channelId, userId);
      await queries.setMutedUntil(tx, channel.id, userId, new Date(Date.now() + seconds * 1000));
      await recordActivity(tx, actor.userId, ActivityAction.MEMBER_MUTED, logOf(actor, channel.id));
      return { result: channel, events: [channelUpdated(channel)] };
    });
  }

  /** The owner renames or re-describes a channel. `public` keeps its name. */
  async update(scope: RequestScope, data: UpdateChannelData): Promise<ChannelSnapshot> {
    const actor = actorOf(scope);
    const name = data.name === undefined || data.name === null ? undefined : normalizeChannelName(data.name);
    const description = data.description === undefined ? undefined : normalizeDescription(data.description);
    const slowMode = data.slowModeSeconds === undefined || data.slowModeSeconds === null ? undefined : durationSeconds(data.slowModeSeconds, 0, MAX_SLOW_MODE_SECONDS, 'slowModeSeconds');
    try {
      return await this.transaction(async (tx) => {
        const { channel } = await this.access.requireLocked(tx, actor.userId, data.channelId);
        if (slowMode !== undefined) requireModeratable(channel);
        this.requireOwner(channel, actor.userId, 'update it');
        const rename = name !== undefined && name !== channel.name;
        if (rename && channel.name === DEFAULT_CHANNEL_NAME) throw new ForbiddenError(`The ${DEFAULT_CHANNEL_NAME} channel cannot be renamed.`);
        const redescribe = description !== undefined && description !== channel.description;
        const slowModeChanges = slowMode !== undefined && slowMode !== channel.slowModeSeconds;
        if (!rename && !redescribe && !slowModeChanges) return { result: channel, events: [] };
        if (rename && (await queries.nameTakenByOther(tx, name, channel.id))) throw nameTaken();
        let updated = channel;
        if (rename || redescribe) updated = await queries.updateChannelText(tx, channel.id, rename ? name : channel.name, description === undefined ? channel.description : description);
        if (slowModeChanges) {
          updated = await queries.setSlowMode(tx, channel.id, slowMode);
          await recordActivity(tx, actor.userId, ActivityAction.SLOW_MODE_CHANGED, logOf(actor, channel.id));
        }
        return { result: updated, events: [channelUpdated(updated)] };
      });
    } catch (error) {
      // Two renames to one new name at once: the unique index decides.
      if (uniqueViolation(error) !== null) throw nameTaken();
      throw error;
    }
  }

  /** The owner deletes a channel with its messages and memberships (FK cascades). */
  async delete(scope: RequestScope, channelId: string): Promise<boolean> {
    const actor = actorOf(scope);
    return this.transaction(async (tx) => {
      const { channel } = await this.access.requireLocked(tx, actor.userId, channelId);
      if (channel.name === DEFAULT_CHANNEL_NAME) throw new ForbiddenError(`The ${DEFAULT_CHANNEL_NAME} channel cannot be deleted.`);
      this.requireOwner(channel, actor.userId, 'delete it');
      const events = await this.deleteLocked(tx, channel.id);
      await recordActivity(tx, actor.userId, ActivityAction.CHANNEL_DELETED, logOf(actor, channel.id));
      return { result: true, events };
    });
  }

  /**
   * The one DIRECT channel of the actor and another user, created on first use. The unique
   * `name` (`dm:<a>:<b>`) makes "one per pair" a constraint: when both open it at once, the
   * second insert does nothing and reads the first one's row. Opening one with yourself is
   * BAD_USER_INPUT.
   */
  async openDirect(scope: RequestScope, userId: string): Promise<ChannelSnapshot> {
    const actor = actorOf(scope);
    if (!isUuid(userId)) throw new NotFoundError('User');
    if (userId === actor.userId) throw new BadUserInputError('userId', 'A direct conversation needs another user.');
    const key = directChannelKey(actor.userId, userId);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const outcome = await this.transaction(async (tx): Promise<TxOutcome<ChannelSnapshot> | null> => {
        const peer = await this.deps.users.find(tx, userId);
        if (!peer) throw new NotFoundError('User');
        if (await this.deps.blocks.isBlocked(tx, peer.id, actor.userId)) throw new ForbiddenError('You cannot open a direct conversation with this user.');
        const inserted = await queries.insertChannel(tx, { id: randomUUID(), name: key, description: null, kind: ChannelKind.DIRECT, ownerId: null, memberCount: 0 });
        const channel = inserted ?? (await queries.lockChannelByName(tx, key));
        if (!channel) return null;
        if (inserted) await recordActivity(tx, actor.userId, ActivityAction.DIRECT_OPENED, logOf(actor, channel.id));
        // Both participants are members; normally only a new channel needs the rows.
        if (inserted) {
          // Only a new channel counts (reopening one is navigation); a refusal rolls it back.
          await this.deps.throttle.check('openDirectChannel', actor.userId);
          await this.requireRoom(tx, channel.id, [actor.userId, userId]);
        }
        const added = await queries.insertMemberships(tx, channel.id, [actor.userId, userId], MemberRole.MEMBER);
        if (added.length === 0) return { result: channel, events: [] };
        const updated = await queries.addToMemberCount(tx, channel.id, added.length);
        const events: PendingEvent[] = [];
        for (const addedId of added) {
          if (!inserted) {
            const user = addedId === peer.id ? peer : await this.deps.users.find(tx, addedId);
            if (user) events.push(memberJoined(updated, user));
          }
          events.push(membershipAdded(addedId, updated.id));
        }
        return { result: updated, events };
      });
      if (outcome) return outcome;
    }
    throw new ConflictError('The direct conversation is changing; try again.');
  }

  /**
   * Moves the viewer's read marker to the message's sequence number, or to the newest message.
   * Markers only move forward: an older message (say, from a device that lags) changes nothing.
   */
  async markRead(scope: RequestScope, channelId: string, messageId: string | null | undefined): Promise<ChannelSnapshot> {
    const viewerId = requireViewer(scope).userId;
    const { channel } = await this.access.requireMember(viewerId, channelId);
    let seq = channel.lastSeq;
    if (messageId !== null && messageId !== undefined) {
      const found = isUuid(messageId) ? await queries.messageSeqIn(this.sql, channel.id, messageId) : null;
      if (found === null) throw new NotFoundError('Message');
      seq = found;
    }
    if (seq > 0 && (await queries.advanceReadMarker(this.sql, channel.id, viewerId, seq))) this.deps.hooks?.readMarkerMoved(viewerId, channel, seq);
    return channel;
  }

  /** A new account joins the default channel (NewAccountHook, in the signup's transaction). */
  async accountCreated(tx: SqlClient, user: UserSnapshot): Promise<() => Promise<void>> {
    const channelId = await queries.channelIdByName(tx, DEFAULT_CHANNEL_NAME);
    if (!channelId) throw new Error(`the ${DEFAULT_CHANNEL_NAME} channel is missing`);
    await queries.insertMemberships(tx, channelId, [user.id], MemberRole.MEMBER);
    const channel = await queries.addToMemberCount(tx, channelId, 1);
    const events = [memberJoined(channel, user), membershipAdded(user.id, channel.id)];
    // One after the other: signup answers once its MemberJoined has gone out.
    return async () => {
      for (const event of events) await this.deps.bus.publish(event.topic, event.payload);
    };
  }

  // ---- Internals ----

  /** Runs `work` in a transaction, then publishes its events (only after the commit). */
  private async transaction<T>(work: (tx: SqlClient) => Promise<TxOutcome<T>>): Promise<T>;
  private async transaction<T>(work: (tx: SqlClient) => Promise<TxOutcome<T> | null>): Promise<T | null>;
  private async transaction<T>(work: (tx: SqlClient) => Promise<TxOutcome<T> | null>): Promise<T | null> {
    const outcome = await this.sql.transaction(work);
    if (!outcome) return null;
    await this.publish(outcome.events);
    return outcome.result;
  }

  private async publish(events: PendingEvent[]): Promise<void> {
    // Called in order, so each topic gets its events in order (one Redis connection publishes).
    await Promise.all(events.map((event) => this.deps.bus.publish(event.topic, event.payload)));
  }

  /** The locked channel, when the actor is its owner or a moderator (NOT_FOUND, BAD_USER_INPUT for DIRECT, FORBIDDEN). */
  private async requireModerator(tx: SqlClient, actorId: string, channelId: string, { directAllowed = false } = {}): Promise<ChannelAccess & { membership: queries.ViewerMembership }> {
    const access = requireJoined(await this.access.requireLocked(tx, actorId, channelId));
    if (!directAllowed) requireModeratable(access.channel);
    if (!isModerator(access.membership.role)) throw new ForbiddenError("Only the channel's owner and moderators can do this.");
    return access;
  }

  /**
   * As requireModerator, and the target must be another member the actor outranks: a
   * moderator acts on members only (FORBIDDEN on the owner or another moderator).
   */
  private async requireModeratorOver(tx: SqlClient, actorId: string, channelId: string, userId: string, options: { directAllowed?: boolean } = {}): Promise<ChannelAccess> {
    const access = await this.requireModerator(tx, actorId, channelId, options);
    if (userId === actorId) throw new BadUserInputError('userId', 'You cannot act on yourself.');
    const role = isUuid(userId) ? await queries.memberRole(tx, access.channel.id, userId) : null;
    if (role === null) throw new NotFoundError('Member');
    if (access.membership.role !== MemberRole.OWNER && isModerator(role)) throw new ForbiddenError('Moderators cannot act on the owner or other moderators.');
    return access;
  }

  /** CONFLICT when one of `userIds` is already in MAX_CHANNELS_PER_USER channels (other than this one). */
  private async requireRoom(tx: SqlClient, channelId: string, userIds: string[]): Promise<void> {
    const full = await queries.usersAtChannelCap(tx, userIds, channelId, this.deps.maxChannelsPerUser);
    if (full.length === 0) return;
    const whom = full.length === 1 ? 'someone' : 'both participants';
    throw new ConflictError(`A user may belong to at most ${this.deps.maxChannelsPerUser} channels, and ${whom} already does; a channel must be left first.`);
  }

  private requireOwner(channel: ChannelSnapshot, userId: string, what: string): void {
    if (channel.ownerId !== userId) throw new ForbiddenError(`Only the channel's owner can ${what}.`);
  }

  /**
   * Locks the channel whose name the actor asked for. A PRIVATE one they are not in is a
   * CONFLICT: names are unique, so the name is taken even where the channel is hidden.
   */
  private async lockNamesake(tx: SqlClient, userId: string, channelId: string): Promise<ChannelAccess | null> {
    const row = await queries.lockChannelForViewer(tx, userId, channelId);
    if (!row) return null;
    const access = accessOf(row);
    if (!access) throw nameTaken();
    return access;
  }

  /** Adds a member to a locked channel; nothing happens (and nothing is counted) when they already are one. */
  private async addMemberLocked(tx: SqlClient, channel: ChannelSnapshot, member: Actor, knownUser?: UserSnapshot): Promise<TxOutcome<ChannelSnapshot>> {
    // Every way in (join, invitation, create-by-name) passes here: a ban in force refuses it.
    if (await queries.isBanned(tx, channel.id, member.userId)) throw new ForbiddenError('This user is banned from the channel.');
    await this.requireRoom(tx, channel.id, [member.userId]);
    const inserted = await queries.insertMemberships(tx, channel.id, [member.userId], MemberRole.MEMBER);
    if (inserted.length === 0) return { result: channel, events: [] };
    const updated = await queries.addToMemberCount(tx, channel.id, 1);
    await recordActivity(tx, member.userId, ActivityAction.CHANNEL_JOINED, logOf(member, channel.id));
    const user = knownUser ?? (await this.deps.users.find(tx, member.userId));
    const events = [membershipAdded(member.userId, channel.id)];
    if (user) events.unshift(memberJoined(updated, user));
    return { result: updated, events };
  }

  /**
   * Removes a member from a locked channel, handing ownership on or deleting the channel when
   * needed. Null when they were not a member. `log` says who the activity entries record
   * the address of (the member leaving themself, or nobody's for a removal).
   */
  private async removeMemberLocked(tx: SqlClient, channel: ChannelSnapshot, userId: string, log: Actor): Promise<PendingEvent[] | null> {
    const role = await queries.deleteMembership(tx, channel.id, userId);
    if (role === null) return null;
    await this.deps.hooks?.memberRemoved(tx, channel, userId);
    let current = await queries.addToMemberCount(tx, channel.id, -1);
    const details = logOf(log, channel.id);
    await recordActivity(tx, userId, ActivityAction.CHANNEL_LEFT, details);
    const user = await this.deps.users.find(tx, userId);
    const events: PendingEvent[] = [];
    if (user) events.push(memberLeft(current, user));
    events.push(membershipRemoved(userId, channel.id));

    if (current.memberCount <= 0 && current.kind === ChannelKind.PRIVATE) {
      // Nobody could ever see it again.
      events.push(...(await this.deleteLocked(tx, channel.id)));
      await recordActivity(tx, userId, ActivityAction.CHANNEL_DELETED, details);
      return events;
    }
    if (role === MemberRole.OWNER || current.ownerId === userId) {
      const heir = await queries.oldestMember(tx, channel.id);
      if (heir) await queries.setMemberRole(tx, channel.id, heir, MemberRole.OWNER);
      current = await queries.setOwner(tx, channel.id, heir);
      events.push(channelUpdated(current));
    }
    return events;
  }

  /** Deletes a locked channel; the events tell its subscribers and every former member. */
  private async deleteLocked(tx: SqlClient, channelId: string): Promise<PendingEvent[]> {
    const members = await queries.memberIds(tx, channelId);
    await queries.deleteChannel(tx, channelId);
    return [channelDeleted(channelId), ...members.map((memberId) => membershipRemoved(memberId, channelId))];
  }
}

/** The activity log's details of a change made by `actor` (their address only when they act themself). */
function logOf(actor: Actor, channelId: string): ActivityDetails {
  return { channelId, ip: actor.ip, userAgent: actor.userAgent };
}

/** Moderation has no place in DIRECT channels. */
function requireModeratable(channel: ChannelSnapshot): void {
  if (channel.kind === ChannelKind.DIRECT) throw new BadUserInputError('channelId', 'Direct conversations have no roles or moderation.');
}

export function isModerator(role: MemberRole): boolean {
  return role === MemberRole.OWNER || role === MemberRole.MODERATOR;
}

function nameTaken(): ConflictError {
  return new ConflictError('A channel with this name already exists.', 'name');
}
