import { BigIntType, Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKeyProp, Property } from '@mikro-orm/core';
import { User } from '../accounts/user.entity';
import { Channel } from './channel.entity';

export enum MemberRole {
  OWNER = 'OWNER',
  MODERATOR = 'MODERATOR',
  MEMBER = 'MEMBER',
}

@Entity({ tableName: 'memberships' })
@Index({ properties: ['user', 'channel'] })
export class Membership {
  [OptionalProps]?: 'role' | 'joinedAt' | 'lastReadSeq' | 'lastReadAt' | 'mutedUntil' | 'lastSentAt';

  [PrimaryKeyProp]?: ['channel', 'user'];

  @ManyToOne(() => Channel, { primary: true, deleteRule: 'cascade' })
  channel!: Channel;

  @ManyToOne(() => User, { primary: true, deleteRule: 'cascade' })
  user!: User;

  @Enum({ items: () => MemberRole, type: 'text' })
  role: MemberRole = MemberRole.MEMBER;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  joinedAt: Date = new Date();

  /** The viewer's read marker: the sequence number of the last message read. */
  @Property({ type: new BigIntType('number'), default: 0 })
  lastReadSeq: number = 0;

  /** When the read marker last moved forward (read receipts order readers by it). */
  @Property({ type: 'datetime', nullable: true })
  lastReadAt: Date | null = null;

  /** A timeout (muteInChannel): no sending, voting... until then. Read by send_messages with the membership. */
  @Property({ type: 'datetime', nullable: true })
  mutedUntil: Date | null = null;

  /** The member's last send while the channel had slow mode (send_messages keeps it). */
  @Property({ type: 'datetime', nullable: true })
  lastSentAt: Date | null = null;
}
