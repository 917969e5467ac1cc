import { randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Services } from '../services';
import { ActivityAction, recordActivity } from '../accounts/activity';
import type { ChannelSnapshot, UserSnapshot } from '../domain/snapshots';
import { Topic, type ChannelTopicEvent, type UserTopicEvent } from '../domain/topics';
import { BadUserInputError, ConflictError, ForbiddenError, NotFoundError } from '../shared/errors';
import { isUuid } from '../shared/ids';
import { decodeCursor, encodeCursor, pageSize } from '../shared/relay';
import { ChannelKind, DEFAULT_CHANNEL_NAME } from './channel.entity';
import { MemberRole } from './membership.entity';
import { directChannelKey } from './channel.types';
import {
  CHANNEL_COLUMNS,
  type ChannelRow,
  type ChannelWithMembershipRow,
  escapeLike,
  findChannelForViewer,
  findUserSnapshot,
  normalizeChannelName,
  normalizeDescription,
  requireChannelForViewer,
  RETURNING_CHANNEL,
  rowMembership,
  rowSnapshot,
  type ViewerMembership,
} from './channel.rows';

/** Who acts, and from where (for the activity log). */
export interface Actor {
  userId: string;
  ip?: string | null;
  userAgent?: string | null;
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

/** Events carry users without their email: they travel through Redis to every subscriber. */
function publicUser(user: UserSnapshot): UserSnapshot {
  return { ...user, email: null };
}

const memberJoined = (channel: ChannelSnapshot, user: UserSnapshot): PendingEvent => ({
  topic: Topic.channel(channel.id),
  payload: { type: 'MemberJoined', channel, user: publicUser(user) },
});
const memberLeft = (channel: ChannelSnapshot, user: UserSnapshot): PendingEvent => ({
  topic: Topic.channel(channel.id),
  payload: { type: 'MemberLeft', channel, user: publicUser(user) },
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
export class ChannelService {
  constructor(private readonly services: Services) {}

  // ---- Reads ----

  /** The channel when the viewer may see it, else null. */
  async find(em: EntityManager, viewerId: string, channelId: string): Promise<ChannelSnapshot | null> {
    return (await findChannelForViewer(em, viewerId, channelId))?.snapshot ?? null;
  }

  /** The PUBLIC directory: substring search on the name, keyset-paginated by name. */
  async directory(em: EntityManager, search: string | null | undefined, first: number | null | undefined, after: string | null | undefined): Promise<ChannelPage> {
    const limit = pageSize(first, 'first');
    const conditions = [`c.kind = 'PUBLIC'`];
    const params: unknown[] = [];
    if (search !== null && search !== undefined) {
      if (search.length > 200) throw new BadUserInputError('search', 'search is at most 200 characters.');
      if (search.includes('\u0000')) throw new BadUserInputError('search', 'search must not contain NUL characters.');
      const term = search.trim().toLowerCase();
      if (term.length > 0) {
        conditions.push(`c.name like ? escape '\\'`);
        params.push(`%${escapeLike(term)}%`);
      }
    }
    if (after !== null && after !== undefined) {
      conditions.push('c.name > ?');
      params.push(decodeCursor(CHANNEL_CURSOR, after, 'after'));
    }
    const rows = await em.execute<ChannelRow[]>(
      `select ${CHANNEL_COLUMNS} from channels c where ${conditions.join(' and ')} order by c.name limit ?`,
      [...params, limit + 1],
    );
    return { nodes: rows.slice(0, limit).map(rowSnapshot), hasNextPage: rows.length > limit, hasPreviousPage: Boolean(after) };
  }

  /** Every channel of the viewer, most recently active first, with the viewer's memberships. */
  async mine(em: EntityManager, viewerId: string): Promise<Array<{ channel: ChannelSnapshot; membership: ViewerMembership }>> {
    const rows = await em.execute<ChannelWithMembershipRow[]>(
      `select ${CHANNEL_COLUMNS}, m.role as member_role, m.last_read_seq as member_last_read_seq
         from memberships m join channels c on c.id = m.channel_id
        where m.user_id = ?
        order by c.last_activity_at desc, c.id`,
      [viewerId],
    );
    return rows.map((row) => ({ channel: rowSnapshot(row), membership: rowMembership(row) as ViewerMembership }));
  }

  // ---- Changes ----

  /**
   * Creates a PUBLIC or PRIVATE channel owned by the actor. A PUBLIC namesake is joined and
   * returned instead; a PRIVATE namesake is returned to its members and a CONFLICT to others.
   */
  async create(em: EntityManager, actor: Actor, data: CreateChannelData): Promise<ChannelSnapshot> {
    const name = normalizeChannelName(data.name);
    const description = normalizeDescription(data.description);
    const kind = data.kind ?? ChannelKind.PUBLIC;
    if (kind === ChannelKind.DIRECT) throw new BadUserInputError('kind', 'Direct channels come from openDirectChannel.');
    await this.services.throttle.check('createChannel', actor.userId);
    // A namesake deleted between our insert attempt and our read makes us try again.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const outcome = await this.transaction(em, async (tem): Promise<TxOutcome<ChannelSnapshot> | null> => {
        const inserted = await tem.execute<ChannelRow[]>(
          `insert into channels (id, name, description, kind, owner_id, member_count) values (?, ?, ?, ?, ?, 1)
           on conflict (name) do nothing returning ${RETURNING_CHANNEL}`,
          [randomUUID(), name, description, kind, actor.userId],
        );
        if (inserted[0]) {
          const channel = rowSnapshot(inserted[0]);
          await tem.execute(`insert into memberships (channel_id, user_id, role) values (?, ?, 'OWNER')`, [channel.id, actor.userId]);
          recordActivity(tem, actor.userId, ActivityAction.CHANNEL_CREATED, { channelId: channel.id, ip: actor.ip, userAgent: actor.userAgent });
          return { result: channel, events: [membershipAdded(actor.userId, channel.id)] };
        }
        const existing = await tem.execute<Array<{ id: string }>>(`select id from channels where name = ?`, [name]);
        if (!existing[0]) return null;
        const found = await this.lockNamesake(tem, actor.userId, existing[0].id);
        if (!found) return null;
        if (found.membership) return { result: found.snapshot, events: [] };
        return this.addMemberLocked(tem, found.snapshot, actor, { ip: actor.ip, userAgent: actor.userAgent });
      });
      if (outcome) return outcome;
    }
    throw new ConflictError('The channel name is changing hands; try again.', 'name');
  }

