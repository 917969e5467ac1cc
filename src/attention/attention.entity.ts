import { randomUUID } from 'node:crypto';
import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, PrimaryKeyProp, Property, Unique } from '@mikro-orm/core';
import { User } from '../accounts/user.entity';
import { Channel } from '../channels/channel.entity';
import { Message } from '../messages/message.entity';

export enum NotificationLevel {
  ALL = 'ALL',
  MENTIONS = 'MENTIONS',
  NONE = 'NONE',
}

export enum NotificationKind {
  MENTION = 'MENTION',
  THREAD_REPLY = 'THREAD_REPLY',
  MESSAGE = 'MESSAGE',
}

/**
 * A user a message mentions: by `@username` (`ord` = order of first mention) or, with `ord`
 * null, by `@here` (they were online when it was sent).
 */
@Entity({ tableName: 'message_mentions' })
@Index({ properties: ['user'] })
export class MessageMention {
  [PrimaryKeyProp]?: ['message', 'user'];

  @ManyToOne(() => Message, { primary: true, deleteRule: 'cascade' })
  message!: Message;

  @ManyToOne(() => User, { primary: true, deleteRule: 'cascade' })
  user!: User;

  @Property({ type: 'integer', nullable: true })
  ord: number | null = null;
}

/** A message that says `@channel` (every member is mentioned). */
@Entity({ tableName: 'message_channel_mentions' })
export class MessageChannelMention {
  @ManyToOne(() => Message, { primary: true, deleteRule: 'cascade' })
  message!: Message;
}

/** At most one per (user, message); removed with the message's deletion. */
@Entity({ tableName: 'notifications' })
// Also the index of the deletion by message.
@Unique({ properties: ['message', 'user'] })
// The first page, newest first, and the cursor after it.
@Index({ name: 'notifications_user_id_created_at_id_index', expression: 'create index "notifications_user_id_created_at_id_index" on "notifications" (user_id, created_at desc, id desc)' })
// unreadNotificationCount and unreadOnly pages read only unread rows.
@Index({
  name: 'notifications_unread_index',
  expression: 'create index "notifications_unread_index" on "notifications" (user_id, created_at desc, id desc) where read_at is null',
})
export class Notification {
  [OptionalProps]?: 'createdAt' | 'readAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { deleteRule: 'cascade', index: false })
  user!: User;

  @ManyToOne(() => Message, { deleteRule: 'cascade', index: false })
  message!: Message;

  @ManyToOne(() => Channel, { deleteRule: 'cascade', index: false })
  channel!: Channel;

  @Enum({ items: () => NotificationKind, type: 'text' })
  kind!: NotificationKind;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', nullable: true })
  readAt: Date | null = null;
}

/** A user's chosen level for a channel; without a row, the channel kind's default. */
/** A user's unread notifications, kept exact by triggers on notifications (migration 20261202160000). */
@Entity({ tableName: 'notification_counts' })
export class NotificationCount {
  @ManyToOne(() => User, { primary: true, deleteRule: 'cascade' })
  user!: User;

  @Property({ type: 'integer', default: 0 })
  unread: number = 0;
}

@Entity({ tableName: 'notification_levels' })
@Index({ properties: ['user'] })
export class NotificationLevelSetting {
  [PrimaryKeyProp]?: ['channel', 'user'];

  @ManyToOne(() => Channel, { primary: true, deleteRule: 'cascade' })
  channel!: Channel;

  @ManyToOne(() => User, { primary: true, deleteRule: 'cascade' })
  user!: User;

  @Enum({ items: () => NotificationLevel, type: 'text' })
  level!: NotificationLevel;
}
