import { randomUUID } from 'node:crypto';
import { BigIntType, Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { User } from '../accounts/user.entity';

export enum ChannelKind {
  PUBLIC = 'PUBLIC',
  PRIVATE = 'PRIVATE',
  DIRECT = 'DIRECT',
}

/** The channel every new user joins. */
export const DEFAULT_CHANNEL_NAME = 'public';

@Entity({ tableName: 'channels' })
// channels(search:) substring LIKE (pg_trgm); built CONCURRENTLY by migration 20261201191500.
@Index({ name: 'channels_name_trgm_index', expression: 'create index "channels_name_trgm_index" on "channels" using gin (name gin_trgm_ops)' })
export class Channel {
  [OptionalProps]?: 'description' | 'kind' | 'owner' | 'lastSeq' | 'memberCount' | 'createdAt' | 'updatedAt' | 'lastActivityAt' | 'slowModeSeconds';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  /**
   * Lowercase, unique across all channels. DIRECT channels store `dm:<userId>:<userId>`
   * (smaller id first): the colon cannot appear in a chosen name, so the same unique
   * index also makes "one direct channel per pair" a constraint.
   */
  @Property({ type: 'text', unique: true })
  name!: string;

  @Property({ type: 'text', nullable: true })
  description: string | null = null;

  @Enum({ items: () => ChannelKind, type: 'text' })
  kind: ChannelKind = ChannelKind.PUBLIC;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null', index: false })
  owner: User | null = null;

  /** Sequence number of the newest message; senders increment it under the row lock. */
  @Property({ type: new BigIntType('number'), default: 0 })
  lastSeq: number = 0;

  @Property({ type: 'integer', default: 0 })
  memberCount: number = 0;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();

  /** Time of the newest message (or creation): orders myChannels. */
  @Property({ type: 'datetime', defaultRaw: 'now()' })
  lastActivityAt: Date = new Date();

  /** Slow mode: a MEMBER sends at most one message per this many seconds (0: off). */
  @Property({ type: 'integer', default: 0 })
  slowModeSeconds: number = 0;
}
