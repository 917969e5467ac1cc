import { Entity, ManyToOne, OptionalProps, PrimaryKeyProp, Property } from '@mikro-orm/core';
import { User } from '../accounts/user.entity';
import { Channel } from './channel.entity';

/** A ban from a channel: no way back in (join, invitation, create-by-name) until `expiresAt` (null: until unbanned). */
@Entity({ tableName: 'channel_bans' })
export class ChannelBan {
  [OptionalProps]?: 'expiresAt' | 'reason' | 'bannedBy' | 'createdAt';

  [PrimaryKeyProp]?: ['channel', 'user'];

  @ManyToOne(() => Channel, { primary: true, deleteRule: 'cascade' })
  channel!: Channel;

  @ManyToOne(() => User, { primary: true, deleteRule: 'cascade' })
  user!: User;

  @Property({ type: 'datetime', nullable: true })
  expiresAt: Date | null = null;

  @Property({ type: 'text', nullable: true })
  reason: string | null = null;

  /** Kept as a plain id: the ban outlives the moderator's account. */
  @Property({ type: 'uuid', nullable: true })
  bannedBy: string | null = null;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
