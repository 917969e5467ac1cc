import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { UserType } from '../accounts/user.types';
import type { UserDirectory } from '../accounts/user.loader';
import type { MessageSnapshot, UserSnapshot } from '../domain/snapshots';
import { MessageType } from '../messages/message.types';
import type { RequestContext, Viewer } from '../shared/context';
import { CurrentUser } from '../shared/current-user';
import { ListCap } from '../shared/list-cap';
import { PerViewer } from '../shared/viewer-field';
import { REACTION_GROUP_USERS } from './reaction.queries';
import type { ReactionService } from './reaction.service';
import { ReactionGroupType } from './reaction.types';

/**
 * The number of reaction groups the cost limit counts per message: a fixed small number (most
 * messages have a handful of distinct emoji), so a history page selecting reactions with their
 * users stays within the default limit.
 */
export const REACTION_GROUPS_COUNTED = 5;

@Resolver(() => MessageType)
export class ReactionResolver {
  constructor(private readonly service: ReactionService) {}

  @Mutation(() => MessageType, { description: "Adds the viewer's reaction; adding it again changes nothing." })
  async addReaction(
    @CurrentUser() _viewer: Viewer,
    @Arg('messageId', () => ID) messageId: string,
    @Arg('emoji', () => String) emoji: string,
    @Ctx() ctx: RequestContext,
  ): Promise<MessageType> {
    return this.service.add(ctx, messageId, emoji);
  }

  @Mutation(() => MessageType, { description: "Removes the viewer's reaction; removing one not added changes nothing." })
  async removeReaction(
    @CurrentUser() _viewer: Viewer,
    @Arg('messageId', () => ID) messageId: string,
    @Arg('emoji', () => String) emoji: string,
    @Ctx() ctx: RequestContext,
  ): Promise<MessageType> {
    return this.service.remove(ctx, messageId, emoji);
  }

  @ListCap(REACTION_GROUPS_COUNTED)
  @FieldResolver(() => [ReactionGroupType], { description: 'Reactions grouped by emoji, in order of first use.' })
  async reactions(@Root() message: MessageSnapshot): Promise<ReactionGroupType[]> {
    // A deleted message keeps none (its deletion removed them).
    if (message.deleted) return [];
    return this.service.groups(message.id);
  }
}

@Resolver(() => ReactionGroupType)
export class ReactionGroupResolver {
  constructor(
    private readonly service: ReactionService,
    private readonly directory: UserDirectory,
  ) {}

  @PerViewer()
  @FieldResolver(() => Boolean, { description: 'Whether the viewer is among those who reacted.' })
  reactedByMe(@Root() group: ReactionGroupType, @Ctx() ctx: RequestContext): boolean | Promise<boolean> {
    return this.service.reactedBy(ctx.viewer?.userId ?? null, group);
  }

  @ListCap(REACTION_GROUP_USERS)
  @FieldResolver(() => [UserType], { description: `The first users who reacted, oldest first, at most ${REACTION_GROUP_USERS}.` })
  async users(@Root() group: ReactionGroupType, @Ctx() ctx: RequestContext): Promise<UserSnapshot[]> {
    return this.directory.loadMany(ctx, group.userIds);
  }
}
