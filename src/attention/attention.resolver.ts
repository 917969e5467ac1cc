import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { UserConnection, UserType } from '../accounts/user.types';
import { ChannelType } from '../channels/channel.types';
import type { ChannelSnapshot, MessageSnapshot, NotificationSnapshot, UserSnapshot } from '../domain/snapshots';
import { MessageType } from '../messages/message.types';
import type { RequestContext, Viewer } from '../shared/context';
import { CurrentUser } from '../shared/current-user';
import type { Connection } from '../shared/relay';
import { PerViewer } from '../shared/viewer-field';
import { NotificationLevel } from './attention.entity';
import type { AttentionService } from './attention.service';
import { NotificationConnection, NotificationType } from './attention.types';

/** Notifications and levels: queries, mutations and the live `notifications` subscription. */
@Resolver()
export class AttentionResolver {
  constructor(readonly attention: AttentionService) {}

  @Query(() => NotificationConnection, { description: "The viewer's notifications, newest first." })
  notifications(
    @Arg('unreadOnly', () => Boolean, { nullable: true, defaultValue: false }) unreadOnly: boolean,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @CurrentUser() _viewer: Viewer,
    @Ctx() ctx: RequestContext,
  ): Promise<Connection<NotificationSnapshot>> {
    return this.attention.notifications(ctx, { unreadOnly, first, after });
  }

  @Query(() => Int)
  unreadNotificationCount(@CurrentUser() _viewer: Viewer, @Ctx() ctx: RequestContext): Promise<number> {
    return this.attention.unreadCount(ctx);
  }

  @Mutation(() => ChannelType)
  setNotificationLevel(
    @Arg('channelId', () => ID) channelId: string,
    @Arg('level', () => NotificationLevel) level: NotificationLevel,
    @CurrentUser() _viewer: Viewer,
    @Ctx() ctx: RequestContext,
  ): Promise<ChannelSnapshot> {
    return this.attention.setLevel(ctx, channelId, level);
  }

  @Mutation(() => Int, { description: "Marks the given notifications read, or all of the viewer's when ids is omitted; returns how many changed." })
  markNotificationsRead(@Arg('ids', () => [ID], { nullable: true }) ids: string[] | null, @CurrentUser() _viewer: Viewer, @Ctx() ctx: RequestContext): Promise<number> {
    return this.attention.markRead(ctx, ids);
  }

  // schema.ts puts AttentionService.notificationStream in place as `subscribe` (it needs this
  // app instance's service, which a decorator option cannot reach).
  @Subscription(() => NotificationType, {
    name: 'notifications',
    description: "The viewer's new notifications, as they are created, on every instance.",
    subscribe: () => {
      throw new Error('wired by schema.ts');
    },
  })
  liveNotifications(@Root() notification: NotificationSnapshot): NotificationSnapshot {
    return notification;
  }
}

/** Message.mentions, mentionsMe and seenBy. */
@Resolver(() => MessageType)
export class MessageAttentionResolver {
  constructor(private readonly attention: AttentionService) {}

  @FieldResolver(() => [UserType], { description: 'Users mentioned by @username who can read the channel, in order of first mention.' })
  mentions(@Root() message: MessageSnapshot, @Ctx() ctx: RequestContext): Promise<UserSnapshot[]> {
    return this.attention.mentionsOf(ctx, message);
  }

  @PerViewer()
  @FieldResolver(() => Boolean, { description: 'True when the message mentions the viewer by name, or by @channel or @here.' })
  mentionsMe(@Root() message: MessageSnapshot, @Ctx() ctx: RequestContext): Promise<boolean> {
    return this.attention.mentionsViewer(ctx, message);
  }

  @FieldResolver(() => UserConnection, { description: 'Members other than the author whose read marker is at or past this message, newest reader first.' })
  seenBy(
    @Root() message: MessageSnapshot,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<Connection<UserSnapshot>> {
    return this.attention.seenBy(ctx, message, first, after);
  }
}

/** Channel.notificationLevel. */
@Resolver(() => ChannelType)
export class ChannelAttentionResolver {
  constructor(private readonly attention: AttentionService) {}

  @PerViewer()
  @FieldResolver(() => NotificationLevel, { description: "The viewer's level for this channel." })
  notificationLevel(@Root() channel: ChannelSnapshot, @Ctx() ctx: RequestContext): Promise<NotificationLevel> {
    return this.attention.levelOf(ctx, channel);
  }
}

/** User.shareReadReceipts. */
@Resolver(() => UserType)
export class UserAttentionResolver {
  constructor(private readonly attention: AttentionService) {}

  @PerViewer()
  @FieldResolver(() => Boolean, { nullable: true, description: "The user's own setting; null for everyone else." })
  shareReadReceipts(@Root() user: UserSnapshot, @Ctx() ctx: RequestContext): Promise<boolean | null> {
    return this.attention.shareReadReceipts(ctx, user);
  }
}
