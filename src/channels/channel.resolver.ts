import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext, Viewer } from '../shared/context';
import { CurrentUser } from '../shared/current-user';
import { connectionOf, decodeCursor, encodeCursor, pageSize, type Connection } from '../shared/relay';
import type { ChannelSnapshot, UserSnapshot } from '../domain/snapshots';
import type { ActivityRecord } from '../accounts/account.service';
import { ActivityEntryType } from '../accounts/activity.types';
import type { UserDirectory } from '../accounts/user.loader';
import { UserConnection, UserType } from '../accounts/user.types';
import { ChannelKind } from './channel.entity';
import { MemberRole } from './membership.entity';
import { ChannelConnection, ChannelType, CreateChannelInput, UpdateChannelInput } from './channel.types';
import { channelCursor, type ChannelService } from './channel.service';
import type { ChannelLoaders } from './channel.loader';
import { isUuid } from '../shared/ids';
import { BadUserInputError } from '../shared/errors';
import { PerViewer, ViewerAccessCheck } from '../shared/viewer-field';

const MEMBER_CURSOR = 'member';

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
  constructor(
    private readonly service: ChannelService,
    private readonly loaders: ChannelLoaders,
    private readonly userDirectory: UserDirectory,
  ) {}

  // ---- Queries ----

  @Query(() => ChannelType, { nullable: true, description: 'Null when it does not exist or the viewer may not see it.' })
  async channel(@Arg('id', () => ID) id: string, @CurrentUser() _viewer: Viewer, @Ctx() ctx: RequestContext): Promise<ChannelSnapshot | null> {
    return this.service.find(ctx, id);
  }

  @Query(() => ChannelConnection, { description: 'The directory of PUBLIC channels.' })
  async channels(
    @Arg('search', () => String, { nullable: true }) search: string | null,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @CurrentUser() _viewer: Viewer,
    @Ctx() ctx: RequestContext,
  ): Promise<Connection<ChannelSnapshot>> {
    const page = await this.service.directory(ctx, search, first, after);
    const edges = page.nodes.map((node) => ({ cursor: channelCursor(node), node }));
    return connectionOf(edges, page);
  }

  @Query(() => [ChannelType], { description: 'Every channel the viewer belongs to, DIRECT ones included.' })
  async myChannels(@CurrentUser() _viewer: Viewer, @Ctx() ctx: RequestContext): Promise<ChannelSnapshot[]> {
    const mine = await this.service.mine(ctx);
    // The memberships came with the channels: isMember costs no further statement.
    const memberships = this.loaders.memberships(ctx);
    for (const { channel, membership } of mine) memberships.prime(channel.id, membership);
    return mine.map(({ channel }) => channel);
  }

  // ---- Mutations ----

  @Mutation(() => ChannelType, { description: 'Creates a channel; when a PUBLIC one with that name (case-insensitive) exists, joins it and returns it.' })
  async createChannel(@Arg('input', () => CreateChannelInput) input: CreateChannelInput, @CurrentUser() _viewer: Viewer, @Ctx() ctx: RequestContext): Promise<ChannelSnapshot> {
    // Only the known fields reach the service.
    const channel = await this.service.create(ctx, { name: input.name, description: input.description, kind: input.kind });
    ctx.loaders.clearAll();
    return channel;
  }

  @Mutation(() => ChannelType)
  async joinChannel(@Arg('channelId', () => ID) channelId: string, @CurrentUser() _viewer: Viewer, @Ctx() ctx: RequestContext): Promise<ChannelSnapshot> {
    const channel = await this.service.join(ctx, channelId);
    ctx.loaders.clearAll();
    return channel;
  }

  @Mutation(() => Boolean, { description: 'True when the viewer was a member and left.' })
  async leaveChannel(@Arg('channelId', () => ID) channelId: string, @CurrentUser() _viewer: Viewer, @Ctx() ctx: RequestContext): Promise<boolean> {
    const left = await this.service.leave(ctx, channelId);
    ctx.loaders.clearAll();
    return left;
  }

  @Mutation(() => ChannelType, { description: 'Adds a user to a PRIVATE channel the viewer belongs to.' })
  async inviteToChannel(
    @Arg('channelId', () => ID) channelId: string,
    @Arg('userId', () => ID) userId: string,
    @CurrentUser() _viewer: Viewer,
    @Ctx() ctx: RequestContext,
  ): Promise<ChannelSnapshot> {
    const channel = await this.service.invite(ctx, channelId, userId);
    ctx.loaders.clearAll();
    return channel;
  }

  @Mutation(() => ChannelType, { description: 'The owner gives a member a role; giving OWNER hands the channel on (the previous owner becomes a MODERATOR).' })
  async setMemberRole(
    @Arg('channelId', () => ID) channelId: string,
    @Arg('userId', () => ID) userId: string,
    @Arg('role', () => MemberRole) role: MemberRole,
    @CurrentUser() _viewer: Viewer,
    @Ctx() ctx: RequestContext,
  ): Promise<ChannelSnapshot> {
    const channel = await this.service.setRole(ctx, channelId, userId, role);
    ctx.loaders.clearAll();
    return channel;
  }

  @Mutation(() => ChannelType, { description: 'Removes the user and refuses their return until the ban expires; no duration: until unbanned.' })
  async banFromChannel(
    @Arg('channelId', () => ID) channelId: string,
    @Arg('userId', () => ID) userId: string,
    @Arg('durationSeconds', () => Int, { nullable: true }) durationSeconds: number | null,
    @Arg('reason', () => String, { nullable: true }) reason: string | null,
    @CurrentUser() _viewer: Viewer,
    @Ctx() ctx: RequestContext,
  ): Promise<ChannelSnapshot> {
    const channel = await this.service.ban(ctx, channelId, userId, durationSeconds, reason);
    ctx.loaders.clearAll();
    return channel;
  }

  @Mutation(() => ChannelType)
  async unbanFromChannel(
    @Arg('channelId', () => ID) channelId: string,
    @Arg('userId', () => ID) userId: string,
    @CurrentUser() _viewer: Viewer,
    @Ctx() ctx: RequestContext,
  ): Promise<ChannelSnapshot> {
    const channel = await this.service.unban(ctx, channelId, userId);
    ctx.loaders.clearAll();
    return channel;
  }

  @Mutation(() => ChannelType, { description: 'The user may read but not send, react, vote or pin in the channel for that long (1 to 2,592,000 seconds).' })
  async muteInChannel(
    @Arg('channelId', () => ID) channelId: string,
    @Arg('userId', () => ID) userId: string,
    @Arg('durationSeconds', () => Int) durationSeconds: number,
    @CurrentUser() _viewer: Viewer,
    @Ctx() ctx: RequestContext,
  ): Promise<ChannelSnapshot> {
    const channel = await this.service.mute(ctx, channelId, userId, durationSeconds);
    ctx.loaders.clearAll();
    return channel;
  }

  @Mutation(() => ChannelType, { description: 'The owner or a moderator removes a member.' })
  async removeFromChannel(
    @Arg('channelId', () => ID) channelId: string,
    @Arg('userId', () => ID) userId: string,
    @CurrentUser() _viewer: Viewer,
    @Ctx() ctx: RequestContext,
  ): Promise<ChannelSnapshot> {
    const channel = await this.service.remove(ctx, channelId, userId);
    ctx.loaders.clearAll();
    return channel;
  }

  @Mutation(() => ChannelType, { description: 'The owner renames or re-describes a channel.' })
  async updateChannel(@Arg('input', () => UpdateChannelInput) input: UpdateChannelInput, @CurrentUser() _viewer: Viewer, @Ctx() ctx: RequestContext): Promise<ChannelSnapshot> {
    const channel = await this.service.update(ctx, {
      channelId: input.channelId,
      name: input.name,
      description: input.description,
      slowModeSeconds: input.slowModeSeconds,
    });
    ctx.loaders.clearAll();
    return channel;
  }

  @Mutation(() => Boolean, { description: 'The owner deletes a channel and its messages.' })
  async deleteChannel(@Arg('channelId', () => ID) channelId: string, @CurrentUser() _viewer: Viewer, @Ctx() ctx: RequestContext): Promise<boolean> {
    const deleted = await this.service.delete(ctx, channelId);
    ctx.loaders.clearAll();
    return deleted;
  }

  @Mutation(() => ChannelType, { description: 'The one DIRECT channel between the viewer and that user, created on first use.' })
  async openDirectChannel(@Arg('userId', () => ID) userId: string, @CurrentUser() _viewer: Viewer, @Ctx() ctx: RequestContext): Promise<ChannelSnapshot> {
    const channel = await this.service.openDirect(ctx, userId);
    ctx.loaders.clearAll();
    return channel;
  }

  @Mutation(() => ChannelType, { description: 'Moves the viewer\'s read marker to the given message, or to the newest one.' })
  async markRead(
    @Arg('channelId', () => ID) channelId: string,
    @Arg('messageId', () => ID, { nullable: true }) messageId: string | null,
    @CurrentUser() _viewer: Viewer,
    @Ctx() ctx: RequestContext,
  ): Promise<ChannelSnapshot> {
    const channel = await this.service.markRead(ctx, channelId, messageId);
    ctx.loaders.clearAll();
    return channel;
  }

  // ---- Fields ----

  @PerViewer()
  @FieldResolver(() => String, { description: "For DIRECT channels, the other participant's username." })
  async name(@Root() channel: ChannelSnapshot, @Ctx() ctx: RequestContext): Promise<string> {
    if (channel.kind !== ChannelKind.DIRECT) return channel.name;
    // The stored name is the `dm:<a>:<b>` key, never shown.
    const peer = peerId(channel, ctx.viewer?.userId);
    const ids = peer ? [peer] : (channel.directUserIds ?? []);
    const names = (await this.userDirectory.loadMany(ctx, ids)).map((user) => user.username);
    return names.length > 0 ? names.join(', ') : 'direct';
  }

  @FieldResolver(() => UserType, { nullable: true })
  async owner(@Root() channel: ChannelSnapshot, @Ctx() ctx: RequestContext): Promise<UserSnapshot | null> {
    return channel.ownerId ? this.userDirectory.load(ctx, channel.ownerId) : null;
  }

  @PerViewer()
  @FieldResolver(() => UserType, { nullable: true, description: 'For DIRECT channels, the other participant; null otherwise.' })
  async peer(@Root() channel: ChannelSnapshot, @Ctx() ctx: RequestContext): Promise<UserSnapshot | null> {
    const id = peerId(channel, ctx.viewer?.userId);
    return id ? this.userDirectory.load(ctx, id) : null;
  }

  @PerViewer()
  @FieldResolver(() => Boolean)
  async isMember(@Root() channel: ChannelSnapshot, @Ctx() ctx: RequestContext): Promise<boolean> {
    if (!ctx.viewer) return false;
    return (await this.loaders.memberships(ctx).load(channel.id)) !== null;
  }

  @PerViewer()
  @FieldResolver(() => MemberRole, { nullable: true, description: "The viewer's role; null when the viewer is not a member or the channel is DIRECT." })
  async viewerRole(@Root() channel: ChannelSnapshot, @Ctx() ctx: RequestContext): Promise<MemberRole | null> {
    if (!ctx.viewer || channel.kind === ChannelKind.DIRECT) return null;
    return (await this.loaders.memberships(ctx).load(channel.id))?.role ?? null;
  }

  @PerViewer()
  @FieldResolver(() => Int, { description: "Messages by others after the viewer's read marker." })
  async unreadCount(@Root() channel: ChannelSnapshot, @Ctx() ctx: RequestContext): Promise<number> {
    // Nothing was sent since the channel began: no statement needed.
    if (!ctx.viewer || channel.lastSeq === 0) return 0;
    return this.loaders.unreadCounts(ctx).load(channel.id);
  }

  @ViewerAccessCheck()
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
    // Members of a PRIVATE or DIRECT channel are for its members only.
    if (channel.kind !== ChannelKind.PUBLIC && (!ctx.viewer || !(await this.loaders.memberships(ctx).load(channel.id)))) {
      return connectionOf([], { hasNextPage: false, hasPreviousPage: false });
    }
    const page = await this.loaders.members(ctx).load({ channelId: channel.id, limit, afterUserId });
    const edges = page.users.map((node) => ({ cursor: encodeCursor(MEMBER_CURSOR, node.id), node }));
    return connectionOf(edges, { hasNextPage: page.hasNextPage, hasPreviousPage: afterUserId !== null });
  }
}

/** `ActivityEntry.channel`: the channels feature's field on the accounts' activity log. */
@Resolver(() => ActivityEntryType)
export class ActivityChannelResolver {
  constructor(private readonly loaders: ChannelLoaders) {}

  @ViewerAccessCheck()
  @FieldResolver(() => ChannelType, { nullable: true, description: 'Null when the channel was deleted or is not visible to the viewer.' })
  async channel(@Root() entry: ActivityRecord, @Ctx() ctx: RequestContext): Promise<ChannelSnapshot | null> {
    if (!entry.channelId || !ctx.viewer) return null;
    return this.loaders.visibleChannels(ctx).load(entry.channelId);
  }
}
