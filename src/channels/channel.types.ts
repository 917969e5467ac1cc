import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { ChannelSnapshot } from '../domain/snapshots';
import { connectionTypes } from '../shared/relay';
import { ChannelKind } from './channel.entity';
import { MemberRole } from './membership.entity';

registerEnumType(ChannelKind, {
  name: 'ChannelKind',
  valuesConfig: {
    PUBLIC: { description: 'Anyone signed in can find, read and join it.' },
    PRIVATE: { description: 'Only members can see it; members invite others.' },
    DIRECT: { description: 'A conversation between exactly two users; one per pair.' },
  },
});

registerEnumType(MemberRole, {
  name: 'MemberRole',
  valuesConfig: {
    OWNER: { description: 'Sets roles; one per channel.' },
    MODERATOR: { description: 'Removes, bans and times out members; deletes any message.' },
    MEMBER: { description: 'Reads and sends.' },
  },
});

@ObjectType('Channel', { simpleResolvers: true })
export class ChannelType implements ChannelSnapshot {
  @Field(() => ID)
  id!: string;

  // `name` is a field resolver: a DIRECT channel is named after the other participant.
  name!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => ChannelKind)
  kind!: ChannelKind;

  ownerId!: string | null;

  @Field()
  createdAt!: Date;

  @Field(() => Int)
  memberCount!: number;

  @Field(() => Int, { description: 'Slow mode: a MEMBER sends at most one message per this many seconds (0: off).' })
  slowModeSeconds!: number;

  // isMember, unreadCount, members, owner and peer are field resolvers (channel.resolver.ts), those
  // that read the viewer marked there with @PerViewer or @ViewerAccessCheck (shared/viewer-field.ts).
  lastSeq!: number;
  directUserIds?: [string, string] | null;
}

@InputType('CreateChannelInput')
export class CreateChannelInput {
  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => ChannelKind, { nullable: true, defaultValue: ChannelKind.PUBLIC, description: 'PUBLIC or PRIVATE; DIRECT channels come from openDirectChannel.' })
  kind?: ChannelKind | null;
}

@InputType('UpdateChannelInput')
export class UpdateChannelInput {
  @Field(() => ID)
  channelId!: string;

  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => Int, { nullable: true, description: '0 to 21600; 0 turns slow mode off.' })
  slowModeSeconds?: number | null;
}

export const { EdgeType: ChannelEdge, ConnectionType: ChannelConnection } = connectionTypes('Channel', ChannelType);

const DIRECT_PREFIX = 'dm:';

/** The stored name of the DIRECT channel of two users: the same whoever opens it. */
export function directChannelKey(userA: string, userB: string): string {
  const [first, second] = userA < userB ? [userA, userB] : [userB, userA];
  return `${DIRECT_PREFIX}${first}:${second}`;
}

export function directUserIds(name: string): [string, string] | null {
  if (!name.startsWith(DIRECT_PREFIX)) return null;
  const [first, second] = name.slice(DIRECT_PREFIX.length).split(':');
  return first && second ? [first, second] : null;
}
