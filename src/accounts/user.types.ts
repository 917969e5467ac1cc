import { Field, ID, ObjectType } from 'type-graphql';
import type { UserSnapshot } from '../realtime/snapshots';
import { connectionTypes } from '../shared/relay';
import type { User } from './user.entity';

@ObjectType('User')
export class UserType implements UserSnapshot {
  @Field(() => ID)
  id!: string;

  @Field()
  username!: string;

  @Field()
  displayName!: string;

  @Field(() => String, { nullable: true })
  bio!: string | null;

  // `email` and `online` are field resolvers: email is the viewer's own only, online comes from presence.
  email?: string | null;

  @Field()
  createdAt!: Date;
}

export const { EdgeType: UserEdge, ConnectionType: UserConnection } = connectionTypes('User', UserType);

export function userSnapshot(user: User): UserSnapshot {
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    bio: user.bio,
    email: user.email,
    createdAt: user.createdAt,
  };
}
