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
// Channel history lists only messages that are not thread replies, and a thread lists its
// replies: each walks its own partial index (built CONCURRENTLY by migration 20261202100100).
@Index({ name: 'messages_channel_top_level_index', expression: 'create index "messages_channel_top_level_index" on "messages" (channel_id, seq) where thread_root_id is null' })
@Index({ name: 'messages_thread_replies_index', expression: 'create index "messages_thread_replies_index" on "messages" (thread_root_id, seq) where thread_root_id is not null' })
export class Message {
  [OptionalProps]?: 'body' | 'clientMessageId' | 'createdAt' | 'editedAt' | 'deletedAt' | 'upvotes' | 'downvotes' | 'threadRoot';

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

  /** Set on thread replies: the thread's root message (threads are flat: never a reply). */
  @ManyToOne(() => Message, { nullable: true, deleteRule: 'cascade', index: false })
  threadRoot: Message | null = null;
}

/** Earlier bodies of a message (edit history): one row per edit, kept until the message is deleted. */
@Entity({ tableName: 'message_edits' })
@Index({ properties: ['message', 'id'] })
export class MessageEdit {
  [OptionalProps]?: 'editedAt';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @ManyToOne(() => Message, { deleteRule: 'cascade', index: false })
  message!: Message;

  /** The body before this edit. */
  @Property({ type: 'text' })
  body!: string;

  /** When this body was replaced. */
  @Property({ type: 'datetime', defaultRaw: 'now()' })
  editedAt: Date = new Date();
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
