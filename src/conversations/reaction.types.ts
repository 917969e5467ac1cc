import { Field, Int, ObjectType } from 'type-graphql';
import type { ReactionGroupSnapshot } from './reaction.queries';

// `reactedByMe` and `users` are field resolvers (reaction.resolver.ts).
@ObjectType('ReactionGroup', { simpleResolvers: true, description: "A message's reactions with one emoji." })
export class ReactionGroupType implements ReactionGroupSnapshot {
  messageId!: string;

  @Field({ description: 'Exactly as sent: a Unicode emoji or a :shortcode:.' })
  emoji!: string;

  @Field(() => Int)
  count!: number;

  userIds!: string[];

  allUserIds!: string[] | null;
}
