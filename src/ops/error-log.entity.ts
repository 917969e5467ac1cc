import { randomUUID } from 'node:crypto';
import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

/** Unexpected errors, as the design notes keep them; `id` is the errorId clients see. */
@Entity({ tableName: 'error_log' })
export class ErrorLogEntry {
  [OptionalProps]?: 'at' | 'operation' | 'userId' | 'requestId' | 'stack';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  at: Date = new Date();

  @Property({ type: 'text', nullable: true })
  operation: string | null = null;

  @Property({ type: 'uuid', nullable: true })
  userId: string | null = null;

  @Property({ type: 'text', nullable: true })
  requestId: string | null = null;

  @Property({ type: 'text' })
  message!: string;

  @Property({ type: 'text', nullable: true })
  stack: string | null = null;
}
