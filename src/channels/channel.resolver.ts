import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Services } from '../services';
import type { RequestContext, Viewer } from '../shared/context';
import { CurrentUser } from '../shared/current-user';
import { decodeCursor, encodeCursor, pageSize, type Connection } from '../shared/relay';
import type { ChannelSnapshot, UserSnapshot } from '../domain/snapshots';
import { userLoader } from '../accounts/user.loader';
import { UserConnection, UserType } from '../accounts/user.types';
import { ChannelKind } from './channel.entity';
import { ChannelConnection, ChannelType, CreateChannelInput, UpdateChannelInput } from './channel.types';
import { type Actor, channelCursor } from './channel.service';
import { membershipLoader, membersLoader, unreadCountLoader } from './channel.loader';
import { isUuid } from '../shared/ids';
import { BadUserInputError } from '../shared/errors';

const MEMBER_CURSOR = 'member';

function actor(viewer: Viewer, ctx: RequestContext): Actor {
  return { userId: viewer.userId, ip: ctx.ip, userAgent: ctx.userAgent };
}

/** The other participant of a DIRECT channel, from the viewer's side. */
function peerId(channel: ChannelSnapshot, viewerId: string | undefined): string | null {
  if (channel.kind !== ChannelKind.DIRECT || !channel.directUserIds) return null;
  const [a, b] = channel.directUserIds;
  if (viewerId === a) return b;
  if (viewerId === b) return a;
  return null;
}

@Resolver(() => ChannelType)
export class ChannelResolver {
  constructor(private readonly services: Services) {}

  // ---- Queries ----

  @Query(() => ChannelType, { nullable: true, description: 'Null when it does not exist or the viewer may not see it.' })
  async channel(@Arg('id', () => ID) id: string, @CurrentUser() viewer: Viewer, @Ctx() ctx: RequestContext): Promise<ChannelSnapshot | null> {
    return this.services.channels.find(ctx.em, viewer.userId, id);
  }

  @Query(() => ChannelConnection, { description: 'The directory of PUBLIC channels.' })
  async channels(
    @Arg('search', () => String, { nullable: true }) search: string | null,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @CurrentUser() _viewer: Viewer,
    @Ctx() ctx: RequestContext,
  ): Promise<Connection<ChannelSnapshot>> {
    const page = await this.services.channels.directory(ctx.em, search, first, after);
    const edges = page.nodes.map((node) => ({ cursor: channelCursor(node), node }));
    return {
      edges,
      pageInfo: {
        hasNextPage: page.hasNextPage,
        hasPreviousPage: page.hasPreviousPage,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges[edges.length - 1]?.cursor ?? null,
      },
    };
  }

  @Query(() => [ChannelType], { description: 'Every channel the viewer belongs to, DIRECT ones included.' })
  async myChannels(@CurrentUser() viewer: Viewer, @Ctx() ctx: RequestContext): Promise<ChannelSnapshot[]> {
    const mine = await this.services.channels.mine(ctx.em, viewer.userId);
    // The memberships came with the channels: isMember costs no further statement.
    const memberships = membershipLoader(ctx);
    for (const { channel, membership } of mine) memberships.prime(channel.id, membership);
    return mine.map(({ channel }) => channel);
  }

  // ---- Mutations ----

  @Mutation(() => ChannelType, { description: 'Creates a channel; when a PUBLIC one with that name (case-insensitive) exists, joins it and returns it.' })
  async createChannel(@Arg('input', () => CreateChannelInput) input: CreateChannelInput, @CurrentUser() viewer: Viewer, @Ctx() ctx: RequestContext): Promise<ChannelSnapshot> {
    // Only the known fields reach the service.
    const channel = await this.services.channels.create(ctx.em, actor(viewer, ctx), { name: input.name, description: input.description, kind: input.kind });
    ctx.loaders.clearAll();
    return channel;
  }

  @Mutation(() => ChannelType)
  async joinChannel(@Arg('channelId', () => ID) channelId: string, @CurrentUser() viewer: Viewer, @Ctx() ctx: RequestContext): Promise<ChannelSnapshot> {
    const channel = await this.services.channels.join(ctx.em, actor(viewer, ctx), channelId);
    ctx.loaders.clearAll();
    return channel;
  }

  @Mutation(() => Boolean, { description: 'True when the viewer was a member and left.' })
  async leaveChannel(@Arg('channelId', () => ID) channelId: string, @CurrentUser() viewer: Viewer, @Ctx() ctx: RequestContext): Promise<boolean> {
    const left = await this.services.channels.leave(ctx.em, actor(viewer, ctx), channelId);
    ctx.loaders.clearAll();
    return left;
  }

  @Mutation(() => ChannelType, { description: 'Adds a user to a PRIVATE channel the viewer belongs to.' })
  async inviteToChannel(
    @Arg('channelId', () => ID) channelId: string,
    @Arg('userId', () => ID) userId: string,
    @CurrentUser() viewer: Viewer,
    @Ctx() ctx: RequestContext,
  ): Promise<ChannelSnapshot> {
    const channel = await this.services.channels.invite(ctx.em, actor(viewer, ctx), channelId, userId);
    ctx.loaders.clearAll();
    return channel;
  }

  @Mutation(() => ChannelType, { description: 'The owner removes a member.' })
  async removeFromChannel(
    @Arg('channelId', () => ID) channelId: string,
    @Arg('userId', () => ID) userId: string,
    @CurrentUser() viewer: Viewer,
    @Ctx() ctx: RequestContext,
  ): Promise<ChannelSnapshot> {
    const channel = await this.services.channels.remove(ctx.em, actor(viewer, ctx), channelId, userId);
    ctx.loaders.clearAll();
    return channel;
  }

