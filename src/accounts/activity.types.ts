import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { connectionTypes } from '../shared/relay';
import { ActivityAction } from './activity.entity';

registerEnumType(ActivityAction, { name: 'ActivityAction' });

@ObjectType('ActivityEntry', { simpleResolvers: true })
export class ActivityEntryType {
  @Field(() => ID)
  id!: string;

  @Field(() => ActivityAction)
  action!: ActivityAction;

  // `channel` is a field resolver: null when the channel is gone or not visible to the viewer.
  channelId!: string | null;

  @Field()
  at!: Date;
}

export const { EdgeType: ActivityEdge, ConnectionType: ActivityConnection } = connectionTypes('Activity', ActivityEntryType);
