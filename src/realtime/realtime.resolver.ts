import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { UserType } from '../accounts/user.types';
import type { RequestContext, Viewer } from '../shared/context';
import { CurrentUser } from '../shared/current-user';
import { ChannelEvent, type ChannelEventValue, MessageAddedEvent, type MessageAddedValue, messageAddedValue, toEventValue } from './event.types';
import type { RealtimeService } from './realtime.service';
import type { RealtimeContext } from './ws-server';
import type { MessageSnapshot, UserSnapshot } from '../domain/snapshots';
import type { ChannelTopicEvent } from '../domain/topics';


function engine(context: RealtimeContext): RealtimeService {
  // Subscriptions are served over graphql-ws only (ws-server.ts sets this).
  if (!context.realtime) throw new Error('subscriptions are served over graphql-ws only');
  return context.realtime;
}

/**
 * Thin graphql-ws adapter over RealtimeService: subscriptions, setTyping, and User.online
 * (registered on the User type, so it needs no extra resolver class).
 */
@Resolver(() => UserType)
export class RealtimeResolver {
  constructor(private readonly realtime: RealtimeService) {}

  @Subscription(() => ChannelEvent, {
    description:
      'Live events of one channel the viewer may read. With `after` (a message\ncursor) it first replays, in order, every message sent after that cursor,\nthen continues live, with no gap and no duplicate even while others send.\nThe stream ends when the viewer leaves or is removed, or the channel is deleted.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { channelId: string; after?: string | null }, RealtimeContext>) =>
      engine(context).channelEvents(context, args.channelId, args.after),
  })
  channelEvents(
    @Root() event: ChannelTopicEvent,
    @Arg('channelId', () => ID) _channelId: string,
    @Arg('after', () => String, { nullable: true }) _after: string | null,
    @Ctx() context: RequestContext,
  ): ChannelEventValue {
    // Each event runs with a fresh context (protocol.ts): its own loaders.
    return toEventValue(event);
  }

  @Subscription(() => MessageAddedEvent, {
    description:
      'Every new message by others in any channel the viewer belongs to, for unread badges and notifications.\nWith `after` (the `inboxCursor` of the last event received) it first replays, in\norder, every such message sent after it, then continues live, with no gap and no\nduplicate even while others send.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { after?: string | null }, RealtimeContext>) => engine(context).inbox(context, args.after),
  })
  inbox(@Root() message: MessageSnapshot, @Arg('after', () => String, { nullable: true }) _after: string | null): MessageAddedValue {
    return messageAddedValue(message);
  }

  @Mutation(() => Boolean, { description: 'Tells the channel that the viewer is typing; nothing is stored.' })
  setTyping(@Arg('channelId', () => ID) channelId: string, @CurrentUser() _viewer: Viewer, @Ctx() ctx: RequestContext): Promise<boolean> {
    return this.realtime.setTyping(ctx, channelId);
  }

  @FieldResolver(() => Boolean, { description: 'True while the user has at least one open subscription connection on any server instance.' })
  online(@Root() user: UserSnapshot, @Ctx() context: RequestContext): Promise<boolean> {
    const loader = context.loaders.get<string, boolean>('presence:online', (ids) => this.realtime.presence.areOnline(ids));
    return loader.load(user.id);
  }
}
