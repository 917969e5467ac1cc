import { randomUUID } from 'node:crypto';
import { Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

@Entity({ tableName: 'users' })
// users(search:) prefix LIKEs; built CONCURRENTLY by migration 20261201191500.
@Index({ name: 'users_username_key_prefix_index', expression: 'create index "users_username_key_prefix_index" on "users" (username_key text_pattern_ops)' })
@Index({ name: 'users_display_name_prefix_index', expression: 'create index "users_display_name_prefix_index" on "users" (lower(display_name) text_pattern_ops)' })
export class User {
  [OptionalProps]?: 'createdAt' | 'updatedAt' | 'bio' | 'shareReadReceipts';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  /** Stored lowercase. */
  @Property({ type: 'text', unique: true })
  email!: string;

  @Property({ type: 'text' })
  username!: string;

  /** `username` lowercased: usernames are unique case-insensitively. */
  @Property({ type: 'text', unique: true })
  usernameKey!: string;

  @Property({ type: 'text' })
  displayName!: string;

  @Property({ type: 'text', nullable: true })
  bio: string | null = null;

  /** Read receipts (src/attention): false keeps the user out of everyone's `seenBy` and MessagesSeen. */
  @Property({ type: 'boolean', default: true })
  shareReadReceipts: boolean = true;

  @Property({ type: 'text', lazy: true, hidden: true })
  passwordHash!: string;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
