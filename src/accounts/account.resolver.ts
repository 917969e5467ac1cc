import { Ctx, Query, Resolver } from 'type-graphql';
import type { RequestContext, Viewer } from '../shared/context';
import { OptionalUser } from '../shared/current-user';
import type { Services } from '../services';
import { User } from './user.entity';
import { UserType, userSnapshot } from './user.types';

@Resolver(() => UserType)
export class AccountResolver {
  constructor(private readonly services: Services) {}

  @Query(() => UserType, { nullable: true, description: 'The signed-in user, or null without a valid token.' })
  async me(@OptionalUser() viewer: Viewer | null, @Ctx() { em }: RequestContext): Promise<UserType | null> {
    if (!viewer) return null;
    const user = await em.findOne(User, { id: viewer.userId });
    return user ? userSnapshot(user) : null;
  }
}
