import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { MessageSnapshot, UserSnapshot } from '../domain/snapshots';
import { UserType } from '../accounts/user.types';
import { connectionTypes, encodeCursor } from '../shared/relay';
import type { Message } from './message.entity';

export enum VoteValue {
  UP = 'UP',
  DOWN = 'DOWN',
  NONE = 'NONE',
}

registerEnumType(VoteValue, {
  name: 'VoteValue',
  valuesConfig: { NONE: { description: "No vote; voting NONE clears the viewer's vote." } },
});

/** The stored value of a vote (votes.value), 0 meaning no row. */
export function voteNumber(value: VoteValue): number {
  return value === VoteValue.UP ? 1 : value === VoteValue.DOWN ? -1 : 0;
}

export function voteValue(stored: number | null | undefined): VoteValue {
  return stored === 1 ? VoteValue.UP : stored === -1 ? VoteValue.DOWN : VoteValue.NONE;
}

// `channel`, `score` and `myVote` are field resolvers (message.resolver.ts). `author` is a
// plain field: every message a resolver returns carries its author (events and mutation
// answers embed it; history attaches the page's authors at once), so it costs no lookup.
@ObjectType('Message', { simpleResolvers: true })
export class MessageType implements MessageSnapshot {
  @Field(() => ID)
  id!: string;

  channelId!: string;
  seq!: number;
  authorId!: string;

  @Field(() => UserType)
  author?: UserSnapshot;

  @Field(() => String, { nullable: true, description: 'Null once the message is deleted.' })
  body!: string | null;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  editedAt!: Date | null;

  @Field()
  deleted!: boolean;

  @Field(() => Int)
  upvotes!: number;

  @Field(() => Int)
  downvotes!: number;

  @Field(() => ID, { nullable: true, description: "Set on replies: the id of the thread's root message." })
  threadRootId?: string | null;
}

@ObjectType('MessageEdit', { simpleResolvers: true })
export class MessageEditType {
  @Field({ description: 'The body before this edit.' })
  body!: string;

  @Field({ description: 'When this body was replaced.' })
  editedAt!: Date;
}

export const { EdgeType: MessageEdge, ConnectionType: MessageConnection } = connectionTypes('Message', MessageType);

@InputType()
export class SendMessageInput {
  @Field(() => ID)
  channelId!: string;

  @Field()
  body!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Idempotency key chosen by the client: resending the same key returns the first message instead of a duplicate.',
  })
  clientMessageId?: string | null;

  @Field(() => ID, { nullable: true, description: 'A message of the same channel: the new message is a reply in its thread.' })
  threadId?: string | null;
}

/** Message cursors carry the per-channel sequence number. */
export const MESSAGE_CURSOR = 'msg';

export function messageCursor(seq: number): string {
  return encodeCursor(MESSAGE_CURSOR, seq);
}

export function messageSnapshot(message: Message, author?: UserSnapshot): MessageSnapshot {
  const deleted = message.deletedAt !== null;
  return {
    id: message.id,
    channelId: message.channel.id,
    seq: message.seq,
    authorId: message.author.id,
    author,
    body: deleted ? null : message.body,
    createdAt: message.createdAt,
    editedAt: message.editedAt,
    deleted,
    upvotes: message.upvotes,
    downvotes: message.downvotes,
    threadRootId: message.threadRoot?.id ?? null,
    version: message.version,
  };
}
