import { randomUUID } from 'node:crypto';
import { BigIntType, Entity, Index, ManyToOne, OptionalProps, PrimaryKey, PrimaryKeyProp, Property, Unique } from '@mikro-orm/core';
import { User } from '../accounts/user.entity';
import { Channel } from '../channels/channel.entity';

@Entity({ tableName: 'messages' })
// Keyset pagination and replay run on (channel, seq); the unique index is that index.
@Unique({ properties: ['channel', 'seq'] })
// Idempotent sends: one message per author and client key (NULL keys never collide).
@Unique({ properties: ['channel', 'author', 'clientMessageId'] })
// Search (src/search/): built CONCURRENTLY by migrations 20261201191500 and 20261202150000.
@Index({ name: 'messages_body_search_vector_index', expression: 'create index "messages_body_search_vector_index" on "messages" using gin (body_search)' })
@Index({ name: 'messages_created_at_id_index', expression: 'create index "messages_created_at_id_index" on "messages" (created_at desc, id desc)' })
export class Message {
  [OptionalProps]?: 'body' | 'clientMessageId' | 'createdAt' | 'editedAt' | 'deletedAt' | 'upvotes' | 'downvotes';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => Channel, { deleteRule: 'cascade', index: false })
  channel!: Channel;

  /** Per-channel, gapless, strictly increasing in commit order. */
  @Property({ type: new BigIntType('number') })
  seq!: number;

  @ManyToOne(() => User, { deleteRule: 'cascade', index: false })
  author!: User;

  /** Null once deleted (a tombstone). */
  @Property({ type: 'text', nullable: true })
  body: string | null = null;

  /** to_tsvector('english', body), kept by the trigger messages_body_search_fill (migration 20261202150000); never read by the app. */
  @Property({ columnType: 'tsvector', nullable: true, lazy: true, hidden: true })
  bodySearch?: string | null;

  @Property({ type: 'text', nullable: true })
  clientMessageId: string | null = null;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', nullable: true })
  editedAt: Date | null = null;

  @Property({ type: 'datetime', nullable: true })
  deletedAt: Date | null = null;

  @Property({ type: 'integer', default: 0 })
  upvotes: number = 0;

  @Property({ type: 'integer', default: 0 })
  downvotes: number = 0;
}

@Entity({ tableName: 'votes' })
@Index({ properties: ['user'] })
export class Vote {
  [PrimaryKeyProp]?: ['message', 'user'];

  @ManyToOne(() => Message, { primary: true, deleteRule: 'cascade' })
  message!: Message;

  @ManyToOne(() => User, { primary: true, deleteRule: 'cascade' })
  user!: User;

  /** 1 for UP, -1 for DOWN; clearing a vote deletes the row. */
  @Property({ type: 'smallint' })
  value!: number;
}