  /** Joins a PUBLIC channel (a no-op for members). PRIVATE and DIRECT ones need an invitation. */
  async join(em: EntityManager, actor: Actor, channelId: string): Promise<ChannelSnapshot> {
    return this.transaction(em, async (tem) => {
      const { snapshot, membership } = await requireChannelForViewer(tem, actor.userId, channelId, 'update');
      if (membership) return { result: snapshot, events: [] };
      return this.addMemberLocked(tem, snapshot, actor, { ip: actor.ip, userAgent: actor.userAgent });
    });
  }

  /**
   * Leaves a channel: true when the actor was a member. An owner's channel passes to the
   * longest-standing remaining member; a PRIVATE channel left by its last member is deleted;
   * a PUBLIC one stays, without an owner. DIRECT channels cannot be left.
   */
  async leave(em: EntityManager, actor: Actor, channelId: string): Promise<boolean> {
    return this.transaction(em, async (tem) => {
      const { snapshot, membership } = await requireChannelForViewer(tem, actor.userId, channelId, 'update');
      if (snapshot.kind === ChannelKind.DIRECT) throw new ForbiddenError('A direct conversation cannot be left.');
      if (!membership) return { result: false, events: [] };
      const removed = await this.removeMemberLocked(tem, snapshot, actor.userId, actor);
      return { result: removed !== null, events: removed ?? [] };
    });
  }

  /** A member of a PRIVATE channel adds another user to it. */
  async invite(em: EntityManager, actor: Actor, channelId: string, userId: string): Promise<ChannelSnapshot> {
    return this.transaction(em, async (tem) => {
      const { snapshot, membership } = await requireChannelForViewer(tem, actor.userId, channelId, 'update');
      if (!membership) throw new ForbiddenError('Join the channel first.');
      if (snapshot.kind !== ChannelKind.PRIVATE) throw new ForbiddenError('Only private channels take invitations; anyone can join a public one.');
      const invitee = await findUserSnapshot(tem, userId);
      if (!invitee) throw new NotFoundError('User');
      // The invitee's log does not get the inviter's address.
      return this.addMemberLocked(tem, snapshot, { userId: invitee.id }, {}, invitee);
    });
  }

