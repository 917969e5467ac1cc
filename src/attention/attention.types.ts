import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import type { MessageSnapshot, NotificationKindName, NotificationSnapshot } from '../domain/snapshots';
import { MessageType } from '../messages/message.types';
import { connectionTypes } from '../shared/relay';
import { NotificationKind, NotificationLevel } from './attention.entity';

registerEnumType(NotificationLevel, {
  name: 'NotificationLevel',
  valuesConfig: {
    ALL: { description: 'Every new message by others notifies.' },
    MENTIONS: { description: 'Mentions of the user and replies in threads the user follows.' },
    NONE: { description: 'Nothing notifies; unread counts still count.' },
  },
});

registerEnumType(NotificationKind, { name: 'NotificationKind' });

@ObjectType('Notification', { simpleResolvers: true })
export class NotificationType implements NotificationSnapshot {
  @Field(() => ID)
  id!: string;

  userId!: string;

  @Field(() => NotificationKind)
  kind!: NotificationKindName;

  @Field(() => MessageType)
  message!: MessageSnapshot;

  @Field()
  createdAt!: Date;

  @Field()
  read!: boolean;
}

export const { EdgeType: NotificationEdge, ConnectionType: NotificationConnection } = connectionTypes('Notification', NotificationType);
