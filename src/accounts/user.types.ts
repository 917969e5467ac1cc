import { Field, ID, InputType, ObjectType } from 'type-graphql';
import type { UserSnapshot } from '../domain/snapshots';
import { connectionTypes } from '../shared/relay';
import type { User } from './user.entity';

@ObjectType('User', { simpleResolvers: true })
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

const OWN_PROFILE = Symbol('ownProfile');

/** Marks a snapshot as the requester's own (signup/login answers, before the request carries their token). */
export function ownProfile(snapshot: UserSnapshot): UserSnapshot {
  return Object.assign({ ...snapshot }, { [OWN_PROFILE]: true });
}

export function isOwnProfile(snapshot: UserSnapshot): boolean {
  return (snapshot as { [OWN_PROFILE]?: boolean })[OWN_PROFILE] === true;
}

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

@ObjectType('AuthPayload', { simpleResolvers: true })
export class AuthPayload {
  @Field()
  token!: string;

  @Field(() => UserType)
  user!: UserType;
}

// Inputs carry no validation decorators: AccountService checks each rule and names the field.

@InputType('SignupInput')
export class SignupInput {
  @Field()
  email!: string;

  @Field()
  username!: string;

  @Field()
  password!: string;

  @Field(() => String, { nullable: true })
  displayName?: string | null;
}

@InputType('LoginInput')
export class LoginInput {
  @Field({ description: 'Email or username.' })
  login!: string;

  @Field()
  password!: string;
}

@InputType('UpdateProfileInput')
export class UpdateProfileInput {
  @Field(() => String, { nullable: true })
  displayName?: string | null;

  @Field(() => String, { nullable: true })
  bio?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Read receipts (src/attention): false keeps the viewer out of seenBy and MessagesSeen.' })
  shareReadReceipts?: boolean | null;
}

@InputType('ChangePasswordInput')
export class ChangePasswordInput {
  @Field()
  currentPassword!: string;

  @Field()
  newPassword!: string;
}