  /** The owner removes another member. */
  async remove(em: EntityManager, actor: Actor, channelId: string, userId: string): Promise<ChannelSnapshot> {
    return this.transaction(em, async (tem) => {
      const { snapshot } = await requireChannelForViewer(tem, actor.userId, channelId, 'update');
      this.requireOwner(snapshot, actor.userId, 'remove members');
      if (userId === actor.userId) throw new BadUserInputError('userId', 'Use leaveChannel to leave your own channel.');
      if (!isUuid(userId)) throw new NotFoundError('Member');
      const events = await this.removeMemberLocked(tem, snapshot, userId, {});
      if (!events) throw new NotFoundError('Member');
      return { result: await this.reload(tem, snapshot.id), events };
    });
  }

  /** The owner renames or re-describes a channel. `public` keeps its name. */
  async update(em: EntityManager, actor: Actor, data: UpdateChannelData): Promise<ChannelSnapshot> {
    const name = data.name === undefined || data.name === null ? undefined : normalizeChannelName(data.name);
    const description = data.description === undefined ? undefined : normalizeDescription(data.description);
    try {
      return await this.transaction(em, async (tem) => {
        const { snapshot } = await requireChannelForViewer(tem, actor.userId, data.channelId, 'update');
        this.requireOwner(snapshot, actor.userId, 'update it');
        const rename = name !== undefined && name !== snapshot.name;
        if (rename && snapshot.name === DEFAULT_CHANNEL_NAME) throw new ForbiddenError(`The ${DEFAULT_CHANNEL_NAME} channel cannot be renamed.`);
        if (!rename && (description === undefined || description === snapshot.description)) return { result: snapshot, events: [] };
        if (rename) {
          const taken = await tem.execute(`select 1 from channels where name = ? and id <> ?`, [name, snapshot.id]);
          if (taken.length > 0) throw new ConflictError('A channel with this name already exists.', 'name');
        }
        const rows = await tem.execute<ChannelRow[]>(
          `update channels set name = ?, description = ?, updated_at = now() where id = ? returning ${RETURNING_CHANNEL}`,
          [rename ? name : snapshot.name, description === undefined ? snapshot.description : description, snapshot.id],
        );
        const updated = rowSnapshot(rows[0]);
        return { result: updated, events: [channelUpdated(updated)] };
      });
    } catch (error) {
      // Two renames to one new name at once: the unique index decides.
      if (error instanceof UniqueConstraintViolationException) throw new ConflictError('A channel with this name already exists.', 'name');
      throw error;
    }
  }

  /** The owner deletes a channel with its messages and memberships (FK cascades). */
  async delete(em: EntityManager, actor: Actor, channelId: string): Promise<boolean> {
    return this.transaction(em, async (tem) => {
      const { snapshot } = await requireChannelForViewer(tem, actor.userId, channelId, 'update');
      if (snapshot.name === DEFAULT_CHANNEL_NAME) throw new ForbiddenError(`The ${DEFAULT_CHANNEL_NAME} channel cannot be deleted.`);
      this.requireOwner(snapshot, actor.userId, 'delete it');
      const events = await this.deleteLocked(tem, snapshot.id);
      recordActivity(tem, actor.userId, ActivityAction.CHANNEL_DELETED, { channelId: snapshot.id, ip: actor.ip, userAgent: actor.userAgent });
      return { result: true, events };
    });
  }

