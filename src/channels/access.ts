import type { ChannelSnapshot } from '../domain/snapshots';
import { ForbiddenError, NotFoundError } from '../shared/errors';
import { isUuid } from '../shared/ids';
import type { SqlPool } from '../shared/sql';
import { CHANNEL_COLUMNS, type ChannelWithMembershipRow, isVisible, rowMembership, rowSnapshot, type ViewerMembership } from './channel.rows';

/**
 * Who may see and use a channel, in one place for every feature:
 * - PUBLIC: every signed-in user can see and read it; sending needs membership.
 * - PRIVATE and DIRECT: only members; to anyone else they do not exist (NOT_FOUND, never FORBIDDEN).
 */
export interface ChannelAccess {
  channel: ChannelSnapshot;
  membership: ViewerMembership | null;
}

type AccessRow = ChannelWithMembershipRow & { viewer_id: string };

const accessKey = (viewerId: string, channelId: string) => `${viewerId.toLowerCase()}|${channelId.toLowerCase()}`;

/**
 * The channel with the viewer's membership, read fresh for every check; the checks of
 * concurrent requests (any viewers, any channels) share one statement.
 */
function channelAccessLoader(sql: SqlPool) {
  return sql.batchLoader<string, AccessRow | null>('channel_access', async (keys) => {
    const viewers: string[] = [];
    const channels: string[] = [];
    for (const key of keys) {
      const [viewerId, channelId] = key.split('|');
      viewers.push(viewerId);
      channels.push(channelId);
    }
    const rows = await sql.query<AccessRow>(
      `select k.viewer_id, ${CHANNEL_COLUMNS}, m.role as member_role, m.last_read_seq as member_last_read_seq
         from unnest($1::uuid[], $2::uuid[]) as k(channel_id, viewer_id)
         join channels c on c.id = k.channel_id
         left join memberships m on m.channel_id = c.id and m.user_id = k.viewer_id`,
      [channels, viewers],
      'channel_access',
    );
    const byKey = new Map(rows.map((row) => [accessKey(row.viewer_id, row.id), row]));
    return keys.map((key) => byKey.get(key) ?? null);
  });
}

/** The channel and the viewer's membership, or null when it does not exist or is invisible to the viewer. */
export async function findVisibleChannel(sql: SqlPool, viewerId: string, channelId: string): Promise<ChannelAccess | null> {
  if (!isUuid(channelId) || !isUuid(viewerId)) return null;
  const row = await channelAccessLoader(sql).load(accessKey(viewerId, channelId));
  if (!row || !isVisible(row)) return null;
  return { channel: rowSnapshot(row), membership: rowMembership(row) };
}

/** As findVisibleChannel, but NOT_FOUND when it is missing or invisible. */
export async function requireVisibleChannel(sql: SqlPool, viewerId: string, channelId: string): Promise<ChannelAccess> {
  const access = await findVisibleChannel(sql, viewerId, channelId);
  if (!access) throw new NotFoundError('Channel');
  return access;
}

/** The viewer must be a member: NOT_FOUND when invisible, FORBIDDEN for a PUBLIC channel they have not joined. */
export async function requireMembership(sql: SqlPool, viewerId: string, channelId: string): Promise<{ channel: ChannelSnapshot; membership: ViewerMembership }> {
  const access = await requireVisibleChannel(sql, viewerId, channelId);
  if (!access.membership) throw new ForbiddenError('Join the channel first.');
  return { channel: access.channel, membership: access.membership };
}
