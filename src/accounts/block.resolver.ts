import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { UserSnapshot } from '../domain/snapshots';
import type { RequestContext, Viewer } from '../shared/context';
import { CurrentUser } from '../shared/current-user';
import type { BlockService } from './block.service';
import { UserType } from './user.types';

@Resolver()
export class BlockResolver {
  constructor(private readonly service: BlockService) {}

  @Query(() => [UserType], { description: 'Users the viewer blocked.' })
  async blockedUsers(@CurrentUser() _viewer: Viewer, @Ctx() ctx: RequestContext): Promise<UserSnapshot[]> {
    return this.service.list(ctx);
  }

  @Mutation(() => Boolean, { description: 'The user can no longer open a direct conversation with the viewer nor send in the existing one.' })
  async blockUser(@Arg('userId', () => ID) userId: string, @CurrentUser() _viewer: Viewer, @Ctx() ctx: RequestContext): Promise<boolean> {
    return this.service.block(ctx, userId);
  }

  @Mutation(() => Boolean, { description: 'True when the user was blocked.' })
  async unblockUser(@Arg('userId', () => ID) userId: string, @CurrentUser() _viewer: Viewer, @Ctx() ctx: RequestContext): Promise<boolean> {
    return this.service.unblock(ctx, userId);
  }
}