  /**
   * The one DIRECT channel of the actor and another user, created on first use. The unique
   * `name` (`dm:<a>:<b>`) makes "one per pair" a constraint: when both open it at once, the
   * second insert does nothing and reads the first one's row. Opening one with yourself is
   * BAD_USER_INPUT.
   */
  async openDirect(em: EntityManager, actor: Actor, userId: string): Promise<ChannelSnapshot> {
    if (!isUuid(userId)) throw new NotFoundError('User');
    if (userId === actor.userId) throw new BadUserInputError('userId', 'A direct conversation needs another user.');
    const key = directChannelKey(actor.userId, userId);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const outcome = await this.transaction(em, async (tem): Promise<TxOutcome<ChannelSnapshot> | null> => {
        const peer = await findUserSnapshot(tem, userId);
        if (!peer) throw new NotFoundError('User');
        const inserted = await tem.execute<ChannelRow[]>(
          `insert into channels (id, name, kind, owner_id, member_count) values (?, ?, 'DIRECT', null, 0)
           on conflict (name) do nothing returning ${RETURNING_CHANNEL}`,
          [randomUUID(), key],
        );
        const created = inserted.length > 0;
        const row = created ? inserted[0] : (await tem.execute<ChannelRow[]>(`select ${RETURNING_CHANNEL} from channels where name = ? for update`, [key]))[0];
        if (!row) return null;
        if (created) recordActivity(tem, actor.userId, ActivityAction.DIRECT_OPENED, { channelId: row.id, ip: actor.ip, userAgent: actor.userAgent });
        // Both participants are members; normally only a new channel needs the rows.
        const added = await tem.execute<Array<{ user_id: string }>>(
          `insert into memberships (channel_id, user_id, role) values (?, ?, 'MEMBER'), (?, ?, 'MEMBER')
           on conflict do nothing returning user_id`,
          [row.id, actor.userId, row.id, userId],
        );
        if (added.length === 0) return { result: rowSnapshot(row), events: [] };
        const updated = await tem.execute<ChannelRow[]>(
          `update channels set member_count = member_count + ? where id = ? returning ${RETURNING_CHANNEL}`,
          [added.length, row.id],
        );
        const channel = rowSnapshot(updated[0]);
        const events: PendingEvent[] = [];
        for (const { user_id: addedId } of added) {
          if (!created) {
            const user = addedId === peer.id ? peer : await findUserSnapshot(tem, addedId);
            if (user) events.push(memberJoined(channel, user));
          }
          events.push(membershipAdded(addedId, channel.id));
        }
        return { result: channel, events };
      });
      if (outcome) return outcome;
    }
    throw new ConflictError('The direct conversation is changing; try again.');
  }

  /**
   * Moves the viewer's read marker to the message's sequence number, or to the newest message.
   * Markers only move forward: an older message (say, from a device that lags) changes nothing.
   */
  async markRead(em: EntityManager, actor: Actor, channelId: string, messageId: string | null | undefined): Promise<ChannelSnapshot> {
    const { snapshot, membership } = await requireChannelForViewer(em, actor.userId, channelId);
    if (!membership) throw new ForbiddenError('Join the channel first.');
    let seq = snapshot.lastSeq;
    if (messageId !== null && messageId !== undefined) {
      if (!isUuid(messageId)) throw new NotFoundError('Message');
      const rows = await em.execute<Array<{ seq: string }>>(`select seq from messages where id = ? and channel_id = ?`, [messageId, snapshot.id]);
      if (!rows[0]) throw new NotFoundError('Message');
      seq = Number(rows[0].seq);
    }
    await em.execute(
      `update memberships set last_read_seq = greatest(last_read_seq, ?) where channel_id = ? and user_id = ?`,
      [seq, snapshot.id, actor.userId],
    );
    return snapshot;
  }

  // ---- Internals ----

  /** Runs `work` in a transaction, then publishes its events (only after the commit). */
  private async transaction<T>(em: EntityManager, work: (tem: EntityManager) => Promise<TxOutcome<T>>): Promise<T>;
  private async transaction<T>(em: EntityManager, work: (tem: EntityManager) => Promise<TxOutcome<T> | null>): Promise<T | null>;
  private async transaction<T>(em: EntityManager, work: (tem: EntityManager) => Promise<TxOutcome<T> | null>): Promise<T | null> {
    const outcome = await em.transactional((tem) => work(tem as EntityManager));
    if (!outcome) return null;
    // Called in order, so each topic gets its events in order (one Redis connection publishes).
    await Promise.all(outcome.events.map((event) => this.services.bus.publish(event.topic, event.payload)));
    return outcome.result;
  }

  private requireOwner(channel: ChannelSnapshot, userId: string, what: string): void {
    if (channel.ownerId !== userId) throw new ForbiddenError(`Only the channel's owner can ${what}.`);
  }

  /**
   * Locks the channel whose name the actor asked for. A PRIVATE one they are not in is a
   * CONFLICT: names are unique, so the name is taken even where the channel is hidden.
   */
  private async lockNamesake(tem: EntityManager, userId: string, channelId: string) {
    const rows = await tem.execute<ChannelWithMembershipRow[]>(
      `select ${CHANNEL_COLUMNS}, m.role as member_role, m.last_read_seq as member_last_read_seq
         from channels c left join memberships m on m.channel_id = c.id and m.user_id = ?
        where c.id = ? for update of c`,
      [userId, channelId],
    );
    const row = rows[0];
    if (!row) return null;
    const membership = rowMembership(row);
    if (row.kind !== ChannelKind.PUBLIC && !membership) {
      throw new ConflictError('A channel with this name already exists.', 'name');
    }
    return { snapshot: rowSnapshot(row), membership };
  }

  private async reload(tem: EntityManager, channelId: string): Promise<ChannelSnapshot> {
    const rows = await tem.execute<ChannelRow[]>(`select ${RETURNING_CHANNEL} from channels where id = ?`, [channelId]);
    return rowSnapshot(rows[0]);
  }

  /** Adds a member to a locked channel; nothing happens (and nothing is counted) when they already are one. */
  private async addMemberLocked(
    tem: EntityManager,
    channel: ChannelSnapshot,
    member: Actor,
    log: { ip?: string | null; userAgent?: string | null },
    knownUser?: UserSnapshot,
  ): Promise<TxOutcome<ChannelSnapshot>> {
    const inserted = await tem.execute<Array<{ user_id: string }>>(
      `insert into memberships (channel_id, user_id, role) values (?, ?, 'MEMBER') on conflict do nothing returning user_id`,
      [channel.id, member.userId],
    );
    if (inserted.length === 0) return { result: channel, events: [] };
    const rows = await tem.execute<ChannelRow[]>(
      `update channels set member_count = member_count + 1 where id = ? returning ${RETURNING_CHANNEL}`,
      [channel.id],
    );
    const updated = rowSnapshot(rows[0]);
    recordActivity(tem, member.userId, ActivityAction.CHANNEL_JOINED, { channelId: channel.id, ip: log.ip, userAgent: log.userAgent });
    const user = knownUser ?? (await findUserSnapshot(tem, member.userId));
    const events = [membershipAdded(member.userId, channel.id)];
    if (user) events.unshift(memberJoined(updated, user));
    return { result: updated, events };
  }

  /**
   * Removes a member from a locked channel, handing ownership on or deleting the channel when
   * needed. Null when they were not a member.
   */
  private async removeMemberLocked(
    tem: EntityManager,
    channel: ChannelSnapshot,
    userId: string,
    log: { ip?: string | null; userAgent?: string | null },
  ): Promise<PendingEvent[] | null> {
    const deleted = await tem.execute<Array<{ role: MemberRole }>>(
      `delete from memberships where channel_id = ? and user_id = ? returning role`,
      [channel.id, userId],
    );
    if (deleted.length === 0) return null;
    const rows = await tem.execute<ChannelRow[]>(
      `update channels set member_count = member_count - 1 where id = ? returning ${RETURNING_CHANNEL}`,
      [channel.id],
    );
    let current = rowSnapshot(rows[0]);
    recordActivity(tem, userId, ActivityAction.CHANNEL_LEFT, { channelId: channel.id, ip: log.ip, userAgent: log.userAgent });
    const user = await findUserSnapshot(tem, userId);
    const events: PendingEvent[] = [];
    if (user) events.push(memberLeft(current, user));
    events.push(membershipRemoved(userId, channel.id));

    if (current.memberCount <= 0 && current.kind === ChannelKind.PRIVATE) {
      // Nobody could ever see it again.
      events.push(...(await this.deleteLocked(tem, channel.id)));
      recordActivity(tem, userId, ActivityAction.CHANNEL_DELETED, { channelId: channel.id, ip: log.ip, userAgent: log.userAgent });
      return events;
    }
    if (deleted[0].role === MemberRole.OWNER || current.ownerId === userId) {
      const next = await tem.execute<Array<{ user_id: string }>>(
        `select user_id from memberships where channel_id = ? order by joined_at, user_id limit 1`,
        [channel.id],
      );
      const heir = next[0]?.user_id ?? null;
      if (heir) await tem.execute(`update memberships set role = 'OWNER' where channel_id = ? and user_id = ?`, [channel.id, heir]);
      const updated = await tem.execute<ChannelRow[]>(
        `update channels set owner_id = ?, updated_at = now() where id = ? returning ${RETURNING_CHANNEL}`,
        [heir, channel.id],
      );
      current = rowSnapshot(updated[0]);
      events.push(channelUpdated(current));
    }
    return events;
  }

  /** Deletes a locked channel; the events tell its subscribers and every former member. */
  private async deleteLocked(tem: EntityManager, channelId: string): Promise<PendingEvent[]> {
    const members = await tem.execute<Array<{ user_id: string }>>(`select user_id from memberships where channel_id = ?`, [channelId]);
    await tem.execute(`delete from channels where id = ?`, [channelId]);
    return [channelDeleted(channelId), ...members.map((m) => membershipRemoved(m.user_id, channelId))];
  }
}
