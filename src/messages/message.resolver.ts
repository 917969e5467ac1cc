import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext, Viewer } from '../shared/context';
import { CurrentUser } from '../shared/current-user';
import { NotFoundError } from '../shared/errors';
import { ChannelType } from '../channels/channel.types';
import type { ChannelLoaders } from '../channels/channel.loader';
import { MAX_LISTED_EDITS, type MessageLoaders } from './message.loaders';
import { ListCap } from '../shared/list-cap';
import type { MessageService } from './message.service';
import { MessageConnection, MessageEditType, MessageType, SendMessageInput, VoteValue } from './message.types';
import type { MessageSnapshot } from '../domain/snapshots';
import { PerViewer, ViewerAccessCheck } from '../shared/viewer-field';

@ArgsType()
class MessagesArgs {
  @Field(() => ID)
  channelId!: string;

  @Field(() => Int, { nullable: true })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;

  @Field(() => Int, { nullable: true })
  last?: number | null;

  @Field(() => String, { nullable: true })
  before?: string | null;
}

@Resolver(() => MessageType)
export class MessageResolver {
  constructor(
    private readonly service: MessageService,
    private readonly loaders: MessageLoaders,
    private readonly channelLoaders: ChannelLoaders,
  ) {}

  @Query(() => MessageConnection, {
    description: 'Message history, oldest first within a page. `last` with optional `before` pages back from the newest; `first` with `after` pages forward.',
  })
  async messages(
    @CurrentUser() _viewer: Viewer,
    @Args() args: MessagesArgs,
    @Ctx() ctx: RequestContext,
  ): Promise<InstanceType<typeof MessageConnection>> {
    const { channelId, first, after, last, before } = args;
    return this.service.history(ctx, channelId, { first, after, last, before });
  }

  @Mutation(() => MessageType)
  async sendMessage(@CurrentUser() _viewer: Viewer, @Arg('input', () => SendMessageInput) input: SendMessageInput, @Ctx() ctx: RequestContext): Promise<MessageType> {
    // Only the known fields, copied explicitly.
    return this.service.send(ctx, { channelId: input.channelId, body: input.body, clientMessageId: input.clientMessageId ?? null, threadId: input.threadId ?? null });
  }

  @Mutation(() => MessageType, { description: 'The author edits the body.' })
  async editMessage(
    @CurrentUser() _viewer: Viewer,
    @Arg('messageId', () => ID) messageId: string,
    @Arg('body', () => String) body: string,
    @Ctx() ctx: RequestContext,
  ): Promise<MessageType> {
    return this.service.edit(ctx, messageId, body);
  }

  @Mutation(() => MessageType, { description: 'The author or the channel owner deletes it, leaving a tombstone.' })
  async deleteMessage(@CurrentUser() _viewer: Viewer, @Arg('messageId', () => ID) messageId: string, @Ctx() ctx: RequestContext): Promise<MessageType> {
    return this.service.delete(ctx, messageId);
  }

  @Mutation(() => MessageType)
  async vote(
    @CurrentUser() _viewer: Viewer,
    @Arg('messageId', () => ID) messageId: string,
    @Arg('value', () => VoteValue) value: VoteValue,
    @Ctx() ctx: RequestContext,
  ): Promise<MessageType> {
    return this.service.vote(ctx, messageId, value);
  }

  @ViewerAccessCheck()
  @FieldResolver(() => ChannelType)
  async channel(@Root() message: MessageSnapshot, @Ctx() ctx: RequestContext): Promise<ChannelType> {
    const channel = await this.channelLoaders.visibleChannels(ctx).load(message.channelId);
    if (!channel) throw new NotFoundError('Channel');
    return channel as ChannelType;
  }

  @FieldResolver(() => Int, { description: 'upvotes - downvotes' })
  score(@Root() message: MessageSnapshot): number {
    return message.upvotes - message.downvotes;
  }

  @PerViewer()
  @FieldResolver(() => VoteValue)
  async myVote(@Root() message: MessageSnapshot, @Ctx() ctx: RequestContext): Promise<VoteValue> {
    if (!ctx.viewer) return VoteValue.NONE;
    return this.loaders.myVotes(ctx).load(message.id);
  }

  @ListCap(MAX_LISTED_EDITS)
  @FieldResolver(() => [MessageEditType], { description: 'Earlier bodies, newest first (the newest 20); empty when never edited or once deleted.' })
  async edits(@Root() message: MessageSnapshot, @Ctx() ctx: RequestContext): Promise<MessageEditType[]> {
    // A deleted message keeps none (they are removed with it): no query.
    if (message.deleted || message.editedAt === null) return [];
    return this.loaders.edits(ctx).load(message.id);
  }
}
