import { BigIntType, Entity, Index, ManyToOne, OptionalProps, PrimaryKeyProp, Property } from '@mikro-orm/core';
import { User } from '../accounts/user.entity';
import { Channel } from '../channels/channel.entity';
import { Message } from '../messages/message.entity';

/**
 * A thread's summary, one row per root message from its first reply or first follower on.
 * send_messages (the migrations) keeps it in the transaction of every reply.
 */
@Entity({ tableName: 'threads' })
export class Thread {
  [OptionalProps]?: 'replyCount' | 'lastReplyAt' | 'lastReplySeq' | 'activityAt';

  @ManyToOne(() => Message, { primary: true, deleteRule: 'cascade' })
  root!: Message;

  @ManyToOne(() => Channel, { deleteRule: 'cascade', index: false })
  channel!: Channel;

  @Property({ type: 'integer', default: 0 })
  replyCount: number = 0;

  @Property({ type: 'datetime', nullable: true })
  lastReplyAt: Date | null = null;

  /** The channel seq of the newest reply (0: none yet): unread counts compare read markers with it. */
  @Property({ type: new BigIntType('number'), default: 0 })
  lastReplySeq: number = 0;

  /** The newest reply's time, or when the thread got its first follower: myThreads' order. */
  @Property({ type: 'datetime', defaultRaw: 'now()' })
  activityAt: Date = new Date();
}

/** Who replied in a thread, with their latest reply (Thread.participants, newest first). */
@Entity({ tableName: 'thread_participants' })
@Index({ properties: ['root', 'lastReplySeq'] })
export class ThreadParticipant {
  [PrimaryKeyProp]?: ['root', 'user'];

  @ManyToOne(() => Message, { primary: true, deleteRule: 'cascade', index: false })
  root!: Message;

  @ManyToOne(() => User, { primary: true, deleteRule: 'cascade' })
  user!: User;

  @Property({ type: new BigIntType('number') })
  lastReplySeq!: number;
}

/** A user's relation to a thread: whether they follow it, and their read marker in it. */
@Entity({ tableName: 'thread_follows' })
@Index({ properties: ['root'] })
export class ThreadFollow {
  [OptionalProps]?: 'following' | 'readSeq';

  [PrimaryKeyProp]?: ['user', 'root'];

  @ManyToOne(() => User, { primary: true, deleteRule: 'cascade' })
  user!: User;

  @ManyToOne(() => Message, { primary: true, deleteRule: 'cascade' })
  root!: Message;

  @Property({ type: 'boolean', default: true })
  following: boolean = true;

  /** The channel seq of the last reply the user has read in this thread (0: none). */
  @Property({ type: new BigIntType('number'), default: 0 })
  readSeq: number = 0;
}
