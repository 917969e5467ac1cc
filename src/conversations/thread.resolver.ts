import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { UserType } from '../accounts/user.types';
import type { MessageSnapshot, UserSnapshot } from '../domain/snapshots';
import { MessageConnection, MessageType } from '../messages/message.types';
import type { RequestContext, Viewer } from '../shared/context';
import { CurrentUser } from '../shared/current-user';
import { ListCap } from '../shared/list-cap';
import { PerViewer } from '../shared/viewer-field';
import { MAX_THREAD_PARTICIPANTS, type ThreadService } from './thread.service';
import { ThreadConnection, ThreadType, type ThreadView } from './thread.types';

@ArgsType()
class ThreadRepliesArgs {
  @Field(() => ID)
  messageId!: string;

  @Field(() => Int, { nullable: true })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;

  @Field(() => Int, { nullable: true })
  last?: number | null;

  @Field(() => String, { nullable: true })
  before?: string | null;
}

@ArgsType()
class MyThreadsArgs {
  @Field(() => Int, { nullable: true })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;
}

/** Thread queries and mutations, and the fields of Thread. */
@Resolver(() => ThreadType)
export class ThreadResolver {
  constructor(private readonly threads: ThreadService) {}

  @Query(() => MessageConnection, { description: "A thread's replies, oldest first within a page; paged like `messages`." })
  threadReplies(@CurrentUser() _viewer: Viewer, @Args() args: ThreadRepliesArgs, @Ctx() ctx: RequestContext): Promise<InstanceType<typeof MessageConnection>> {
    const { messageId, first, after, last, before } = args;
    return this.threads.replies(ctx, messageId, { first, after, last, before });
  }

  @Query(() => ThreadConnection, { description: 'Threads the viewer follows, the one with the newest reply first.' })
  myThreads(@CurrentUser() _viewer: Viewer, @Args() args: MyThreadsArgs, @Ctx() ctx: RequestContext): Promise<InstanceType<typeof ThreadConnection>> {
    return this.threads.followed(ctx, { first: args.first, after: args.after });
  }

  @Mutation(() => MessageType, { description: 'Follows or unfollows the thread of a root message; returns the root.' })
  followThread(
    @CurrentUser() _viewer: Viewer,
    @Arg('messageId', () => ID) messageId: string,
    @Arg('follow', () => Boolean) follow: boolean,
    @Ctx() ctx: RequestContext,
  ): Promise<MessageSnapshot> {
    return this.threads.setFollowing(ctx, messageId, follow);
  }

  @Mutation(() => MessageType, { description: "Moves the viewer's read marker in a thread to its newest reply; returns the root." })
  markThreadRead(@CurrentUser() _viewer: Viewer, @Arg('messageId', () => ID) messageId: string, @Ctx() ctx: RequestContext): Promise<MessageSnapshot> {
    return this.threads.markRead(ctx, messageId);
  }

  @ListCap(MAX_THREAD_PARTICIPANTS)
  @FieldResolver(() => [UserType], { description: 'Users who replied, most recent first, at most 5.' })
  participants(@Root() thread: ThreadView, @Ctx() ctx: RequestContext): Promise<UserSnapshot[]> {
    return this.threads.participants(ctx).load(thread.rootId);
  }

  @PerViewer()
  @FieldResolver(() => Boolean, { description: 'Whether the viewer follows the thread.' })
  async following(@Root() thread: ThreadView, @Ctx() ctx: RequestContext): Promise<boolean> {
    return (await this.threads.viewerStates(ctx).load(thread.rootId)).following;
  }

  @PerViewer()
  @FieldResolver(() => Int, { description: "Replies by others after the viewer's read marker in this thread." })
  async unreadCount(@Root() thread: ThreadView, @Ctx() ctx: RequestContext): Promise<number> {
    return (await this.threads.viewerStates(ctx).load(thread.rootId)).unread;
  }
}

/** Message.thread (the Message type is the messages feature's; its thread is this one's). */
@Resolver(() => MessageType)
export class MessageThreadResolver {
  constructor(private readonly threads: ThreadService) {}

  @FieldResolver(() => ThreadType, { nullable: true, description: 'For a message that has replies or followers, its thread; null otherwise.' })
  thread(@Root() message: MessageSnapshot, @Ctx() ctx: RequestContext): Promise<ThreadView | null> {
    return this.threads.threadOf(ctx, message);
  }
}
