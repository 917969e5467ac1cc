import { Entity, Index, ManyToOne, OptionalProps, Property } from '@mikro-orm/core';
import { User } from '../accounts/user.entity';
import { Channel } from '../channels/channel.entity';
import { Message } from '../messages/message.entity';

/** A pinned message (one row per message); a channel keeps at most MAX_PINS_PER_CHANNEL. */
@Entity({ tableName: 'message_pins' })
// Channel.pinnedMessages: newest pin first.
@Index({ properties: ['channel', 'pinnedAt'] })
export class MessagePin {
  [OptionalProps]?: 'pinnedAt';

  @ManyToOne(() => Message, { primary: true, deleteRule: 'cascade' })
  message!: Message;

  @ManyToOne(() => Channel, { deleteRule: 'cascade', index: false })
  channel!: Channel;

  /** Who pinned it (null once that account is gone). */
  @ManyToOne(() => User, { deleteRule: 'set null', nullable: true, index: false })
  pinnedBy!: User | null;

  @Property({ type: 'datetime', defaultRaw: 'clock_timestamp()' })
  pinnedAt: Date = new Date();
}
