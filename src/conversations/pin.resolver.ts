import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { ChannelType } from '../channels/channel.types';
import type { ChannelSnapshot, MessageSnapshot } from '../domain/snapshots';
import { MessageType } from '../messages/message.types';
import type { RequestContext, Viewer } from '../shared/context';
import { CurrentUser } from '../shared/current-user';
import { ListCap } from '../shared/list-cap';
import { MAX_PINS_PER_CHANNEL, type PinService } from './pin.service';

@Resolver(() => MessageType)
export class PinResolver {
  constructor(private readonly service: PinService) {}

  @Mutation(() => MessageType, { description: 'Pins the message in its channel; pinning it again changes nothing.' })
  async pinMessage(@CurrentUser() _viewer: Viewer, @Arg('messageId', () => ID) messageId: string, @Ctx() ctx: RequestContext): Promise<MessageType> {
    return this.service.pin(ctx, messageId);
  }

  @Mutation(() => MessageType, { description: 'Unpins the message; unpinning one not pinned changes nothing.' })
  async unpinMessage(@CurrentUser() _viewer: Viewer, @Arg('messageId', () => ID) messageId: string, @Ctx() ctx: RequestContext): Promise<MessageType> {
    return this.service.unpin(ctx, messageId);
  }

  @FieldResolver(() => Boolean)
  async pinned(@Root() message: MessageSnapshot): Promise<boolean> {
    if (message.deleted) return false;
    return this.service.isPinned(message.id);
  }
}

@Resolver(() => ChannelType)
export class PinChannelResolver {
  constructor(private readonly service: PinService) {}

  // Channel objects reach a viewer only when the channel is visible to them, so its pins are too.
  @ListCap(MAX_PINS_PER_CHANNEL)
  @FieldResolver(() => [MessageType], { description: 'Pinned messages, most recently pinned first.' })
  async pinnedMessages(@Root() channel: ChannelSnapshot): Promise<MessageSnapshot[]> {
    return this.service.pinnedMessages(channel.id);
  }
}
