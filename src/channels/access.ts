import type { ChannelSnapshot } from '../domain/snapshots';
import type { ChannelDirectory } from '../realtime/realtime.service';
import { ForbiddenError, NotFoundError } from '../shared/errors';
import { isUuid } from '../shared/ids';
import { carryingSessionCheck, type PendingSessionCheck } from '../shared/context';
import type { SqlClient, SqlPool } from '../shared/sql';
import { ChannelKind } from './channel.entity';
import {
  channelAccessLoader,
  type ChannelWithMembershipRow,
  channelRowSnapshot,
  lockChannelForViewer,
  memberChannelIds,
  rowMembership,
  type ViewerMembership,
} from './channel.queries';

/** A channel as one viewer may use it. */
export interface ChannelAccess {
  channel: ChannelSnapshot;
  membership: ViewerMembership | null;
}

/**
 * Who may see and use a channel, in one place for every feature:
 * - PUBLIC: every signed-in user can see and read it; sending needs membership.
 * - PRIVATE and DIRECT: only members; to anyone else they do not exist (NOT_FOUND, never FORBIDDEN).
 */
export function accessOf(row: ChannelWithMembershipRow | null): ChannelAccess | null {
  if (!row) return null;
  const membership = rowMembership(row);
  if (row.kind !== ChannelKind.PUBLIC && !membership) return null;
  return { channel: channelRowSnapshot(row), membership };
}

/** The membership a write needs: NOT_FOUND when invisible, FORBIDDEN for a PUBLIC channel not joined. */
export function requireJoined(access: ChannelAccess | null): { channel: ChannelSnapshot; membership: ViewerMembership } {
  if (!access) throw new NotFoundError('Channel');
  if (!access.membership) throw new ForbiddenError('Join the channel first.');
  return { channel: access.channel, membership: access.membership };
}

/**
 * Channel access for every feature (and the realtime engine, as its ChannelDirectory). Every
 * check reads the channel and the viewer's membership fresh; the checks of concurrent requests
 * share one statement.
 */
export class ChannelAccessControl implements ChannelDirectory {
  private readonly loader: ReturnType<typeof channelAccessLoader>;

  constructor(private readonly sql: SqlPool) {
    this.loader = channelAccessLoader(sql);
  }

  /**
   * The channel and the viewer's membership, or null when it does not exist or is invisible to
   * the viewer. `check`: the request's pending session check, carried by the same statement.
   */
  async findVisible(viewerId: string, channelId: string, check: PendingSessionCheck | null = null): Promise<ChannelAccess | null> {
    if (!isUuid(channelId) || !isUuid(viewerId)) return null;
    if (!check) return accessOf(await this.loader.load(viewerId, channelId));
    const read = await carryingSessionCheck(
      check,
      async (sessionId) => (sessionId ? this.loader.loadChecking(viewerId, channelId, sessionId) : { channel: await this.loader.load(viewerId, channelId), session: null }),
      (result) => result.session,
    );
    return accessOf(read.channel);
  }

  /** As findVisible, but NOT_FOUND when it is missing or invisible. */
  async requireVisible(viewerId: string, channelId: string, check: PendingSessionCheck | null = null): Promise<ChannelAccess> {
    const access = await this.findVisible(viewerId, channelId, check);
    if (!access) throw new NotFoundError('Channel');
    return access;
  }

  /** The viewer must be a member: NOT_FOUND when invisible, FORBIDDEN for a PUBLIC channel they have not joined. */
  async requireMember(viewerId: string, channelId: string): Promise<{ channel: ChannelSnapshot; membership: ViewerMembership }> {
    return requireJoined(await this.findVisible(viewerId, channelId));
  }

  /** As requireVisible, locking the channel row for the rest of the transaction. */
  async requireLocked(tx: SqlClient, viewerId: string, channelId: string): Promise<ChannelAccess> {
    const access = isUuid(channelId) ? accessOf(await lockChannelForViewer(tx, viewerId, channelId)) : null;
    if (!access) throw new NotFoundError('Channel');
    return access;
  }

  memberChannelIds(userId: string): Promise<string[]> {
    return memberChannelIds(this.sql, userId);
  }
}
