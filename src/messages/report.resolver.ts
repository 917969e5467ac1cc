import { Arg, Ctx, Field, FieldResolver, ID, Int, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import type { UserDirectory } from '../accounts/user.loader';
import { UserType } from '../accounts/user.types';
import type { MessageSnapshot, UserSnapshot } from '../domain/snapshots';
import type { RequestContext, Viewer } from '../shared/context';
import { CurrentUser } from '../shared/current-user';
import { type Connection, connectionTypes } from '../shared/relay';
import { MessageType } from './message.types';
import type { ReportRecord } from './report.queries';
import type { ReportService } from './report.service';

@ObjectType('MessageReport', { simpleResolvers: true })
export class MessageReportType implements ReportRecord {
  @Field(() => ID)
  id!: string;

  @Field(() => MessageType)
  message!: MessageSnapshot;

  channelId!: string;
  reporterId!: string;
  position!: string;

  @Field(() => String)
  reason!: string;

  @Field()
  createdAt!: Date;
}

export const { EdgeType: MessageReportEdge, ConnectionType: MessageReportConnection } = connectionTypes('MessageReport', MessageReportType);

@Resolver(() => MessageReportType)
export class ReportResolver {
  constructor(
    private readonly service: ReportService,
    private readonly users: UserDirectory,
  ) {}

  @Query(() => MessageReportConnection, { description: 'Reports on messages of a channel, oldest first; owners and moderators only.' })
  async reports(
    @Arg('channelId', () => ID) channelId: string,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @CurrentUser() _viewer: Viewer,
    @Ctx() ctx: RequestContext,
  ): Promise<Connection<ReportRecord>> {
    return this.service.list(ctx, channelId, first, after);
  }

  @Mutation(() => Boolean, { description: 'Reports a message to the channel\'s owner and moderators; once per message (again: CONFLICT).' })
  async reportMessage(
    @Arg('messageId', () => ID) messageId: string,
    @Arg('reason', () => String) reason: string,
    @CurrentUser() _viewer: Viewer,
    @Ctx() ctx: RequestContext,
  ): Promise<boolean> {
    return this.service.report(ctx, messageId, reason);
  }

  @Mutation(() => Boolean, { description: 'Removes a report; owners and moderators of its channel only.' })
  async resolveReport(@Arg('reportId', () => ID) reportId: string, @CurrentUser() _viewer: Viewer, @Ctx() ctx: RequestContext): Promise<boolean> {
    return this.service.resolve(ctx, reportId);
  }

  @FieldResolver(() => UserType)
  async reporter(@Root() report: ReportRecord, @Ctx() ctx: RequestContext): Promise<UserSnapshot> {
    const user = await this.users.load(ctx, report.reporterId);
    if (!user) throw new Error(`reporter ${report.reporterId} is missing`);
    return user;
  }
}