  @Mutation(() => ChannelType, { description: 'The owner renames or re-describes a channel.' })
  async updateChannel(@Arg('input', () => UpdateChannelInput) input: UpdateChannelInput, @CurrentUser() viewer: Viewer, @Ctx() ctx: RequestContext): Promise<ChannelSnapshot> {
    const channel = await this.services.channels.update(ctx.em, actor(viewer, ctx), {
      channelId: input.channelId,
      name: input.name,
      description: input.description,
    });
    ctx.loaders.clearAll();
    return channel;
  }

  @Mutation(() => Boolean, { description: 'The owner deletes a channel and its messages.' })
  async deleteChannel(@Arg('channelId', () => ID) channelId: string, @CurrentUser() viewer: Viewer, @Ctx() ctx: RequestContext): Promise<boolean> {
    const deleted = await this.services.channels.delete(ctx.em, actor(viewer, ctx), channelId);
    ctx.loaders.clearAll();
    return deleted;
  }

  @Mutation(() => ChannelType, { description: 'The one DIRECT channel between the viewer and that user, created on first use.' })
  async openDirectChannel(@Arg('userId', () => ID) userId: string, @CurrentUser() viewer: Viewer, @Ctx() ctx: RequestContext): Promise<ChannelSnapshot> {
    const channel = await this.services.channels.openDirect(ctx.em, actor(viewer, ctx), userId);
    ctx.loaders.clearAll();
    return channel;
  }

  @Mutation(() => ChannelType, { description: 'Moves the viewer\'s read marker to the given message, or to the newest one.' })
  async markRead(
    @Arg('channelId', () => ID) channelId: string,
    @Arg('messageId', () => ID, { nullable: true }) messageId: string | null,
    @CurrentUser() viewer: Viewer,
    @Ctx() ctx: RequestContext,
  ): Promise<ChannelSnapshot> {
    const channel = await this.services.channels.markRead(ctx.em, actor(viewer, ctx), channelId, messageId);
    ctx.loaders.clearAll();
    return channel;
  }

  // ---- Fields ----

  @FieldResolver(() => String, { description: "For DIRECT channels, the other participant's username." })
  async name(@Root() channel: ChannelSnapshot, @Ctx() ctx: RequestContext): Promise<string> {
    if (channel.kind !== ChannelKind.DIRECT) return channel.name;
    // The stored name is the `dm:<a>:<b>` key, never shown.
    const peer = peerId(channel, ctx.viewer?.userId);
    const ids = peer ? [peer] : (channel.directUserIds ?? []);
    const users = await userLoader(ctx).loadMany(ids);
    const names = users.filter((user): user is UserSnapshot => Boolean(user) && !(user instanceof Error)).map((user) => user.username);
    return names.length > 0 ? names.join(', ') : 'direct';
  }

  @FieldResolver(() => UserType, { nullable: true })
  async owner(@Root() channel: ChannelSnapshot, @Ctx() ctx: RequestContext): Promise<UserSnapshot | null> {
    return channel.ownerId ? userLoader(ctx).load(channel.ownerId) : null;
  }

  @FieldResolver(() => UserType, { nullable: true, description: 'For DIRECT channels, the other participant; null otherwise.' })
  async peer(@Root() channel: ChannelSnapshot, @Ctx() ctx: RequestContext): Promise<UserSnapshot | null> {
    const id = peerId(channel, ctx.viewer?.userId);
    return id ? userLoader(ctx).load(id) : null;
  }

  @FieldResolver(() => Boolean)
  async isMember(@Root() channel: ChannelSnapshot, @Ctx() ctx: RequestContext): Promise<boolean> {
    if (!ctx.viewer) return false;
    return (await membershipLoader(ctx).load(channel.id)) !== null;
  }

  @FieldResolver(() => Int, { description: "Messages by others after the viewer's read marker." })
  async unreadCount(@Root() channel: ChannelSnapshot, @Ctx() ctx: RequestContext): Promise<number> {
    // Nothing was sent since the channel began: no statement needed.
    if (!ctx.viewer || channel.lastSeq === 0) return 0;
    return unreadCountLoader(ctx).load(channel.id);
  }

  @FieldResolver(() => UserConnection, { description: 'Members in a stable order (by user id).' })
  async members(
    @Root() channel: ChannelSnapshot,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<Connection<UserSnapshot>> {
    const limit = pageSize(first, 'first');
    const afterUserId = after === null || after === undefined ? null : decodeCursor(MEMBER_CURSOR, after, 'after');
    if (afterUserId !== null && !isUuid(afterUserId)) throw new BadUserInputError('after', 'after is not a valid cursor.');
    const empty = { edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } };
    // Members of a PRIVATE or DIRECT channel are for its members only.
    if (channel.kind !== ChannelKind.PUBLIC && (!ctx.viewer || !(await membershipLoader(ctx).load(channel.id)))) return empty;
    const page = await membersLoader(ctx).load({ channelId: channel.id, limit, afterUserId });
    const edges = page.users.map((node) => ({ cursor: encodeCursor(MEMBER_CURSOR, node.id), node }));
    return {
      edges,
      pageInfo: {
        hasNextPage: page.hasNextPage,
        hasPreviousPage: afterUserId !== null,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges[edges.length - 1]?.cursor ?? null,
      },
    };
  }
}
