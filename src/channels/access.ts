import type { EntityManager } from '@mikro-orm/postgresql';
import { ForbiddenError, NotFoundError } from '../shared/errors';
import { isUuid } from '../shared/ids';
import { Channel, ChannelKind } from './channel.entity';
import { Membership } from './membership.entity';

/**
 * Who may see and use a channel, in one place for every feature:
 * - PUBLIC: every signed-in user can see and read it; sending needs membership.
 * - PRIVATE and DIRECT: only members; to anyone else they do not exist (NOT_FOUND, never FORBIDDEN).
 */
export interface ChannelAccess {
  channel: Channel;
  membership: Membership | null;
}

/** The channel and the viewer's membership, or null when it does not exist or is invisible to the viewer. */
export async function findVisibleChannel(em: EntityManager, viewerId: string, channelId: string): Promise<ChannelAccess | null> {
  if (!isUuid(channelId)) return null;
  const channel = await em.findOne(Channel, { id: channelId });
  if (!channel) return null;
  const membership = await em.findOne(Membership, { channel: channelId, user: viewerId });
  if (channel.kind !== ChannelKind.PUBLIC && !membership) return null;
  return { channel, membership };
}

/** As findVisibleChannel, but NOT_FOUND when it is missing or invisible. */
export async function requireVisibleChannel(em: EntityManager, viewerId: string, channelId: string): Promise<ChannelAccess> {
  const access = await findVisibleChannel(em, viewerId, channelId);
  if (!access) throw new NotFoundError('Channel');
  return access;
}

/** The viewer must be a member: NOT_FOUND when invisible, FORBIDDEN for a PUBLIC channel they have not joined. */
export async function requireMembership(em: EntityManager, viewerId: string, channelId: string): Promise<Required<{ channel: Channel; membership: Membership }>> {
  const access = await requireVisibleChannel(em, viewerId, channelId);
  if (!access.membership) throw new ForbiddenError('Join the channel first.');
  return { channel: access.channel, membership: access.membership };
}
