// The GraphQL shapes of live events: the contract's ChannelEvent union and its members.
// Each resolves from the self-contained payload that crossed the bus (see domain/topics.ts);
// `type` names the union member.
import { createUnionType, Field, ID, ObjectType } from 'type-graphql';
import { UserType } from '../accounts/user.types';
import { ChannelType } from '../channels/channel.types';
import { MessageType, messageCursor } from '../messages/message.types';
import type { ChannelSnapshot, MessageSnapshot, UserSnapshot } from '../domain/snapshots';
import type { ChannelTopicEvent } from '../domain/topics';
import { inboxCursor } from './inbox';

@ObjectType('MessageAdded', { simpleResolvers: true })
export class MessageAddedEvent {
  type!: 'MessageAdded';

  @Field({ description: "The message's cursor, usable as `after` to resume." })
  cursor!: string;

  @Field({ description: "The message's position in the inbox's order across channels, usable as `inbox(after:)` to resume the inbox." })
  inboxCursor!: string;

  @Field(() => MessageType)
  message!: MessageSnapshot;
}

@ObjectType('MessageUpdated', { simpleResolvers: true, description: 'Edited, or its votes changed.' })
export class MessageUpdatedEvent {
  type!: 'MessageUpdated';

  @Field(() => MessageType)
  message!: MessageSnapshot;
}

@ObjectType('MessageDeleted', { simpleResolvers: true })
export class MessageDeletedEvent {
  type!: 'MessageDeleted';

  @Field(() => MessageType)
  message!: MessageSnapshot;
}

@ObjectType('MemberJoined', { simpleResolvers: true })
export class MemberJoinedEvent {
  type!: 'MemberJoined';

  @Field(() => ChannelType)
  channel!: ChannelSnapshot;

  @Field(() => UserType)
  user!: UserSnapshot;
}

@ObjectType('MemberLeft', { simpleResolvers: true })
export class MemberLeftEvent {
  type!: 'MemberLeft';

  @Field(() => ChannelType)
  channel!: ChannelSnapshot;

  @Field(() => UserType)
  user!: UserSnapshot;
}

@ObjectType('UserTyping', { simpleResolvers: true })
export class UserTypingEvent {
  type!: 'UserTyping';

  @Field(() => ChannelType)
  channel!: ChannelSnapshot;

  @Field(() => UserType)
  user!: UserSnapshot;
}

@ObjectType('ChannelUpdated', { simpleResolvers: true })
export class ChannelUpdatedEvent {
  type!: 'ChannelUpdated';

  @Field(() => ChannelType)
  channel!: ChannelSnapshot;
}

@ObjectType('ChannelDeleted', { simpleResolvers: true, description: "The last event of a deleted channel's stream; the stream completes after it." })
export class ChannelDeletedEvent {
  type!: 'ChannelDeleted';

  @Field(() => ID)
  channelId!: string;
}

@ObjectType('MessagesSeen', { simpleResolvers: true, description: "A member's read marker moved forward." })
export class MessagesSeenEvent {
  type!: 'MessagesSeen';

  @Field(() => ChannelType)
  channel!: ChannelSnapshot;

  @Field(() => UserType)
  user!: UserSnapshot;

  @Field(() => MessageType, { description: 'The newest message that user has now read.' })
  lastRead!: MessageSnapshot;
}

const memberByType = {
  MessageAdded: MessageAddedEvent,
  MessageUpdated: MessageUpdatedEvent,
  MessageDeleted: MessageDeletedEvent,
  MemberJoined: MemberJoinedEvent,
  MemberLeft: MemberLeftEvent,
  UserTyping: UserTypingEvent,
  ChannelUpdated: ChannelUpdatedEvent,
  ChannelDeleted: ChannelDeletedEvent,
  MessagesSeen: MessagesSeenEvent,
} as const;

export const ChannelEvent = createUnionType({
  name: 'ChannelEvent',
  types: () =>
    [
      MessageAddedEvent,
      MessageUpdatedEvent,
      MessageDeletedEvent,
      MemberJoinedEvent,
      MemberLeftEvent,
      UserTypingEvent,
      ChannelUpdatedEvent,
      ChannelDeletedEvent,
      MessagesSeenEvent,
    ] as const,
  resolveType: (value: { type?: string }) => (value.type ? memberByType[value.type as keyof typeof memberByType] : undefined),
});

/**
 * The union member of an event, synchronously. type-graphql wraps `resolveType` in an async
 * function; schema.ts puts this one in its place, so resolving an event's type costs no
 * promise and graphql-jit (which needs it synchronous) can compile event documents.
 */
export function channelEventTypeName(value: { type?: string }): string | undefined {
  return value.type !== undefined && Object.hasOwn(memberByType, value.type) ? value.type : undefined;
}

/** What a ChannelEvent field resolves from: the bus payload, plus the cursor of a MessageAdded. */
export type ChannelEventValue = Exclude<ChannelTopicEvent, { type: 'MessageAdded' }> | MessageAddedValue;
export type MessageAddedValue = { type: 'MessageAdded'; cursor: string; readonly inboxCursor: string; message: MessageSnapshot };

export function toEventValue(event: ChannelTopicEvent): ChannelEventValue {
  return event.type === 'MessageAdded' ? messageAddedValue(event.message) : event;
}

/**
 * A class rather than an object literal with a getter: V8 allocates a literal's accessor pair
 * in the old generation, so its closure (and the message it holds) outlived every young
 * collection until the next full one.
 */
class AddedMessageValue implements MessageAddedValue {
  readonly type = 'MessageAdded' as const;
  readonly cursor: string;

  constructor(readonly message: MessageSnapshot) {
    this.cursor = messageCursor(message.seq);
  }

  /** Computed only when a document selects it. */
  get inboxCursor(): string {
    return inboxCursor(this.message);
  }
}

export function messageAddedValue(message: MessageSnapshot): MessageAddedValue {
  return new AddedMessageValue(message);
}
