import { Args, ArgsType, Field, Int, Query, Resolver } from 'type-graphql';
import type { Viewer } from '../shared/context';
import { CurrentUser } from '../shared/current-user';
import { MessageConnection } from '../messages/message.types';
import type { SearchService } from './search.service';

@ArgsType()
class SearchMessagesArgs {
  @Field(() => String)
  query!: string;

  @Field(() => Int, { nullable: true })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;
}

@Resolver()
export class SearchResolver {
  constructor(private readonly search: SearchService) {}

  // Depends on the viewer: what they may read.
  @Query(() => MessageConnection, { description: 'Messages the viewer may read that match `query`, newest first.' })
  async searchMessages(@CurrentUser() viewer: Viewer, @Args() args: SearchMessagesArgs): Promise<InstanceType<typeof MessageConnection>> {
    return this.search.search(viewer.userId, { query: args.query, first: args.first, after: args.after });
  }
}
