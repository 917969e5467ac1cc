import { Entity, Index, ManyToOne, OptionalProps, PrimaryKeyProp, Property } from '@mikro-orm/core';
import { User } from '../accounts/user.entity';
import { Message } from '../messages/message.entity';

/**
 * One user's reaction with one emoji on one message. The primary key (message, user, emoji)
 * makes adding idempotent and counts exact: a group's count is its number of rows.
 */
@Entity({ tableName: 'message_reactions' })
// Groups of a message in order of first use, and each group's users oldest first.
@Index({ properties: ['message', 'createdAt'] })
@Index({ properties: ['user'] })
export class MessageReaction {
  [PrimaryKeyProp]?: ['message', 'user', 'emoji'];
  [OptionalProps]?: 'createdAt';

  @ManyToOne(() => Message, { primary: true, deleteRule: 'cascade' })
  message!: Message;

  @ManyToOne(() => User, { primary: true, deleteRule: 'cascade' })
  user!: User;

  /** As sent: one Unicode emoji or a :shortcode: (reaction.service.ts validates it). */
  @Property({ type: 'text', primary: true })
  emoji!: string;

  /** clock_timestamp(): reactions of one transaction still get distinct, ordered times. */
  @Property({ type: 'datetime', defaultRaw: 'clock_timestamp()' })
  createdAt: Date = new Date();
}
