// Per-request DataLoaders for channel fields: each costs one SQL statement per request,
// however many channels a response holds.
import type { RequestContext } from '../shared/context';
import type { ChannelSnapshot, UserSnapshot } from '../domain/snapshots';
import { userLoader } from '../accounts/user.loader';
import { isUuid } from '../shared/ids';
import {
  CHANNEL_COLUMNS,
  type ChannelWithMembershipRow,
  isVisible,
  rowMembership,
  rowSnapshot,
  USER_COLUMNS,
  userRowSnapshot,
  type ViewerMembership,
} from './channel.rows';

/** The viewer's membership of each channel (null when not a member or signed out). */
export function membershipLoader(ctx: RequestContext) {
  return ctx.loaders.get<string, ViewerMembership | null>('channels:viewerMembership', async (channelIds) => {
    const viewerId = ctx.viewer?.userId;
    if (!viewerId) return channelIds.map(() => null);
    const rows = await ctx.em.execute<Array<{ channel_id: string; role: ViewerMembership['role']; last_read_seq: string }>>(
      `select channel_id, role, last_read_seq from memberships where user_id = ? and channel_id in (?)`,
      [viewerId, [...channelIds]],
    );
    const byChannel = new Map(rows.map((row) => [row.channel_id, { role: row.role, lastReadSeq: Number(row.last_read_seq) }]));
    return channelIds.map((id) => byChannel.get(id) ?? null);
  });
}

/**
 * Unread messages per channel for the viewer: messages by others, not deleted, after the read
 * marker. A range scan on the unique (channel_id, seq) index from each marker, for every
 * requested channel in one statement. Non-members get 0.
 */
export function unreadCountLoader(ctx: RequestContext) {
  return ctx.loaders.get<string, number>('channels:unreadCount', async (channelIds) => {
    const viewerId = ctx.viewer?.userId;
    if (!viewerId) return channelIds.map(() => 0);
    const rows = await ctx.em.execute<Array<{ channel_id: string; unread: number }>>(
      `select mb.channel_id, count(msg.id)::int as unread
         from memberships mb
         join messages msg on msg.channel_id = mb.channel_id and msg.seq > mb.last_read_seq
        where mb.user_id = ? and mb.channel_id in (?) and msg.author_id <> ? and msg.deleted_at is null
        group by mb.channel_id`,
      [viewerId, [...channelIds], viewerId],
    );
    const byChannel = new Map(rows.map((row) => [row.channel_id, Number(row.unread)]));
    return channelIds.map((id) => byChannel.get(id) ?? 0);
  });
}

export interface MembersPageKey {
  channelId: string;
  limit: number;
  /** Exclusive lower bound on the member's user id. */
  afterUserId: string | null;
}

export interface MembersPage {
  users: UserSnapshot[];
  hasNextPage: boolean;
}

const pageKey = (key: MembersPageKey) => `${key.channelId}|${key.limit}|${key.afterUserId ?? ''}`;

/**
 * Member pages, keyset on user id (the memberships primary key (channel_id, user_id) serves
 * it). Keys with the same page arguments share one statement: a lateral join per channel.
 */
export function membersLoader(ctx: RequestContext) {
  const loader = ctx.loaders.get<string, MembersPage>('channels:members', async (keys) => {
    const groups = new Map<string, MembersPageKey[]>();
    for (const text of keys) {
      const [channelId, limit, after] = text.split('|');
      const key = { channelId, limit: Number(limit), afterUserId: after || null };
      const group = `${key.limit}|${after}`;
      groups.set(group, [...(groups.get(group) ?? []), key]);
    }
    const pages = new Map<string, MembersPage>();
    for (const group of groups.values()) {
      const { limit, afterUserId } = group[0];
      const channelIds = [...new Set(group.map((key) => key.channelId))];
      const rows = await ctx.em.execute<Array<{ channel_id: string } & Parameters<typeof userRowSnapshot>[0]>>(
        `select c.id as channel_id, x.*
           from channels c
           cross join lateral (
             select ${USER_COLUMNS}
               from memberships m join users u on u.id = m.user_id
              where m.channel_id = c.id${afterUserId ? ' and m.user_id > ?' : ''}
              order by m.user_id
              limit ?
           ) x
          where c.id in (?)`,
        [...(afterUserId ? [afterUserId] : []), limit + 1, channelIds],
      );
      for (const channelId of channelIds) {
        const users = rows.filter((row) => row.channel_id === channelId).map(userRowSnapshot);
        pages.set(pageKey({ channelId, limit, afterUserId }), { users: users.slice(0, limit), hasNextPage: users.length > limit });
      }
    }
    const users = userLoader(ctx);
    for (const page of pages.values()) for (const user of page.users) users.prime(user.id, user);
    return keys.map((key) => pages.get(key) ?? { users: [], hasNextPage: false });
  });
  return { load: (key: MembersPageKey) => loader.load(pageKey(key)) };
}

/**
 * Channels by id as the viewer may see them (null when missing or invisible): for other
 * features' fields such as `Message.channel` or `ActivityEntry.channel`.
 */
export function visibleChannelLoader(ctx: RequestContext) {
  return ctx.loaders.get<string, ChannelSnapshot | null>('channels:visibleById', async (channelIds) => {
    const viewerId = ctx.viewer?.userId;
    const ids = channelIds.filter(isUuid);
    if (!viewerId || ids.length === 0) return channelIds.map(() => null);
    const rows = await ctx.em.execute<ChannelWithMembershipRow[]>(
      `select ${CHANNEL_COLUMNS}, m.role as member_role, m.last_read_seq as member_last_read_seq
         from channels c left join memberships m on m.channel_id = c.id and m.user_id = ?
        where c.id in (?)`,
      [viewerId, ids],
    );
    const memberships = membershipLoader(ctx);
    const byId = new Map<string, ChannelSnapshot>();
    for (const row of rows) {
      memberships.prime(row.id, rowMembership(row));
      if (isVisible(row)) byId.set(row.id, rowSnapshot(row));
    }
    return channelIds.map((id) => byId.get(id) ?? null);
  });
}
