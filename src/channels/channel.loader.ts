// Per-request DataLoaders for channel fields: each costs at most one SQL statement per request,
// however many channels a response holds.
import type { ChannelSnapshot, UserSnapshot } from '../domain/snapshots';
import type { UserDirectory } from '../accounts/user.loader';
import type { RequestScope } from '../shared/context';
import type { SqlPool } from '../shared/sql';
import type { ChannelAccess, ChannelAccessControl } from './access';
import { memberPages, unreadCounts, type ViewerMembership, viewerMemberships } from './channel.queries';

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

export class ChannelLoaders {
  constructor(
    private readonly sql: SqlPool,
    private readonly access: ChannelAccessControl,
    private readonly users: UserDirectory,
  ) {}

  /** The viewer's membership of each channel (null when not a member or signed out). */
  memberships(scope: RequestScope) {
    return scope.loaders.get<string, ViewerMembership | null>('channels:viewerMembership', async (channelIds) => {
      const viewerId = scope.viewer?.userId;
      if (!viewerId) return channelIds.map(() => null);
      const byChannel = await viewerMemberships(this.sql, viewerId, channelIds);
      return channelIds.map((id) => byChannel.get(id) ?? null);
    });
  }

  /** Unread messages per channel for the viewer; 0 for non-members. */
  unreadCounts(scope: RequestScope) {
    return scope.loaders.get<string, number>('channels:unreadCount', async (channelIds) => {
      const viewerId = scope.viewer?.userId;
      if (!viewerId) return channelIds.map(() => 0);
      const byChannel = await unreadCounts(this.sql, viewerId, channelIds);
      return channelIds.map((id) => byChannel.get(id) ?? 0);
    });
  }

  /** Member pages; keys with the same page arguments share one statement. */
  members(scope: RequestScope) {
    const loader = scope.loaders.get<string, MembersPage>('channels:members', async (keys) => {
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
        const found = await memberPages(this.sql, channelIds, afterUserId, limit + 1);
        for (const channelId of channelIds) {
          const users = found.get(channelId) ?? [];
          pages.set(pageKey({ channelId, limit, afterUserId }), { users: users.slice(0, limit), hasNextPage: users.length > limit });
        }
      }
      const users = this.users.loader(scope);
      for (const page of pages.values()) for (const user of page.users) users.prime(user.id, user);
      return keys.map((key) => pages.get(key) ?? { users: [], hasNextPage: false });
    });
    return { load: (key: MembersPageKey) => loader.load(pageKey(key)) };
  }

  /**
   * Channels by id as the viewer may see them (null when missing or invisible): for other
   * features' fields such as `Message.channel` or `ActivityEntry.channel`.
   */
  visibleChannels(scope: RequestScope) {
    return scope.loaders.get<string, ChannelSnapshot | null>('channels:visibleById', async (channelIds) => {
      const viewerId = scope.viewer?.userId;
      if (!viewerId) return channelIds.map(() => null);
      const found = await Promise.all(channelIds.map((id) => this.access.findVisible(viewerId, id)));
      const memberships = this.memberships(scope);
      return found.map((access, index) => {
        if (access) memberships.prime(channelIds[index], access.membership);
        return access?.channel ?? null;
      });
    });
  }

  /** A channel the request already read with the viewer's membership: its fields need no statement. */
  prime(scope: RequestScope, { channel, membership }: ChannelAccess): void {
    this.visibleChannels(scope).prime(channel.id, channel);
    this.memberships(scope).prime(channel.id, membership);
  }
}
