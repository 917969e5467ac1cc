import { randomUUID } from 'node:crypto';
import { Entity, Index, ManyToOne, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { User } from '../accounts/user.entity';
import { Channel } from '../channels/channel.entity';
import { Message } from './message.entity';

/** A reader's report on a message, until an owner or moderator resolves (removes) it. */
@Entity({ tableName: 'message_reports' })
@Unique({ properties: ['message', 'reporter'] })
@Index({ properties: ['channel', 'createdAt', 'id'] })
export class MessageReport {
  [OptionalProps]?: 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => Message, { deleteRule: 'cascade', index: false })
  message!: Message;

  @ManyToOne(() => Channel, { deleteRule: 'cascade', index: false })
  channel!: Channel;

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  reporter!: User;

  @Property({ type: 'text' })
  reason!: string;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
